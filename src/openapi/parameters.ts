/** Query and header parameters of the OpenAPI document: the list grammar of rest/query-grammar.ts. */

import { FIXED_LIMITS, type Limits } from '../core/limits.js';
import type { JsonSchema } from '../core/schemas.js';
import type { ColumnField, Resource } from '../model/ir.js';
import { filterParameters } from './filter-parameters.js';

/** The bounds the parameters state: the client-controlled limits, and the header size for the ETag headers. */
export interface ParameterLimits extends Limits {
  readonly maxHeaderSize: number;
}

const param = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** Readable fields: what `fields` selects and filters may name. */
function readable(r: Resource): ColumnField[] {
  return r.fields.filter((f) => !f.hidden);
}

/** What `include` may name, and the bounds on what it returns. */
function includeDescription(r: Resource, limits: ParameterLimits): string {
  const relations = r.relations.map((rel) => rel.name);
  if (relations.length === 0) return 'This resource has no relations to include.';
  const lines = [
    `Comma-separated relations to embed, nested with dots up to ${limits.includeMaxDepth} levels (e.g. \`${relations[0]}\`): ${relations.join(', ')}.`,
    `A hasMany or manyToMany include embeds at most ${limits.includeLimit} records per parent; a parent with more lists the relation in its \`_truncated\` property.`,
    `A request whose page and includes could return more than ${limits.includeMaxRows} records at worst is refused with 400 \`KILN_QUERY_INVALID\` naming \`include\` or \`limit\`.`,
  ];
  return lines.join(' ');
}

/** `fields` and `include`, which a list and a single record both accept. */
export function selectionParameters(r: Resource, limits: ParameterLimits, schemas: { full: string; selection: string }): JsonSchema[] {
  return [
    {
      name: 'fields',
      in: 'query',
      required: false,
      description: `Comma-separated fields to return (id is always returned): ${readable(r)
        .map((f) => f.name)
        .join(
          ', ',
        )}. The records then hold only those: they match \`${schemas.selection}\`, not the full read \`${schemas.full}\`, whose properties are all present.`,
      schema: { type: 'string', maxLength: FIXED_LIMITS.fieldsLength },
    },
    {
      name: 'include',
      in: 'query',
      required: false,
      description: includeDescription(r, limits),
      schema: { type: 'string', maxLength: FIXED_LIMITS.includeLength },
    },
  ];
}

export function listParameters(r: Resource, limits: ParameterLimits, schemas: { full: string; selection: string }): JsonSchema[] {
  const sortable = readable(r).filter((f) => f.type !== 'json');
  return [
    ...selectionParameters(r, limits, schemas),
    {
      name: 'sort',
      in: 'query',
      required: false,
      description: `Comma-separated fields, at most ${FIXED_LIMITS.sortKeys}; a leading \`-\` sorts descending, nulls sort last and the id breaks ties. Sortable: ${sortable
        .map((f) => f.name)
        .join(', ')}.`,
      schema: { type: 'string', maxLength: FIXED_LIMITS.sortLength },
      example: r.timestamps ? '-createdAt' : '-id',
    },
    param('limit'),
    param('cursor'),
    param('count'),
    param('IfNoneMatch'),
    ...filterParameters(r, limits.textMaxLength),
  ];
}

export function listDescription(r: Resource, limits: ParameterLimits): string {
  const belongsTo = r.relations.find((rel) => rel.kind === 'belongsTo');
  return [
    `Filters: \`field=value\` (equals) or \`field[operator]=value\`, each a parameter below; all must hold. A filter can also go through a belongsTo relation, with the operators of the related field: \`relation.field[operator]=value\`${belongsTo ? ` (e.g. \`${belongsTo.name}.id[in]=…\`)` : ''}.`,
    `\`in\` and \`notIn\` take 1 to ${FIXED_LIMITS.inValues} comma-separated values; \`isNull\` takes true or false. A value of a string or text field is at most its maxLength, or ${limits.textMaxLength} characters.`,
    `Pages are keyset-based: pass \`page.nextCursor\` as \`cursor\` with the same sort and filters. \`limit\` defaults to ${limits.pageDefaultLimit}, at most ${limits.pageMaxLimit}.`,
    `Includes: at most ${limits.includeMaxDepth} levels deep and ${limits.includeLimit} records per parent for a hasMany or manyToMany (\`_truncated\` names a relation that had more); a request whose page and includes could return more than ${limits.includeMaxRows} records at worst is refused with 400 \`KILN_QUERY_INVALID\` naming \`include\` or \`limit\`.`,
  ].join('\n\n');
}

export function sharedParameters(limits: ParameterLimits): JsonSchema {
  // Past the header size limit the server answers 431 before reading a header: no single value is longer.
  const etags = { type: 'string', maxLength: limits.maxHeaderSize };
  return {
    limit: {
      name: 'limit',
      in: 'query',
      required: false,
      description: `Rows per page: ${limits.pageDefaultLimit} when not given, at most ${limits.pageMaxLimit}.`,
      schema: { type: 'integer', format: 'int32', minimum: 1, maximum: limits.pageMaxLimit, default: limits.pageDefaultLimit },
    },
    cursor: {
      name: 'cursor',
      in: 'query',
      required: false,
      description: 'The `page.nextCursor` of the previous page.',
      schema: { type: 'string', maxLength: FIXED_LIMITS.cursorLength },
    },
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
      description: `A unique key (1 to ${FIXED_LIMITS.idempotencyKeyLength} visible ASCII characters); a retry with the same key and body replays the first response.`,
      schema: { type: 'string', minLength: 1, maxLength: FIXED_LIMITS.idempotencyKeyLength, pattern: '^[\\x21-\\x7e]+$' },
    },
    IfMatch: {
      name: 'If-Match',
      in: 'header',
      required: false,
      description: 'The ETag last read; the write is refused with 412 if the record changed since.',
      schema: etags,
    },
    IfNoneMatch: {
      name: 'If-None-Match',
      in: 'header',
      required: false,
      description: 'The ETag last read; answers 304 without a body while it still matches.',
      schema: etags,
    },
  };
}
