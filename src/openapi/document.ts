/**
 * The OpenAPI 3.1 document, generated from the model. Schemas come from core/schemas.ts, the same
 * derivation that validates requests and serialises responses.
 */
import { ERRORS, type ErrorCode } from '../core/errors.js';
import { idSchema, inputSchema, type JsonSchema, outputSchema, schemaName } from '../core/schemas.js';
import type { Model, Resource } from '../model/ir.js';
import { operatorsFor } from '../rest/query-values.js';
import { PAGE_SCHEMA } from '../rest/serializers.js';
import { exampleRecord } from './examples.js';

export interface DocumentOptions {
  readonly title: string;
  readonly version: string;
  readonly prefix: string;
  readonly publicUrl: string;
  readonly defaultLimit: number;
  readonly maxLimit: number;
  readonly bulkMaxItems: number;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const resourceRef = (r: Resource) => `#/components/schemas/${schemaName(r)}`;
const problem = (code: ErrorCode) => ({ $ref: `#/components/responses/${code}` });

/**
 * Error responses of an operation, by status. Codes sharing a status are listed together in one
 * response (OpenAPI allows one per status); every operation can also fail with 500 and 503.
 */
function errors(...codes: ErrorCode[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...codes, 'KILN_INTERNAL', 'KILN_DATABASE_UNAVAILABLE'] as ErrorCode[]) {
    const status = ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      list.length === 1
        ? problem(list[0] as ErrorCode)
        : {
            description: list.map((c) => `\`${c}\`: ${ERRORS[c].title}.`).join(' '),
            content: { 'application/problem+json': { schema: ref('Problem') } },
          },
    ]),
  );
}
const JSON_MEDIA = 'application/json';

export function buildOpenApi(model: Model, options: DocumentOptions): JsonSchema {
  const schemas: Record<string, JsonSchema> = { Problem: problemSchema(), Page: PAGE_SCHEMA };
  const paths: Record<string, JsonSchema> = {};
  for (const r of model.resources) {
    schemas[schemaName(r)] = outputSchema(model, r, resourceRef);
    for (const variant of ['Create', 'Update', 'Replace'] as const) schemas[schemaName(r, variant)] = inputSchema(model, r, variant, idSchema);
    Object.assign(paths, resourcePaths(r, options));
  }
  return {
    openapi: '3.1.0',
    info: {
      title: options.title,
      version: options.version,
      description: `REST API served by Kiln. Lists use the query grammar described on each list operation; errors are RFC 9457 problem details.`,
      contact: { name: 'API operator', url: 'https://kiln.dev' },
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: options.publicUrl || '/', description: 'This server' }],
    tags: model.resources.map((r) => ({ name: r.name, description: r.description ?? `Operations on ${r.name}.` })),
    paths,
    components: {
      schemas,
      responses: problemResponses(),
      parameters: sharedParameters(options),
      headers: { ETag: { description: 'Version of the representation; send it back in If-None-Match or If-Match.', schema: { type: 'string' } } },
    },
  };
}

