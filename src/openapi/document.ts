/**
 * The OpenAPI 3.1 document, generated from the model. Schemas come from core/schemas.ts, the same
 * derivation that validates requests and serialises responses; test/openapi lints the result with
 * Spectral and checks it against the routes the server really registers.
 */
import type { ErrorCode } from '../core/errors.js';
import { filterValueMaxLength } from '../core/limits.js';
import { idSchema, inputSchema, type JsonSchema, outputSchema, pageSchema } from '../core/schemas.js';
import type { AnyRoute } from '../extensions/types.js';
import type { ColumnField, Model, Resource } from '../model/ir.js';
import { toPascalCase } from '../model/naming.js';
import { customPaths } from './custom-paths.js';
import { exampleRecord, fitsField } from './examples.js';
import { healthPaths, healthTag } from './health-paths.js';
import { infoObject } from './info.js';
import { listDescription, listParameters, type ParameterLimits, selectionParameters, sharedParameters } from './parameters.js';
import { readItem, readSchemas } from './read-schemas.js';
import { ANY_ROUTE, BODY, ErrorResponses, HEADERS, header, problemSchema } from './responses.js';
import { type SecuritySettings, secureOperations, securityRequirement, securitySchemes } from './security.js';
import { pluralPhrase, summaries } from './wording.js';

/** Every bound the document states; the settings carry all of them under these names. */
export interface DocumentLimits extends ParameterLimits {
  /** Largest request body in bytes. */
  readonly bodyLimit: number;
}

export interface DocumentOptions {
  /** Overrides the model's `api.title`. */
  readonly title?: string;
  /** Overrides the model's `api.version`. */
  readonly version?: string;
  readonly prefix: string;
  readonly publicUrl: string;
  /** KILN_PROBLEM_TYPE_BASE: the start of every problem `type` in the examples and the Problem schema. */
  readonly problemTypeBase: string;
  readonly limits: DocumentLimits;
  /** Custom routes served besides the generated ones (src/openapi/custom-paths.ts). */
  readonly routes?: readonly AnyRoute[];
  /** Path items of routes served outside the generated and custom ones, by full path. */
  readonly extraPaths?: Readonly<Record<string, JsonSchema>>;
  /** What the security schemes state (lifetimes, the cookie); without it the document declares none. */
  readonly security?: SecuritySettings;
  /** Routes among `routes` that are how a caller gets a credential (login, sign-up, …): public. */
  readonly publicRoutes?: readonly AnyRoute[];
}

/** What an API operation's responses are built with: ErrorResponses, with the codes every operation shares. */
type OperationErrors = Pick<ErrorResponses, 'for'>;

type Variant = '' | 'Create' | 'Update' | 'Replace' | 'Selection';
const VARIANTS = ['Create', 'Update', 'Replace'] as const;
const JSON_MEDIA = 'application/json';
const WRITE: readonly ErrorCode[] = [...BODY, 'KILN_QUERY_INVALID', 'KILN_UNIQUE_VIOLATION', 'KILN_REFERENCE_NOT_FOUND'];
const CREATE: readonly ErrorCode[] = [...WRITE, 'KILN_HEADER_INVALID', 'KILN_IDEMPOTENCY_IN_PROGRESS', 'KILN_IDEMPOTENCY_KEY_REUSED'];
const CHANGE: readonly ErrorCode[] = [...WRITE, 'KILN_PATH_INVALID', 'KILN_NOT_FOUND', 'KILN_PRECONDITION_FAILED'];

/**
 * Component schema names: Problem and Page first, then each resource's PascalCase name and its
 * variants. A resource whose names would take one already given (a resource `page`, or `postsCreate`
 * beside `posts`) gets a numbered stem (`Page2`, `Page2Create`, …), so no schema silently replaces another.
 */
class SchemaNames {
  readonly #names = new Map<string, string>();
  readonly #taken = new Set(['Problem', 'Page']);

