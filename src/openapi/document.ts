/**
 * The OpenAPI 3.1 document, generated from the model. Schemas come from core/schemas.ts, the same
 * derivation that validates requests and serialises responses; test/openapi lints the result with
 * Spectral and checks it against the routes the server really registers.
 */
import type { ErrorCode } from '../core/errors.js';
import { FIXED_LIMITS, filterValueMaxLength } from '../core/limits.js';
import { idSchema, inputSchema, type JsonSchema, outputSchema, pageSchema } from '../core/schemas.js';
import type { ColumnField, Model, Resource } from '../model/ir.js';
import { toPascalCase } from '../model/naming.js';
import { exampleRecord, fitsField } from './examples.js';
import { healthPaths, healthTag } from './health-paths.js';
import { listDescription, listParameters, type ParameterLimits, selectionParameters, sharedParameters } from './parameters.js';
import { BODY, ErrorResponses, HEADERS, header, problemSchema } from './responses.js';

/** Every bound the document states; the settings carry all of them under these names. */
export interface DocumentLimits extends ParameterLimits {
  /** Largest request body in bytes. */
  readonly bodyLimit: number;
}

export interface DocumentOptions {
  readonly title: string;
  readonly version: string;
  readonly prefix: string;
  readonly publicUrl: string;
  readonly limits: DocumentLimits;
}

type Variant = '' | 'Create' | 'Update' | 'Replace';
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
    const variants = ['', ...VARIANTS] as const;
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
  const errors = new ErrorResponses();
  const operationIds = new Set<string>();
  /** `createManyPosts` is both "createMany posts" and "create manyPosts": the second gets a number. */
  const operationId = (base: string) => {
    let id = base;
    for (let n = 2; operationIds.has(id); n++) id = `${base}${n}`;
    operationIds.add(id);
    return id;
  };
  const { limits } = options;
  const schemas: Record<string, JsonSchema> = { Problem: problemSchema(), Page: pageSchema(limits.pageMaxLimit) };
  const paths: Record<string, JsonSchema> = {};
  for (const r of model.resources) {
    schemas[names.of(r)] = outputSchema(model, r, (target) => names.ref(target).$ref, limits);
    for (const variant of VARIANTS) schemas[names.of(r, variant)] = inputSchema(model, r, variant, idSchema, limits);
    dropUnfitExamples(r, [names.of(r), ...VARIANTS.map((v) => names.of(r, v))], schemas, limits);
    Object.assign(paths, resourcePaths(r, { names, errors, operationId }, options));
  }
  const probes = healthTag(model.resources.map((r) => r.name));
  Object.assign(paths, healthPaths(errors, probes.name));
  return {
    openapi: '3.1.0',
    info: {
      title: options.title,
      version: options.version,
      description: [
        'REST API served by Kiln. Lists take the query grammar described on each list operation; errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.',
        'Every operation may also answer 405 `KILN_METHOD_NOT_ALLOWED` with `Allow` (a method its path does not serve), 408 `KILN_REQUEST_TIMEOUT`, 414 `KILN_URI_TOO_LONG` and 431 `KILN_HEADERS_TOO_LARGE`. Before a request reaches a route, the server may also answer 400 `KILN_BAD_REQUEST`; a path it does not serve answers 404 `KILN_ROUTE_NOT_FOUND`.',
        boundsInWords(limits),
      ].join('\n\n'),
      contact: { name: 'API operator', url: 'https://kiln.dev' },
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: options.publicUrl.replace(/\/+$/, '') || '/', description: 'This server' }],
    tags: [...model.resources.map((r) => ({ name: r.name, description: r.description ?? `Operations on ${r.name}.` })), probes],
    paths,
    components: {
      schemas,
      responses: errors.components(),
      parameters: sharedParameters(limits),
      headers: HEADERS,
    },
  };
}

