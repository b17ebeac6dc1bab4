/**
 * One query parameter per filter a list accepts: `field` (equals) and `field[op]` for every other
 * operator the field's type takes (core/filter-operators.ts), so "Try it out" on /docs and generated
 * clients can use each filter without reading the grammar. Filters through a relation
 * (`author.name[icontains]`) stay described on the operation: documenting them too would repeat every
 * related field's operators on every resource that points at it.
 */
import { type FilterOperator, operatorsFor } from '../core/filter-operators.js';
import { FIXED_LIMITS, filterValueMaxLength } from '../core/limits.js';
import { BIGINT_PATTERN, DECIMAL_PATTERN, fixedFormatSchema, type JsonSchema } from '../core/schemas.js';
import type { ColumnField, Resource } from '../model/ir.js';

/** What a filter keeps, after the field's name. A record, so an operator added without words is a type error. */
const MEANING: Record<FilterOperator, string> = {
  eq: 'equals the value (also written `[eq]`); never matches null',
  ne: 'differs from the value; matches null',
  gt: 'is greater than the value',
  gte: 'is greater than or equal to the value',
  lt: 'is less than the value',
  lte: 'is less than or equal to the value',
  in: `equals one of the values (1 to ${FIXED_LIMITS.inValues}, comma-separated)`,
  notIn: `equals none of the values (1 to ${FIXED_LIMITS.inValues}, comma-separated); matches null`,
  contains: 'contains the value, case-sensitive (`%` and `_` are plain characters)',
  icontains: 'contains the value, ignoring case',
  startsWith: 'starts with the value, case-sensitive',
  istartsWith: 'starts with the value, ignoring case',
  endsWith: 'ends with the value, case-sensitive',
  iendsWith: 'ends with the value, ignoring case',
  ieq: 'equals the value, ignoring case',
  isNull: 'is null (`true`) or is not (`false`)',
};

/** The query parameter's name: the plain field name for equality, as clients write it most. */
export function filterParameterName(field: ColumnField, operator: FilterOperator): string {
  return operator === 'eq' ? field.name : `${field.name}[${operator}]`;
}

/** Every filter parameter of a list: readable fields in declaration order, each with its operators in table order. */
export function filterParameters(r: Resource, textMaxLength: number): JsonSchema[] {
  return r.fields.filter((f) => !f.hidden).flatMap((f) => operatorsFor(f).map((op) => filterParameter(f, op, textMaxLength)));
}

function filterParameter(field: ColumnField, operator: FilterOperator, textMaxLength: number): JsonSchema {
  const parameter: JsonSchema = {
    name: filterParameterName(field, operator),
    in: 'query',
    required: false,
    description: `Only records whose \`${field.name}\` ${MEANING[operator]}.`,
  };
  if (operator === 'isNull') return { ...parameter, schema: { type: 'boolean' } };
  const value = filterValueSchema(field, textMaxLength);
  if (operator !== 'in' && operator !== 'notIn') return { ...parameter, schema: value };
  // `id[in]=1,2,3`: one parameter, its values joined by commas.
  return { ...parameter, style: 'form', explode: false, schema: { type: 'array', items: value, minItems: 1, maxItems: FIXED_LIMITS.inValues } };
}

/** What one query-string value of a filter on `field` must look like (core/filter-values.ts), and how long it may be (core/limits.ts). */
export function filterValueSchema(field: ColumnField, textMaxLength: number): JsonSchema {
  const maxLength = filterValueMaxLength(field, textMaxLength);
  if (field.role === 'id' || field.role === 'foreignKey') {
    return field.type === 'uuid' ? { type: 'string', format: 'uuid', maxLength } : { type: 'integer', format: 'int64', minimum: 0, maximum: 999999999999999 };
  }
  switch (field.type) {
    case 'integer':
      return { type: 'integer', format: 'int32', minimum: -2147483647, maximum: 2147483647 };
    case 'bigint':
      return { type: 'string', maxLength, pattern: BIGINT_PATTERN };
    case 'decimal':
      return { type: 'string', maxLength, pattern: DECIMAL_PATTERN };
    case 'float':
      return { type: 'number' };
    case 'boolean':
    case 'date':
    case 'datetime':
    case 'enum':
    case 'uuid':
      return fixedFormatSchema(field.type, field.values, maxLength);
    default:
      return { type: 'string', maxLength };
  }
}
