/**
 * Parsed, typed read requests. The REST query grammar produces these (and GraphQL will); the SQL
 * compiler consumes them. Values are already converted to what the database expects.
 */
import type { BelongsToRelation, ColumnField } from '../model/ir.js';

export const TEXT_OPERATORS = ['contains', 'icontains', 'startsWith', 'istartsWith', 'endsWith', 'iendsWith', 'ieq'] as const;
export const ORDER_OPERATORS = ['gt', 'gte', 'lt', 'lte'] as const;
export const FILTER_OPERATORS = ['eq', 'ne', ...ORDER_OPERATORS, 'in', 'notIn', ...TEXT_OPERATORS, 'isNull'] as const;

export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export interface Filter {
  /** Set when the filter goes through a belongsTo relation (`author.name`). */
  readonly via?: BelongsToRelation;
  readonly field: ColumnField;
  readonly operator: FilterOperator;
  /** A single value, an array for in/notIn, a boolean for isNull. */
  readonly value: unknown;
}

export interface SortKey {
  readonly field: ColumnField;
  readonly descending: boolean;
}

/** Relation name → what to include below it. */
export type IncludeTree = ReadonlyMap<string, IncludeTree>;

export interface Selection {
  /** Column field names to return; id is always among them. */
  readonly fields: readonly string[];
  readonly include: IncludeTree;
}

export interface ListQuery extends Selection {
  readonly filters: readonly Filter[];
  /** Always ends with the id, so the order is total and keyset pagination is exact. */
  readonly sort: readonly SortKey[];
  readonly limit: number;
  /** Values of the sort keys of the last row of the previous page. */
  readonly after?: readonly unknown[];
  readonly count: boolean;
}

export interface Page {
  readonly limit: number;
  readonly hasMore: boolean;
  readonly nextCursor: string | null;
  readonly total?: number;
}

export type Row = Record<string, unknown>;
