import type { CompiledResource } from './compiled-model.js';
import type { Row } from './query.js';

/**
 * Converts driver values in place to their API form: bigint ids and keys arrive from the drivers as
 * text and are sent as JSON numbers (ids stay below 2^53); bigint data fields stay strings, like
 * decimals, so no value loses precision.
 */
export function shapeRows(compiled: CompiledResource, rows: Row[]): Row[] {
  const keys = compiled.numericKeys;
  if (keys.length === 0) return rows;
  for (const row of rows) {
    for (const key of keys) {
      const value = row[key];
      if (typeof value === 'string') row[key] = Number(value);
    }
  }
  return rows;
}

/** Removes keys fetched only for internal use (sort keys, relation keys) from rows. */
export function keepOnly(rows: Row[], keep: ReadonlySet<string>): void {
  for (const row of rows) {
    for (const key of Object.keys(row)) if (!keep.has(key)) delete row[key];
  }
}
