/**
 * Every bound on what a client controls, in one place: the server enforces these and the OpenAPI
 * document states them, from the same values, so a contract checker can hold the server to them.
 * The configurable ones come from the settings (src/config/settings.ts); the rest are fixed here.
 */
import type { ColumnField } from '../model/ir.js';

/** The bounds in force for one request; REST, GraphQL and direct callers get them from the settings. */
export interface Limits {
  /** Rows per page when the caller gives no limit. */
  readonly pageDefaultLimit: number;
  /** Largest page a caller may ask for. */
  readonly pageMaxLimit: number;
  /** Most records one bulk create may carry. */
  readonly bulkMaxItems: number;
  /** Deepest include nesting. */
  readonly includeMaxDepth: number;
  /** Records a to-many include embeds per parent. */
  readonly includeLimit: number;
  /** Most records one read may return at worst, page and includes together. */
  readonly includeMaxRows: number;
  /** Longest string or text value when the field declares no maxLength. */
  readonly textMaxLength: number;
}

/** Fixed bounds of the query grammar and of bodies. */
export const FIXED_LIMITS = {
  /** Values of one `in`/`notIn` filter. */
  inValues: 100,
  /** Fields of one `sort`. */
  sortKeys: 5,
  /** Ids one manyToMany relation may be set to in one write. */
  linkIds: 1000,
  /** Characters of the `fields` parameter. */
  fieldsLength: 2048,
  /** Characters of the `include` parameter. */
  includeLength: 1024,
  /** Characters of the `sort` parameter. */
  sortLength: 512,
  /** Characters of a cursor (it carries the sort values of a row, so long text sort keys make it long). */
  cursorLength: 8192,
  /** Characters of a decimal written without a declared precision (PostgreSQL allows far more). */
  decimalLength: 1000,
  /** Levels of arrays and objects nested in a request body (a `json` field's value included). */
  jsonDepth: 64,
  /** Characters of an Idempotency-Key. */
  idempotencyKeyLength: 255,
  /** Items of the top-level array a json field is written as (nested arrays are bounded by the body size only). */
  jsonItems: 10000,
  /** Characters of an X-Request-Id the server keeps (a longer one is replaced), so of a problem's `instance`. */
  requestIdLength: 128,
  /** Entries of a problem's `errors` list: a bulk body with a mistake in every record stops listing here. */
  problemErrors: 100,
  /** Characters of a problem's `detail`, and of each `errors` entry's path, code and message (they may quote the request). */
  problemTextLength: 1024,
} as const;

/** PostgreSQL refuses a statement with more bind parameters than this (a 16-bit count on the wire). */
export const MAX_STATEMENT_PARAMETERS = 65535;

/** The longest string a field accepts: its declared maxLength, or the configured default for text. */
export function maxTextLength(field: ColumnField, textMaxLength: number): number {
  return field.maxLength ?? textMaxLength;
}

/**
 * The longest query-string value a filter on `field` accepts (one value; `in` lists are checked per
 * value). Longer values are refused before any parsing, so no pattern ever runs on a long input.
 */
export function filterValueMaxLength(field: ColumnField, textMaxLength: number): number {
  if (field.role === 'id' || field.role === 'foreignKey') return field.type === 'uuid' ? 36 : 16;
  switch (field.type) {
    case 'string':
    case 'text':
      return maxTextLength(field, textMaxLength);
    case 'integer':
      return 11;
    case 'bigint':
      return 20;
    case 'decimal':
      return field.precision !== undefined ? field.precision + 2 : FIXED_LIMITS.decimalLength;
    case 'float':
      return 32;
    case 'boolean':
      return 5;
    case 'date':
      return 10;
    case 'datetime':
      return 35;
    case 'uuid':
      return 36;
    case 'enum':
      return Math.max(1, ...(field.values ?? []).map((v) => v.length));
    case 'json':
      return 5;
  }
}
