/** The comparison operators of filters and predicates, and which apply to which field types. */
import type { ColumnField } from '../model/ir.js';

export const TEXT_OPERATORS = ['contains', 'icontains', 'startsWith', 'istartsWith', 'endsWith', 'iendsWith', 'ieq'] as const;
export const ORDER_OPERATORS = ['gt', 'gte', 'lt', 'lte'] as const;
export const FILTER_OPERATORS = ['eq', 'ne', ...ORDER_OPERATORS, 'in', 'notIn', ...TEXT_OPERATORS, 'isNull'] as const;

export type FilterOperator = (typeof FILTER_OPERATORS)[number];

const BASE: readonly FilterOperator[] = ['eq', 'ne', 'in', 'notIn', 'isNull'];
const ORDERED: readonly FilterOperator[] = [...BASE, ...ORDER_OPERATORS];
const TEXT: readonly FilterOperator[] = [...ORDERED, ...TEXT_OPERATORS];
const BOOLEAN: readonly FilterOperator[] = ['eq', 'ne', 'isNull'];
const JSON_ONLY: readonly FilterOperator[] = ['isNull'];

/** Which operators make sense for a field's type. */
export function operatorsFor(field: ColumnField): readonly FilterOperator[] {
  switch (field.type) {
    case 'string':
    case 'text':
      return TEXT;
    case 'integer':
    case 'bigint':
    case 'decimal':
    case 'float':
    case 'date':
    case 'datetime':
      return ORDERED;
    case 'boolean':
      return BOOLEAN;
    case 'json':
      return JSON_ONLY;
    default:
      return BASE;
  }
}

export function isFilterOperator(value: string): value is FilterOperator {
  return (FILTER_OPERATORS as readonly string[]).includes(value);
}