/** The client-controlled bounds, stated once for the whole API (each operation repeats those it applies). */
function boundsInWords(limits: DocumentLimits): string {
  return [
    `Bounds: a request body is at most ${limits.bodyLimit} bytes (413 \`KILN_BODY_TOO_LARGE\` above) and nests arrays and objects at most ${FIXED_LIMITS.jsonDepth} levels deep;`,
    `a string or text field without a maxLength of its own holds at most ${limits.textMaxLength} characters;`,
    `a bulk create carries 1 to ${limits.bulkMaxItems} records;`,
    `a list page holds \`limit\` records (${limits.pageDefaultLimit} when not given, at most ${limits.pageMaxLimit});`,
    `\`include\` nests at most ${limits.includeMaxDepth} levels and embeds at most ${limits.includeLimit} records per parent for a hasMany or manyToMany (a parent with more lists the relation in \`_truncated\`);`,
    `a request whose page and includes could return more than ${limits.includeMaxRows} records at worst is refused with 400 \`KILN_QUERY_INVALID\` naming \`include\` or \`limit\`.`,
  ].join(' ');
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
  readonly errors: ErrorResponses;
  readonly operationId: (base: string) => string;
}

function resourcePaths(r: Resource, { names, errors, operationId }: Builders, options: DocumentOptions): Record<string, JsonSchema> {
  const { limits } = options;
  const base = `${options.prefix}/${r.path}`;
  const name = toPascalCase(r.name);
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
  const one = (description: string, headers: JsonSchema = {}) => ({
    description,
    headers: { ETag: header('ETag'), ...requestId, ...headers },
    content: content({ type: 'object', properties: { data: names.ref(r) }, required: ['data'], additionalProperties: false }, read && { data: read }),
  });
  const notModified = { description: 'Not modified: If-None-Match matched the ETag.', headers: { ETag: header('ETag'), ...requestId } };
  const body = (variant: 'Create' | 'Update' | 'Replace') => ({ description: bodyDescription, required: true, content: content(names.ref(r, variant), write) });
  const idParam = { name: 'id', in: 'path', required: true, description: `Id of the ${r.name} record.`, schema: idSchema(r) };
  const tags = [r.name];
  const page = { limit: limits.pageDefaultLimit, hasMore: false, nextCursor: null };
  return {
    [base]: {
      get: {
        operationId: operationId(`list${name}`),
        tags,
        summary: `List ${r.name}`,
        description: listDescription(r, limits),
        parameters: listParameters(r, limits),
        responses: {
          200: {
            description: `A page of ${r.name}.`,
            headers: { ETag: header('ETag'), ...requestId },
            content: content(
              {
                type: 'object',
                properties: { data: { type: 'array', items: names.ref(r), maxItems: limits.pageMaxLimit }, page: { $ref: '#/components/schemas/Page' } },
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
        summary: `Create a ${r.name} record`,
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
        summary: `Create many ${r.name} records`,
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
        summary: `Get one ${r.name} record`,
        description: 'Accepts `fields` and `include` like the list. Answers 304 when If-None-Match matches the ETag.',
        parameters: [...selectionParameters(r, limits), { $ref: '#/components/parameters/IfNoneMatch' }],
        responses: { 200: one('The record.'), 304: notModified, ...errors.for(['KILN_PATH_INVALID', 'KILN_QUERY_INVALID', 'KILN_NOT_FOUND']) },
      },
      patch: {
        operationId: operationId(`update${name}`),
        tags,
        summary: `Update some fields of a ${r.name} record`,
        description: 'Only the fields sent change. With If-Match, refused with 412 when the record changed since it was read.',
        parameters: [{ $ref: '#/components/parameters/IfMatch' }],
        requestBody: body('Update'),
        responses: { 200: one('The updated record.'), ...errors.for(CHANGE) },
      },
      put: {
        operationId: operationId(`replace${name}`),
        tags,
        summary: `Replace a ${r.name} record`,
        description: 'Every writable field takes the value sent, or its default when left out. Honours If-Match like PATCH.',
        parameters: [{ $ref: '#/components/parameters/IfMatch' }],
        requestBody: body('Replace'),
        responses: { 200: one('The replaced record.'), ...errors.for(CHANGE) },
      },
      delete: {
        operationId: operationId(`delete${name}`),
        tags,
        summary: `Delete a ${r.name} record`,
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
