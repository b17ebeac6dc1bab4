/**
 * Stage "serialize": records to JSON through serialisers compiled from the model's output schemas
 * (fast-json-stringify). They write only the properties a schema declares, so a hidden field cannot
 * reach a client even if a query returned it. The bytes' hash is the ETag, for every transport that
 * offers conditional requests.
 */
import crypto from 'node:crypto';
import fastJson from 'fast-json-stringify';
import type { Limits } from '../core/limits.js';
import type { Page, Row } from '../core/query.js';
import { type JsonSchema, outputSchema, pageSchema, schemaName } from '../core/schemas.js';
import type { Model, Resource } from '../model/ir.js';

type Stringify<T> = (value: T) => string;

export interface ResourceSerializers {
  readonly one: Stringify<{ data: Row }>;
  readonly many: Stringify<{ data: Row[] }>;
  readonly page: Stringify<{ data: Row[]; page: Page }>;
}

/**
 * Serialisers of every resource of a model, compiled once (they share the resources' schemas).
 *
 * The output schema writes a belongsTo include as `anyOf: [record, null]`, which is the clearest
 * form for the OpenAPI document; fast-json-stringify picks an `anyOf` branch by running an Ajv
 * validator over the value on every call (formats included: about 1.7 µs per included record). The
 * serialisers get the same meaning in the form it writes with a type check: a reference to the
 * record's schema with `type: ['object', 'null']`.
 */
export function compileSerializers(model: Model, limits: Limits): ReadonlyMap<string, ResourceSerializers> {
  const ref = (r: Resource) => `${schemaName(r)}#`;
  const orNull = (r: Resource) => `${schemaName(r)}OrNull#`;
  const externals: Record<string, JsonSchema> = {};
  for (const r of model.resources) {
    const schema = withNullableReferences(outputSchema(model, r, ref, limits), r, orNull, model);
    externals[schemaName(r)] = { $id: schemaName(r), ...schema };
    externals[`${schemaName(r)}OrNull`] = { $id: `${schemaName(r)}OrNull`, ...schema, type: ['object', 'null'] };
  }
  const page = pageSchema(limits.pageMaxLimit);
  const byResource = new Map<string, ResourceSerializers>();
  for (const r of model.resources) {
    const item = { $ref: ref(r) };
    const compile = <T>(properties: JsonSchema): Stringify<T> =>
      fastJson({ type: 'object', properties, additionalProperties: false } as Parameters<typeof fastJson>[0], { schema: externals as never }) as Stringify<T>;
    byResource.set(r.name, {
      one: compile({ data: item }),
      many: compile({ data: { type: 'array', items: item } }),
      page: compile({ data: { type: 'array', items: item }, page }),
    });
  }
  return byResource;
}

/**
 * `anyOf: [{ $ref: X }, { type: 'null' }]` properties (belongsTo includes) → `{ $ref: XOrNull }`,
 * except on a cycle of belongsTo relations (a note answering a note): fast-json-stringify writes a
 * `type: ['object', 'null']` schema inline, so one that reaches itself that way would be written
 * inline forever; a plain `$ref` it compiles once.
 */
function withNullableReferences(schema: JsonSchema, resource: Resource, orNull: (r: Resource) => string, model: Model): JsonSchema {
  const properties = { ...(schema.properties as Record<string, JsonSchema>) };
  for (const relation of resource.relations) {
    const property = properties[relation.name];
    if (relation.kind !== 'belongsTo' || !property?.anyOf) continue;
    const target = model.resourcesByName.get(relation.target) as Resource;
    if (reachesThroughBelongsTo(model, target, resource)) continue;
    properties[relation.name] = { description: property.description, $ref: orNull(target) };
  }
  return { ...schema, properties };
}

/** Whether `to` is `from` or is reached from it by following belongsTo relations. */
function reachesThroughBelongsTo(model: Model, from: Resource, to: Resource): boolean {
  const seen = new Set<string>();
  const visit = (r: Resource): boolean => {
    if (r === to) return true;
    if (seen.has(r.name)) return false;
    seen.add(r.name);
    return r.relations.some((rel) => rel.kind === 'belongsTo' && visit(model.resourcesByName.get(rel.target) as Resource));
  };
  return visit(from);
}

/** SHA-1 in base64url. `crypto.hash` (Node ≥ 20.12) digests in one call, without a Hash object. */
const sha1: (body: string | Buffer) => string =
  typeof crypto.hash === 'function' ? (body) => crypto.hash('sha1', body, 'base64url') : (body) => crypto.createHash('sha1').update(body).digest('base64url');

/** A strong ETag of a serialised representation: equal bytes, equal tag. */
export function etagOf(body: string | Buffer): string {
  return `"${sha1(body)}"`;
}

function tags(header: string): string[] {
  return header
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const bare = etag.replace(/^W\//, '');
  return tags(header).some((t) => t === '*' || t.replace(/^W\//, '') === bare);
}

/** If-Match uses the strong comparison (RFC 9110 §13.1.1): weak tags never match. */
export function ifMatch(header: string, etag: string): boolean {
  return tags(header).some((t) => t === '*' || t === etag);
}
