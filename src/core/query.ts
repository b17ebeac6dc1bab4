/**
 * Validated, typed read requests: what the validate stage makes of a transport's arguments
 * (src/pipeline/parse.ts) and what the SQL compiler consumes. Field and relation names are checked,
 * values converted to what the database expects, and every limit applied.
 */
import type { ColumnField, Relation, Resource } from '../model/ir.js';
import type { Position } from './cursor.js';
import type { Predicate } from './predicate.js';

export interface SortKey {
  readonly field: ColumnField;
  readonly descending: boolean;
}

/**
 * One included relation. It carries its own selection, filter, order and limit (per parent record
 * for hasMany and manyToMany; a belongsTo has one record at most), and the relations included below it.
 */
export interface IncludeNode {
  readonly relation: Relation;
  readonly target: Resource;
  /** Readable fields of the target to return; always with the id. */
  readonly fields: readonly string[];
  /** Filters on the target's rows (to-many relations only). */
  readonly where: Predicate;
  /** Order of the target's rows under each parent; ends with the id (to-many relations only). */
  readonly sort: readonly SortKey[];
  /** Most rows per parent; a parent with more gets the relation's name in `_truncated`. */
  readonly limit: number;
  readonly include: readonly IncludeNode[];
}

export interface Selection {
  /** Column field names to return; id is always among them. */
  readonly fields: readonly string[];
  readonly include: readonly IncludeNode[];
}

export interface ListQuery extends Selection {
  /** The caller's filters (relation filters are scoped by the target's access rule when compiled). */
  readonly where: Predicate;
  /** Always ends with the id, so the order is total and keyset pagination is exact. */
  readonly sort: readonly SortKey[];
  readonly limit: number;
  /** Where the page starts: after the previous page's last row (its sort values, or its id for long ones). */
  readonly position?: Position;
  readonly count: boolean;
  /** What this list's cursors are bound to: the resource, the sort and the caller (see cursorBinding). */
  readonly cursorBinding: string;
}

export interface Page {
  readonly limit: number;
  readonly hasMore: boolean;
  readonly nextCursor: string | null;
  readonly total?: number;
}

export type Row = Record<string, unknown>;

/** The property that lists the to-many includes of a record that were cut at their limit. */
export const TRUNCATED = '_truncated';
