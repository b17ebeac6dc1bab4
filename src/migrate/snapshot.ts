/**
 * The model snapshot each migration records: the tables the model needs, as shapes (ddl.ts). The
 * next `kiln migrate generate` diffs the model against it, and `verify` compares the database with
 * it, so it describes exactly what the migrations created, names included.
 */
import type { Model } from '../model/ir.js';
import { modelShapes, type TableShape } from '../sql/ddl.js';

export const SNAPSHOT_FORMAT = 1;

export interface Snapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly tables: readonly TableShape[];
}

export const EMPTY_SNAPSHOT: Snapshot = { format: SNAPSHOT_FORMAT, tables: [] };

export function snapshotOf(model: Model): Snapshot {
  return { format: SNAPSHOT_FORMAT, tables: modelShapes(model) };
}

export function serializeSnapshot(snapshot: Snapshot): string {
  return `${JSON.stringify(snapshot, null, 2)}\n`;
}

export class SnapshotError extends Error {
  constructor(file: string, why: string) {
    super(`${file}: ${why}`);
    this.name = 'SnapshotError';
  }
}

/** Reads a snapshot.json, checking enough of its shape that the diff can trust it. */
export function parseSnapshot(text: string, file: string): Snapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SnapshotError(file, `is not valid JSON (${(error as Error).message})`);
  }
  const snapshot = value as Partial<Snapshot>;
  if (typeof value !== 'object' || value === null || snapshot.format !== SNAPSHOT_FORMAT || !Array.isArray(snapshot.tables)) {
    throw new SnapshotError(file, `is not a Kiln model snapshot (format ${SNAPSHOT_FORMAT})`);
  }
  for (const [i, table] of snapshot.tables.entries()) {
    const t = table as Partial<TableShape>;
    const lists = [t.columns, t.checks, t.uniques, t.indexes, t.foreignKeys];
    if (typeof t.name !== 'string' || !t.primaryKey || lists.some((l) => !Array.isArray(l))) {
      throw new SnapshotError(file, `tables[${i}] is missing name, columns, primaryKey, checks, uniques, indexes or foreignKeys`);
    }
  }
  return snapshot as Snapshot;
}

/** Equal up to order: moving fields or resources around in the model changes no table. */
export function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return canonical(a) === canonical(b);
}

function canonical(snapshot: Snapshot): string {
  const byName = <T extends { name: string }>(list: readonly T[]) => [...list].sort((x, y) => x.name.localeCompare(y.name));
  const tables = byName(snapshot.tables).map((t) => ({
    ...t,
    columns: byName(t.columns),
    checks: byName(t.checks),
    uniques: byName(t.uniques),
    indexes: byName(t.indexes),
    foreignKeys: byName(t.foreignKeys),
  }));
  return JSON.stringify(tables, (_key, value) =>
    value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(([x], [y]) => x.localeCompare(y))) : value,
  );
}

/** The resource tables of a snapshot by resource name (join tables have none). */
export function resourcesOf(snapshot: Snapshot): Map<string, TableShape> {
  return new Map(snapshot.tables.filter((t) => t.resource !== undefined).map((t) => [t.resource as string, t]));
}

/** Fields Kiln adds to every resource itself; a person never renames them. */
const SYSTEM_FIELDS = ['id', 'createdAt', 'updatedAt'];

/** Field name → column name of a resource table, without the columns Kiln adds itself. */
export function dataFields(table: TableShape): Map<string, string> {
  return new Map(table.columns.filter((c) => !SYSTEM_FIELDS.includes(c.field)).map((c) => [c.field, c.name]));
}
