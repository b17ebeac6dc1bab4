/**
 * Conditions on the rows of a resource, as a small immutable tree. Filters from a request and access
 * rules from a policy are both written as predicates, and both reach SQL through one compiler
 * (src/sql/predicate.ts), which chooses the table aliases: a predicate never holds SQL text, so it can
 * be ANDed into any statement that touches its resource, at any depth.
 */
import type { FilterOperator } from './filter-operators.js';

export type Predicate =
  | { readonly kind: 'true' }
  | { readonly kind: 'false' }
  | { readonly kind: 'and'; readonly items: readonly Predicate[] }
  | { readonly kind: 'or'; readonly items: readonly Predicate[] }
  | { readonly kind: 'not'; readonly item: Predicate }
  /** A column field of the resource compared with a value (an array for in/notIn, a boolean for isNull). */
  | { readonly kind: 'compare'; readonly field: string; readonly operator: FilterOperator; readonly value: unknown }
  /** Through a belongsTo: the related record exists and matches `where`. */
  | { readonly kind: 'related'; readonly relation: string; readonly where: Predicate }
  /** Through a hasMany or manyToMany: at least one related record matches `where`. */
  | { readonly kind: 'exists'; readonly relation: string; readonly where: Predicate };

export const TRUE: Predicate = Object.freeze({ kind: 'true' });
export const FALSE: Predicate = Object.freeze({ kind: 'false' });

/** AND of `items`, simplified: TRUE items vanish, one FALSE item makes the whole FALSE. */
export function and(...items: readonly Predicate[]): Predicate {
  const kept: Predicate[] = [];
  for (const item of items) {
    if (item.kind === 'false') return FALSE;
    if (item.kind === 'true') continue;
    if (item.kind === 'and') kept.push(...item.items);
    else kept.push(item);
  }
  if (kept.length === 0) return TRUE;
  return kept.length === 1 ? (kept[0] as Predicate) : Object.freeze({ kind: 'and', items: Object.freeze(kept) });
}

/** OR of `items`, simplified: FALSE items vanish, one TRUE item makes the whole TRUE. */
export function or(...items: readonly Predicate[]): Predicate {
  const kept: Predicate[] = [];
  for (const item of items) {
    if (item.kind === 'true') return TRUE;
    if (item.kind === 'false') continue;
    kept.push(item);
  }
  if (kept.length === 0) return FALSE;
  return kept.length === 1 ? (kept[0] as Predicate) : Object.freeze({ kind: 'or', items: Object.freeze(kept) });
}

export function not(item: Predicate): Predicate {
  if (item.kind === 'true') return FALSE;
  if (item.kind === 'false') return TRUE;
  return Object.freeze({ kind: 'not', item });
}

export function compare(field: string, operator: FilterOperator, value: unknown): Predicate {
  return Object.freeze({ kind: 'compare', field, operator, value });
}

/** `field = value`: the usual ownership rule (`authorId` is the caller). */
export function equals(field: string, value: unknown): Predicate {
  return compare(field, 'eq', value);
}

export function related(relation: string, where: Predicate): Predicate {
  return Object.freeze({ kind: 'related', relation, where });
}

export function exists(relation: string, where: Predicate = TRUE): Predicate {
  return Object.freeze({ kind: 'exists', relation, where });
}

export function isTrue(predicate: Predicate): boolean {
  return predicate.kind === 'true';
}
