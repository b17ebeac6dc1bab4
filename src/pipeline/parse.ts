/**
 * Stage "parse": each transport turns its request into these arguments (REST from the query string,
 * GraphQL from field arguments, a direct caller by hand). They carry what the caller asked for, not
 * yet checked: the validate stage checks them against the model and the limits in force, so every
 * transport gets the same rules and the same errors. `source` names the argument in error messages
 * the way the transport's caller wrote it (a query parameter, a GraphQL argument).
 */
import type { FieldError } from '../core/errors.js';

/** One filter: a field, possibly through a belongsTo relation (`['author', 'email']`), an operator and its value. */
export interface FilterArg {
  readonly path: readonly string[];
  readonly operator: string;
  /** Text (from a query string) or a typed value; an array for in/notIn, true/false for isNull. */
  readonly value: unknown;
  readonly source?: string;
}

/** One relation to include, with its own selection, filters, order and per-parent limit. */
export interface IncludeArg {
  readonly relation: string;
  readonly fields?: readonly string[];
  readonly filters?: readonly FilterArg[];
  /** Field names, `-` first for descending. */
  readonly sort?: readonly string[];
  readonly limit?: number;
  readonly include?: readonly IncludeArg[];
}

export interface SelectionArgs {
  /**
   * Problems the transport already found while reading its request (a malformed or repeated query
   * parameter): reported together with the validate stage's own, so the caller sees every problem at once.
   */
  readonly problems?: readonly FieldError[];
  /** Fields to return; all readable fields when absent. The id is always returned. */
  readonly fields?: readonly string[];
  readonly include?: readonly IncludeArg[];
}

export interface ListArgs extends SelectionArgs {
  readonly filters?: readonly FilterArg[];
  readonly sort?: readonly string[];
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
  /** Also count every matching row. */
  readonly count?: boolean;
}