function resourcePaths(r: Resource, options: DocumentOptions): Record<string, JsonSchema> {
  const base = `${options.prefix}/${r.path}`;
  const name = schemaName(r);
  const readExample = exampleRecord(r, 'read');
  const writeExample = exampleRecord(r, 'write');
  const content = (schema: JsonSchema, example?: unknown) => ({
    [JSON_MEDIA]: example === undefined ? { schema } : { schema, example },
  });
  const one = (description: string, headers: JsonSchema = {}) => ({
    description,
    headers: { ETag: { $ref: '#/components/headers/ETag' }, ...headers },
    content: content({ type: 'object', properties: { data: ref(name) }, required: ['data'] }, readExample && { data: readExample }),
  });
  const body = (variant: 'Create' | 'Update' | 'Replace') => ({
    required: true,
    content: content(ref(schemaName(r, variant)), writeExample),
  });
  const idParam = {
    name: 'id',
    in: 'path',
    required: true,
    description: `Id of the ${r.name} record.`,
    schema: idSchema(r),
  };
  const tag = [r.name];
  return {
    [base]: {
      get: {
        operationId: `list${name}`,
        tags: tag,
        summary: `List ${r.name}`,
        description: listDescription(r, options),
        parameters: [...listParameters(r), ...filterParameters(r)],
        responses: {
          200: {
            description: `A page of ${r.name}.`,
            headers: { ETag: { $ref: '#/components/headers/ETag' } },
            content: content(
              { type: 'object', properties: { data: { type: 'array', items: ref(name) }, page: ref('Page') }, required: ['data', 'page'] },
              readExample && { data: [readExample], page: { limit: options.defaultLimit, hasMore: false, nextCursor: null } },
            ),
          },
          304: { description: 'Not modified (If-None-Match matched).' },
          ...errors('KILN_QUERY_INVALID', 'KILN_CURSOR_INVALID', 'KILN_DATABASE_TIMEOUT'),
        },
      },
      post: {
        operationId: `create${name}`,
        tags: tag,
        summary: `Create a ${r.name} record`,
        description: 'Returns 201 with the record and its Location. With an Idempotency-Key, a retry replays the first response instead of creating twice.',
        parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
        requestBody: body('Create'),
        responses: {
          201: one('Created.', { Location: { description: 'URL of the new record.', schema: { type: 'string' } } }),
          ...errors('KILN_VALIDATION_FAILED', 'KILN_UNIQUE_VIOLATION', 'KILN_BODY_TOO_LARGE', 'KILN_UNSUPPORTED_MEDIA_TYPE', 'KILN_REFERENCE_NOT_FOUND'),
        },
      },
    },
    [`${base}/bulk`]: {
      post: {
        operationId: `createMany${name}`,
        tags: tag,
        summary: `Create many ${r.name} records`,
        description: `Creates 1 to ${options.bulkMaxItems} records in one transaction: all of them, or none. Validation errors point into the array (\`/3/title\`).`,
        parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
        requestBody: {
          required: true,
          content: content({ type: 'array', items: ref(schemaName(r, 'Create')), minItems: 1, maxItems: options.bulkMaxItems }, writeExample && [writeExample]),
        },
        responses: {
          201: {
            description: 'All records were created.',
            content: content(
              { type: 'object', properties: { data: { type: 'array', items: ref(name) } }, required: ['data'] },
              readExample && { data: [readExample] },
            ),
          },
          ...errors('KILN_VALIDATION_FAILED', 'KILN_UNIQUE_VIOLATION', 'KILN_BODY_TOO_LARGE', 'KILN_UNSUPPORTED_MEDIA_TYPE', 'KILN_REFERENCE_NOT_FOUND'),
        },
      },
    },
    [`${base}/{id}`]: {
      parameters: [idParam],
      get: {
        operationId: `get${name}`,
        tags: tag,
        summary: `Get one ${r.name} record`,
        description: 'Accepts `fields` and `include` like the list. Answers 304 when If-None-Match matches the ETag.',
        parameters: listParameters(r).filter((p) => ['fields', 'include'].includes(String(p.name))),
        responses: { 200: one('The record.'), 304: { description: 'Not modified.' }, ...errors('KILN_PATH_INVALID', 'KILN_QUERY_INVALID', 'KILN_NOT_FOUND') },
      },
      patch: {
        operationId: `update${name}`,
        tags: tag,
        summary: `Update some fields of a ${r.name} record`,
        description: 'Only the fields sent change. With If-Match, refused with 412 when the record changed since it was read.',
        parameters: [{ $ref: '#/components/parameters/IfMatch' }],
        requestBody: body('Update'),
        responses: {
          200: one('The updated record.'),
          ...errors(
            'KILN_VALIDATION_FAILED',
            'KILN_NOT_FOUND',
            'KILN_UNIQUE_VIOLATION',
            'KILN_PRECONDITION_FAILED',
            'KILN_UNSUPPORTED_MEDIA_TYPE',
            'KILN_REFERENCE_NOT_FOUND',
          ),
        },
      },
      put: {
        operationId: `replace${name}`,
        tags: tag,
        summary: `Replace a ${r.name} record`,
        description: 'Every writable field takes the value sent, or its default when left out. Honours If-Match like PATCH.',
        parameters: [{ $ref: '#/components/parameters/IfMatch' }],
        requestBody: body('Replace'),
        responses: {
          200: one('The replaced record.'),
          ...errors(
            'KILN_VALIDATION_FAILED',
            'KILN_NOT_FOUND',
            'KILN_UNIQUE_VIOLATION',
            'KILN_PRECONDITION_FAILED',
            'KILN_UNSUPPORTED_MEDIA_TYPE',
            'KILN_REFERENCE_NOT_FOUND',
          ),
        },
      },
      delete: {
        operationId: `delete${name}`,
        tags: tag,
        summary: `Delete a ${r.name} record`,
        description: 'Answers 204. Refused with 409 while other records reference it through a restrict relation.',
        parameters: [{ $ref: '#/components/parameters/IfMatch' }],
        responses: { 204: { description: 'Deleted.' }, ...errors('KILN_PATH_INVALID', 'KILN_NOT_FOUND', 'KILN_REFERENCE_IN_USE', 'KILN_PRECONDITION_FAILED') },
      },
    },
  };
}

