/**
 * The generated routes of one resource as OpenAPI path items: list and create, bulk create, and get,
 * update, replace and delete by id; each with its parameters, bodies, answers and access (access.ts).
 */
import type { ErrorCode } from '../core/errors.js';
import { filterValueMaxLength } from '../core/limits.js';
import { idSchema, type JsonSchema } from '../core/schemas.js';
import type { AccessOperation, ColumnField, Resource } from '../model/ir.js';
import { toPascalCase } from '../model/naming.js';
import type { OperationAccess } from './access.js';
import type { DocumentOptions } from './document.js';
import { exampleRecord } from './examples.js';
import { listDescription, listParameters, selectionParameters } from './parameters.js';
import { readItem } from './read-schemas.js';
import { BODY, header } from './responses.js';
import type { SchemaNames } from './schema-names.js';
import { pluralPhrase, summaries } from './wording.js';

const JSON_MEDIA = 'application/json';
const WRITE: readonly ErrorCode[] = [...BODY, 'KILN_QUERY_INVALID', 'KILN_UNIQUE_VIOLATION', 'KILN_REFERENCE_NOT_FOUND'];
const CREATE: readonly ErrorCode[] = [...WRITE, 'KILN_HEADER_INVALID', 'KILN_IDEMPOTENCY_IN_PROGRESS', 'KILN_IDEMPOTENCY_KEY_REUSED'];
const CHANGE: readonly ErrorCode[] = [...WRITE, 'KILN_PATH_INVALID', 'KILN_NOT_FOUND', 'KILN_PRECONDITION_FAILED'];

export interface Builders {
  readonly names: SchemaNames;
  /** What an operation of the resource requires (access.ts): its 401/403 answers, security and `x-kiln-access`. */
  readonly access: (operation: AccessOperation) => OperationAccess;
  readonly operationId: (base: string) => string;
}

export function resourcePaths(r: Resource, { names, access, operationId }: Builders, options: DocumentOptions): Record<string, JsonSchema> {
  const { limits } = options;
  // Bulk create follows the create rule; PATCH and PUT the update rule.
  const [listing, creating, reading, updating, deleting] = [access('list'), access('create'), access('read'), access('update'), access('delete')];
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
      get: listing.decorate({
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
          ...listing.errors.for(['KILN_QUERY_INVALID', 'KILN_CURSOR_INVALID']),
        },
      }),
      post: creating.decorate({
        operationId: operationId(`create${name}`),
        tags,
        summary: summary.create,
        description:
          'Returns 201 with the record, its ETag and Location. With an Idempotency-Key, a retry replays the first response instead of creating twice.',
        parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
        requestBody: body('Create'),
        responses: {
          201: one('Created.', { Location: location, 'Idempotent-Replayed': header('IdempotentReplayed') }),
          ...creating.errors.for(CREATE),
        },
      }),
    },
    [`${base}/bulk`]: {
      post: creating.decorate({
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
          ...creating.errors.for(CREATE),
        },
      }),
    },
    [`${base}/{id}`]: {
      parameters: [idParam],
      get: reading.decorate({
        operationId: operationId(`get${name}`),
        tags,
        summary: summary.get,
        description: 'Accepts `fields` and `include` like the list. Answers 304 when If-None-Match matches the ETag.',
        parameters: [...selectionParameters(r, limits, shapes), { $ref: '#/components/parameters/IfNoneMatch' }],
        responses: {
          200: one('The record.', {}, readOne),
          304: notModified,
          ...reading.errors.for(['KILN_PATH_INVALID', 'KILN_QUERY_INVALID', 'KILN_NOT_FOUND']),
        },
      }),
      patch: updating.decorate({
        operationId: operationId(`update${name}`),
        tags,
        summary: summary.update,
        description: 'Only the fields sent change. With If-Match, refused with 412 when the record changed since it was read.',
        parameters: [{ $ref: '#/components/parameters/IfMatch' }],
        requestBody: body('Update'),
        responses: { 200: one('The updated record.'), ...updating.errors.for(CHANGE) },
      }),
      put: updating.decorate({
        operationId: operationId(`replace${name}`),
        tags,
        summary: summary.replace,
        description: 'Every writable field takes the value sent, or its default when left out. Honours If-Match like PATCH.',
        parameters: [{ $ref: '#/components/parameters/IfMatch' }],
        requestBody: body('Replace'),
        responses: { 200: one('The replaced record.'), ...updating.errors.for(CHANGE) },
      }),
      delete: deleting.decorate({
        operationId: operationId(`delete${name}`),
        tags,
        summary: summary.delete,
        description: 'Answers 204. Refused with 409 while other records reference it through a restrict relation.',
        parameters: [{ $ref: '#/components/parameters/IfMatch' }],
        responses: {
          204: { description: 'Deleted.', headers: requestId },
          ...deleting.errors.for(['KILN_QUERY_INVALID', 'KILN_PATH_INVALID', 'KILN_NOT_FOUND', 'KILN_REFERENCE_IN_USE', 'KILN_PRECONDITION_FAILED']),
        },
      }),
    },
  };
}