  constructor(resources: readonly Resource[]) {
    const variants = ['', ...VARIANTS, 'Selection'] as const;
    for (const r of resources) {
      let stem = toPascalCase(r.name);
      for (let n = 2; variants.some((v) => this.#taken.has(`${stem}${v}`)); n++) stem = `${toPascalCase(r.name)}${n}`;
      for (const variant of variants) {
        this.#taken.add(`${stem}${variant}`);
        this.#names.set(`${r.name}:${variant}`, `${stem}${variant}`);
      }
    }
  }

  of(r: Resource, variant: Variant = ''): string {
    return this.#names.get(`${r.name}:${variant}`) as string;
  }

  ref(r: Resource, variant: Variant = ''): { $ref: string } {
    return { $ref: `#/components/schemas/${this.of(r, variant)}` };
  }
}

export function buildOpenApi(model: Model, options: DocumentOptions): JsonSchema {
  const names = new SchemaNames(model.resources);
  const errors = new ErrorResponses(options.problemTypeBase);
  const schemes = options.security && securitySchemes(model, options.security);
  // With authentication, a credential sent to any API operation is checked, and a bad one is a 401.
  const apiErrors: OperationErrors = schemes ? { for: (codes, always = ANY_ROUTE) => errors.for([...codes, 'KILN_UNAUTHENTICATED'], always) } : errors;
  const operationIds = new Set<string>();
  /** `createManyPosts` is both "createMany posts" and "create manyPosts": the second gets a number. */
  const operationId = (base: string) => {
    let id = base;
    for (let n = 2; operationIds.has(id); n++) id = `${base}${n}`;
    operationIds.add(id);
    return id;
  };
  const { limits } = options;
  const schemas: Record<string, JsonSchema> = { Problem: problemSchema(options.problemTypeBase), Page: pageSchema(limits.pageMaxLimit) };
  const paths: Record<string, JsonSchema> = {};
  for (const r of model.resources) {
    const read = readSchemas(
      r,
      outputSchema(model, r, (target) => names.ref(target).$ref, limits),
      names.of(r, 'Selection'),
    );
    schemas[names.of(r)] = read.full;
    for (const variant of VARIANTS) schemas[names.of(r, variant)] = inputSchema(model, r, variant, idSchema, limits);
    schemas[names.of(r, 'Selection')] = read.selection;
    dropUnfitExamples(r, [names.of(r), ...VARIANTS.map((v) => names.of(r, v)), names.of(r, 'Selection')], schemas, limits);
    const items = resourcePaths(r, { names, errors: apiErrors, operationId }, options);
    if (schemes) secureOperations(items, schemes, 'anyone');
    Object.assign(paths, items);
  }
  const recordRef = (name: string) => names.ref(model.resourcesByName.get(name) as Resource);
  // By method and path: the routes served are checked copies of the ones given (routesToServe).
  const publicRoutes = new Set((options.publicRoutes ?? []).map((r) => `${r.method} ${r.path}`));
  const access = (route: AnyRoute) => (route.authenticated ? 'signed-in' : publicRoutes.has(`${route.method} ${route.path}`) ? 'public' : 'anyone');
  const security = schemes && ((route: AnyRoute) => securityRequirement(schemes, access(route)));
  Object.assign(paths, customPaths(options.routes ?? [], { prefix: options.prefix, errors: apiErrors, operationId, recordRef, schemas, security }));
  const probes = healthTag(model.resources.map((r) => r.name));
  const health = healthPaths(errors, probes.name);
  Object.assign(paths, health);
  // Routes served outside the API prefix by authentication (/.well-known/jwks.json, redirects).
  const extra: Record<string, JsonSchema> = structuredClone({ ...options.extraPaths });
  for (const [path, item] of Object.entries(extra)) {
    // The answers the server gives on any route before running it (405, 408, 414, 431) apply to these too.
    for (const operation of Object.values(item)) {
      if (operation && typeof operation === 'object' && 'responses' in operation) {
        operation.responses = { ...errors.for([], []), ...(operation.responses as JsonSchema) };
      }
    }
    paths[path] = { ...(paths[path] as object), ...item };
  }
  // The probes and what authentication serves outside the prefix (the JWKS, the identity-provider redirects) need no credential.
  if (schemes) secureOperations({ ...health, ...extra }, schemes, 'public');
  return {
    openapi: '3.1.0',
    info: infoObject(model.api, options, limits),
    servers: [{ url: options.publicUrl.replace(/\/+$/, '') || '/', description: 'This server' }],
    tags: [
      ...model.resources.map((r) => ({ name: r.name, description: r.description ?? `Operations on ${pluralPhrase(r)}.` })),
      ...(usesTag(paths, AUTH_TAG.name) ? [AUTH_TAG] : []),
      probes,
    ],
    paths,
    components: {
      schemas,
      responses: errors.components(),
      parameters: sharedParameters(limits),
      headers: HEADERS,
      ...(schemes && { securitySchemes: schemes }),
    },
  };
}

/** The tag of authentication's routes (src/auth/*-routes.ts). */
const AUTH_TAG = { name: 'auth', description: 'Accounts: sign-up, sign-in with tokens or a session cookie, API keys, identity providers.' };

function usesTag(paths: Record<string, JsonSchema>, tag: string): boolean {
  return Object.values(paths).some((item) =>
    Object.values(item).some((op) => Array.isArray((op as JsonSchema | undefined)?.tags) && (op as { tags: string[] }).tags.includes(tag)),
  );
}

/** A field example the API would refuse is left out of the schemas rather than shown. */
function dropUnfitExamples(r: Resource, schemaNames: readonly string[], schemas: Record<string, JsonSchema>, limits: DocumentLimits): void {
  for (const field of r.fields) {
    if (field.example === undefined || fitsField(field, field.example, limits)) continue;
    for (const name of schemaNames) {
      const property = (schemas[name]?.properties as Record<string, JsonSchema> | undefined)?.[field.name];
      if (property) delete property.examples;
    }
  }
}

interface Builders {
  readonly names: SchemaNames;
  readonly errors: OperationErrors;
  readonly operationId: (base: string) => string;
}

function resourcePaths(r: Resource, { names, errors, operationId }: Builders, options: DocumentOptions): Record<string, JsonSchema> {
  const { limits } = options;
  const base = `${options.prefix}/${r.path}`;
  const name = toPascalCase(r.name);
  const summary = summaries(r);
  const shapes = { full: names.of(r), selection: names.of(r, 'Selection') };
  // A GET may carry `fields`: its records are either shape (read-schemas.ts). Write answers are always full.
  const readOne = readItem(names.ref(r), names.ref(r, 'Selection'));
  const read = exampleRecord(r, 'read', limits);
  const write = exampleRecord(r, 'write', limits);
  const idLength = filterValueMaxLength(r.fieldsByName.get('id') as ColumnField, limits.textMaxLength);
  const location = {
    description: 'Path of the new record.',
    schema: { type: 'string', format: 'uri-reference', maxLength: base.length + 1 + idLength },
  };
  const bodyDescription = `A JSON body of at most ${limits.bodyLimit} bytes (413 \`KILN_BODY_TOO_LARGE\` above).`;
  const content = (schema: JsonSchema, example?: unknown) => ({ [JSON_MEDIA]: example === undefined ? { schema } : { schema, example } });
  const requestId = { 'X-Request-Id': header('XRequestId') };
  const one = (description: string, headers: JsonSchema = {}, item: JsonSchema = names.ref(r)) => ({
    description,
    headers: { ETag: header('ETag'), ...requestId, ...headers },
    content: content({ type: 'object', properties: { data: item }, required: ['data'], additionalProperties: false }, read && { data: read }),
  });
  const notModified = { description: 'Not modified: If-None-Match matched the ETag.', headers: { ETag: header('ETag'), ...requestId } };
  const body = (variant: 'Create' | 'Update' | 'Replace') => ({ description: bodyDescription, required: true, content: content(names.ref(r, variant), write) });
  const idParam = { name: 'id', in: 'path', required: true, description: `Id of the ${r.singular}.`, schema: idSchema(r) };
  const tags = [r.name];
  const page = { limit: limits.pageDefaultLimit, hasMore: false, nextCursor: null };
  return {
    [base]: {
      get: {
        operationId: operationId(`list${name}`),
        tags,
        summary: summary.list,
        description: listDescription(r, limits),
        parameters: listParameters(r, limits, shapes),
        responses: {
          200: {
            description: `A page of ${pluralPhrase(r)}.`,
            headers: { ETag: header('ETag'), ...requestId },
            content: content(
              {
                type: 'object',
                properties: { data: { type: 'array', items: readOne, maxItems: limits.pageMaxLimit }, page: { $ref: '#/components/schemas/Page' } },
                required: ['data', 'page'],
                additionalProperties: false,
              },
              read && { data: [read], page },
            ),
          },
          304: notModified,
          ...errors.for(['KILN_QUERY_INVALID', 'KILN_CURSOR_INVALID']),
        },
      },
      post: {
        operationId: operationId(`create${name}`),
        tags,
        summary: summary.create,
        description:
          'Returns 201 with the record, its ETag and Location. With an Idempotency-Key, a retry replays the first response instead of creating twice.',
        parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
        requestBody: body('Create'),
        responses: {
          201: one('Created.', { Location: location, 'Idempotent-Replayed': header('IdempotentReplayed') }),
          ...errors.for(CREATE),
        },
      },
    },
    [`${base}/bulk`]: {
      post: {
        operationId: operationId(`createMany${name}`),
        tags,
        summary: summary.createMany,
        description: `Creates 1 to ${limits.bulkMaxItems} records in one transaction: all of them, or none. Validation errors point into the array (\`/3/title\`).`,
        parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
        requestBody: {
          description: bodyDescription,
          required: true,
          content: content({ type: 'array', items: names.ref(r, 'Create'), minItems: 1, maxItems: limits.bulkMaxItems }, write && [write]),
        },
        responses: {
          201: {
            description: 'All records were created, in the order sent.',
            headers: { ...requestId, 'Idempotent-Replayed': header('IdempotentReplayed') },
            content: content(
              {
                type: 'object',
                properties: { data: { type: 'array', items: names.ref(r), maxItems: limits.bulkMaxItems } },
                required: ['data'],
                additionalProperties: false,
              },
              read && { data: [read] },
            ),
          },
          ...errors.for(CREATE),
        },
      },
    },
    [`${base}/{id}`]: {
      parameters: [idParam],
      get: {
        operationId: operationId(`get${name}`),
        tags,
        summary: summary.get,
        description: 'Accepts `fields` and `include` like the list. Answers 304 when If-None-Match matches the ETag.',
        parameters: [...selectionParameters(r, limits, shapes), { $ref: '#/components/parameters/IfNoneMatch' }],
        responses: { 200: one('The record.', {}, readOne), 304: notModified, ...errors.for(['KILN_PATH_INVALID', 'KILN_QUERY_INVALID', 'KILN_NOT_FOUND']) },
      },
      patch: {
        operationId: operationId(`update${name}`),
        tags,
        summary: summary.update,
        description: 'Only the fields sent change. With If-Match, refused with 412 when the record changed since it was read.',
        parameters: [{ $ref: '#/components/parameters/IfMatch' }],
        requestBody: body('Update'),
        responses: { 200: one('The updated record.'), ...errors.for(CHANGE) },
      },
      put: {
        operationId: operationId(`replace${name}`),
        tags,
        summary: summary.replace,
        description: 'Every writable field takes the value sent, or its default when left out. Honours If-Match like PATCH.',
        parameters: [{ $ref: '#/components/parameters/IfMatch' }],
        requestBody: body('Replace'),
        responses: { 200: one('The replaced record.'), ...errors.for(CHANGE) },
      },
      delete: {
        operationId: operationId(`delete${name}`),
        tags,
        summary: summary.delete,
        description: 'Answers 204. Refused with 409 while other records reference it through a restrict relation.',
        parameters: [{ $ref: '#/components/parameters/IfMatch' }],
        responses: {
          204: { description: 'Deleted.', headers: requestId },
          ...errors.for(['KILN_QUERY_INVALID', 'KILN_PATH_INVALID', 'KILN_NOT_FOUND', 'KILN_REFERENCE_IN_USE', 'KILN_PRECONDITION_FAILED']),
        },
      },
    },
  };
}
