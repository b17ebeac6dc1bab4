import type { Resource } from '../model/ir.js';
import type { Row } from './query.js';

const readable = new WeakMap<Resource, readonly string[]>();

/** Fields a client may read: everything but hidden ones. Computed once per resource (a model is frozen). */
export function readableFields(resource: Resource): readonly string[] {
  let names = readable.get(resource);
  if (!names) {
    names = Object.freeze(resource.fields.filter((f) => !f.hidden).map((f) => f.name));
    readable.set(resource, names);
  }
  return names;
}

/**
 * bigint ids arrive from the drivers as text; they are sent as JSON numbers (ids stay below 2^53).
 * bigint data fields stay strings, like decimals, so no value loses precision.
 */
export function numericKeyFields(resource: Resource): string[] {
  return resource.fields.filter((f) => f.type === 'bigint' && (f.role === 'id' || f.role === 'foreignKey')).map((f) => f.name);
}

export class RowShaper {
  readonly #numericKeys = new Map<string, readonly string[]>();

  constructor(resources: readonly Resource[]) {
    for (const r of resources) this.#numericKeys.set(r.name, numericKeyFields(r));
  }

  /** Converts driver values in place to their API form. */
  shape(resource: Resource, rows: Row[]): Row[] {
    const keys = this.#numericKeys.get(resource.name) ?? [];
    for (const row of rows) {
      for (const key of keys) {
        const value = row[key];
        if (typeof value === 'string') row[key] = Number(value);
      }
    }
    return rows;
  }
}

/** Removes keys fetched only for internal use (sort keys, relation keys) from rows. */
export function keepOnly(rows: Row[], keep: ReadonlySet<string>): void {
  for (const row of rows) {
    for (const key of Object.keys(row)) if (!keep.has(key)) delete row[key];
  }
}
