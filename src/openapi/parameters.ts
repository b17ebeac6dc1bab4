/** Query and header parameters of the OpenAPI document: the list grammar of rest/query-grammar.ts. */
import { BIGINT_PATTERN, DECIMAL_PATTERN, type JsonSchema } from '../core/schemas.js';
import type { ColumnField, Resource } from '../model/ir.js';
import { operatorsFor } from '../rest/query-values.js';

export interface ParameterLimits {
  readonly defaultLimit: number;
  readonly maxLimit: number;
}

const param = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** Readable fields: what `fields` selects and filters may name. */
function readable(r: Resource): ColumnField[] {
  return r.fields.filter((f) => !f.hidden);
}

/** `fields` and `include`, which a list and a single record both accept. */
export function selectionParameters(r: Resource): JsonSchema[] {
  const relations = r.relations.map((rel) => rel.name);
  const include =
    relations.length > 0
      ? `Comma-separated relations to embed, nested with dots up to 3 levels (e.g. \`${relations[0]}\`): ${relations.join(', ')}.`
      : 'This resource has no relations to include.';
  return [
    {
      name: 'fields',
      in: 'query',
      required: false,
      description: `Comma-separated fields to return (id is always returned): ${readable(r)
        .map((f) => f.name)
        .join(', ')}.`,
      schema: { type: 'string' },
    },
    { name: 'include', in: 'query', required: false, description: include, schema: { type: 'string' } },
  ];
}

export function listParameters(r: Resource): JsonSchema[] {
  const sortable = readable(r).filter((f) => f.type !== 'json');
  return [
    ...selectionParameters(r),
    {
      name: 'sort',
      in: 'query',
      required: false,
      description: `Comma-separated fields, at most 5; a leading \`-\` sorts descending, nulls sort last and the id breaks ties. Sortable: ${sortable
        .map((f) => f.name)
        .join(', ')}.`,
      schema: { type: 'string' },
      example: r.timestamps ? '-createdAt' : '-id',
    },
    param('limit'),
    param('cursor'),
    param('count'),
    param('IfNoneMatch'),
    ...filterParameters(r),
  ];
}

/** The plain `field=value` (equals) form of each filter; the other operators are described on the operation. */
function filterParameters(r: Resource): JsonSchema[] {
  return readable(r)
    .filter((f) => f.type !== 'json')
    .map((f) => {
      const others = operatorsFor(f).filter((o) => o !== 'eq');
      return {
        name: f.name,
        in: 'query',
        required: false,
        description: `Equals. Other operators: \`${f.name}[op]\` with op in ${others.join(', ')}.`,
        schema: filterValueSchema(f),
      };
    });
}

/** What one query-string value of a filter on `field` must look like (rest/query-values.ts). */
function filterValueSchema(field: ColumnField): JsonSchema {
  if (field.role === 'id' || field.role === 'foreignKey') {
    return field.type === 'uuid' ? { type: 'string', format: 'uuid' } : { type: 'integer', minimum: 0, maximum: 999999999999999 };
  }
  switch (field.type) {
    case 'integer':
      return { type: 'integer', minimum: -2147483647, maximum: 2147483647 };
    case 'bigint':
      return { type: 'string', pattern: BIGINT_PATTERN };
    case 'decimal':
      return { type: 'string', pattern: DECIMAL_PATTERN };
    case 'float':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'datetime':
      return { type: 'string', format: 'date-time' };
    case 'enum':
      return { type: 'string', enum: [...(field.values ?? [])] };
    case 'uuid':
      return { type: 'string', format: 'uuid' };
    default:
      return { type: 'string' };
  }
}

export function listDescription(r: Resource, limits: ParameterLimits): string {
  const filterable = readable(r).map((f) => `\`${f.name}\` (${operatorsFor(f).join(', ')})`);
  return [
    `Filters: \`field=value\` or \`field[operator]=value\`; through a belongsTo relation with \`relation.field\`. Operators by field: ${filterable.join('; ')}.`,
    '`in` and `notIn` take 1 to 100 comma-separated values; `isNull` takes true or false.',
    `Pages are keyset-based: pass \`page.nextCursor\` as \`cursor\` with the same sort and filters. \`limit\` defaults to ${limits.defaultLimit}, at most ${limits.maxLimit}.`,
  ].join('\n\n');
}

export function sharedParameters(limits: ParameterLimits): JsonSchema {
  return {
    limit: {
      name: 'limit',
      in: 'query',
      required: false,
      description: 'Rows per page.',
      schema: { type: 'integer', minimum: 1, maximum: limits.maxLimit, default: limits.defaultLimit },
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
      description: 'A unique key (1 to 255 visible ASCII characters); a retry with the same key and body replays the first response.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
    },
    IfMatch: {
      name: 'If-Match',
      in: 'header',
      required: false,
      description: 'The ETag last read; the write is refused with 412 if the record changed since.',
      schema: { type: 'string' },
    },
    IfNoneMatch: {
      name: 'If-None-Match',
      in: 'header',
      required: false,
      description: 'The ETag last read; answers 304 without a body while it still matches.',
      schema: { type: 'string' },
    },
  };
}