function listDescription(r: Resource, options: DocumentOptions): string {
  const filterable = r.fields.filter((f) => !f.hidden).map((f) => `\`${f.name}\` (${operatorsFor(f).join(', ')})`);
  return [
    `Filters: \`field=value\` or \`field[operator]=value\`; through a belongsTo relation with \`relation.field\`. Operators by field: ${filterable.join('; ')}.`,
    `Sort with \`sort=-createdAt,title\`. Pages are keyset-based: pass \`page.nextCursor\` as \`cursor\`. \`limit\` defaults to ${options.defaultLimit}, at most ${options.maxLimit}.`,
  ].join('\n\n');
}

function listParameters(r: Resource): JsonSchema[] {
  const relations = r.relations.map((rel) => rel.name);
  return [
    {
      name: 'fields',
      in: 'query',
      required: false,
      description: `Comma-separated fields to return (id is always returned): ${r.fields
        .filter((f) => !f.hidden)
        .map((f) => f.name)
        .join(', ')}.`,
      schema: { type: 'string' },
    },
    ...(relations.length > 0
      ? [
          {
            name: 'include',
            in: 'query',
            required: false,
            description: `Comma-separated relations to embed, nested with dots (e.g. \`${relations[0]}\`): ${relations.join(', ')}.`,
            schema: { type: 'string' },
          },
        ]
      : [{ name: 'include', in: 'query', required: false, description: 'This resource has no relations to include.', schema: { type: 'string' } }]),
    { $ref: '#/components/parameters/sort' },
    { $ref: '#/components/parameters/limit' },
    { $ref: '#/components/parameters/cursor' },
    { $ref: '#/components/parameters/count' },
  ];
}

/** The plain `field=value` form of each filter; operators are described on the operation. */
function filterParameters(r: Resource): JsonSchema[] {
  return r.fields
    .filter((f) => !f.hidden && f.type !== 'json')
    .map((f) => ({
      name: f.name,
      in: 'query',
      required: false,
      description: `Equals. Other operators: \`${f.name}[op]\` with op in ${operatorsFor(f)
        .filter((o) => o !== 'eq')
        .join(', ')}.`,
      schema: { type: 'string' },
    }));
}

function sharedParameters(options: DocumentOptions): JsonSchema {
  return {
    sort: {
      name: 'sort',
      in: 'query',
      required: false,
      description: 'Comma-separated fields; a leading `-` sorts descending. The id breaks ties.',
      schema: { type: 'string' },
      example: '-createdAt',
    },
    limit: {
      name: 'limit',
      in: 'query',
      required: false,
      description: 'Rows per page.',
      schema: { type: 'integer', minimum: 1, maximum: options.maxLimit, default: options.defaultLimit },
    },
    cursor: { name: 'cursor', in: 'query', required: false, description: 'The `page.nextCursor` of the previous page.', schema: { type: 'string' } },
    count: {
      name: 'count',
      in: 'query',
      required: false,
      description: 'Also return `page.total`, the number of matching rows.',
      schema: { type: 'boolean', default: false },
    },
    IdempotencyKey: {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'A unique key; a retry with the same key and body replays the first response (24 h).',
      schema: { type: 'string', maxLength: 255 },
    },
    IfMatch: {
      name: 'If-Match',
      in: 'header',
      required: false,
      description: 'The ETag last read; the write is refused with 412 if the record changed since.',
      schema: { type: 'string' },
    },
  };
}

function problemSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'RFC 9457 problem details.',
    properties: {
      type: { type: 'string', format: 'uri' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string', enum: Object.keys(ERRORS) },
      instance: { type: 'string', description: 'The request id (also in X-Request-Id).' },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          properties: { path: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
          required: ['path', 'code', 'message'],
        },
      },
    },
    required: ['type', 'title', 'status', 'detail', 'code', 'instance'],
  };
}

function problemResponses(): JsonSchema {
  return Object.fromEntries(
    (Object.keys(ERRORS) as ErrorCode[]).map((code) => [
      code,
      {
        description: `${ERRORS[code].title}. ${ERRORS[code].fix}`,
        content: {
          'application/problem+json': {
            schema: ref('Problem'),
            example: {
              type: `https://kiln.dev/errors/${code}`,
              title: ERRORS[code].title,
              status: ERRORS[code].status,
              detail: ERRORS[code].title,
              code,
              instance: 'b3f1c2d4-1e2f-4a5b-9c8d-7e6f5a4b3c2d',
            },
          },
        },
      },
    ]),
  );
}
