/**
 * Reads the schema PostgreSQL actually holds, and what it would hold for a snapshot. The expected
 * side is built for real in a scratch schema inside a transaction, then read the same way, so both
 * sides are spelled by PostgreSQL itself (types, defaults, constraint definitions) and compare exactly.
 */
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import { createAll } from '../sql/ddl.js';
import { ident } from '../sql/fragments.js';
import type { Snapshot } from './snapshot.js';

export interface LiveColumn {
  readonly type: string;
  readonly nullable: boolean;
  readonly default: string | null;
  readonly identity: boolean;
  /** The sequence an identity column takes its values from (PostgreSQL names it after the table when it creates it). */
  readonly sequence: string | null;
}

export interface LiveTable {
  readonly columns: Map<string, LiveColumn>;
  /** Constraint name → definition (`pg_get_constraintdef`); NOT NULL constraints are read as column nullability. */
  readonly constraints: Map<string, string>;
  /** Indexes that back no constraint: name → definition. */
  readonly indexes: Map<string, string>;
}

export type LiveSchema = Map<string, LiveTable>;

/** Added to the definition of an index PostgreSQL marks invalid. */
export const INVALID_INDEX = '[INVALID: a CREATE INDEX CONCURRENTLY failed or is still running; drop the index and build it again]';

// Kiln's own tables (kiln_migrations, kiln_idempotency_keys, …) are not part of the model.
const TABLES = `
  SELECT c.oid, c.relname AS "table" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname NOT LIKE 'kiln\\_%'`;

/** The schema of the current search path, without Kiln's own tables. */
export async function introspect(q: Queryable): Promise<LiveSchema> {
  const schema: LiveSchema = new Map();
  const table = (name: string) => {
    let t = schema.get(name);
    if (!t) {
      t = { columns: new Map(), constraints: new Map(), indexes: new Map() };
      schema.set(name, t);
    }
    return t;
  };
  for (const row of await q.query<{ table: string }>(`SELECT "table" FROM (${TABLES}) t`)) table(row.table);
  const columns = await q.query<{
    table: string;
    column: string;
    type: string;
    notnull: boolean;
    default: string | null;
    identity: string;
    sequence: string | null;
  }>(
    `SELECT t."table", a.attname AS "column", format_type(a.atttypid, a.atttypmod) AS "type", a.attnotnull AS "notnull",
            pg_get_expr(d.adbin, d.adrelid) AS "default", a.attidentity AS "identity",
            (SELECT s.relname FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid
              WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass AND dep.refobjid = a.attrelid
                AND dep.refobjsubid = a.attnum AND dep.deptype = 'i' AND s.relkind = 'S') AS "sequence"
       FROM (${TABLES}) t JOIN pg_attribute a ON a.attrelid = t.oid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped`,
  );
  for (const c of columns) {
    table(c.table).columns.set(c.column, { type: c.type, nullable: !c.notnull, default: c.default, identity: c.identity !== '', sequence: c.sequence });
  }
  const constraints = await q.query<{ table: string; name: string; definition: string }>(
    `SELECT t."table", k.conname AS "name", pg_get_constraintdef(k.oid) AS "definition"
       FROM (${TABLES}) t JOIN pg_constraint k ON k.conrelid = t.oid WHERE k.contype <> 'n'`,
  );
  for (const c of constraints) table(c.table).constraints.set(c.name, c.definition);
  const indexes = await q.query<{ table: string; name: string; definition: string; valid: boolean }>(
    `SELECT t."table", i.relname AS "name", pg_get_indexdef(x.indexrelid) AS "definition", x.indisvalid AS "valid"
       FROM (${TABLES}) t JOIN pg_index x ON x.indrelid = t.oid JOIN pg_class i ON i.oid = x.indexrelid
      WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = t.oid AND k.contype IN ('p', 'u', 'x'))`,
  );
  for (const ix of indexes) {
    // pg_get_indexdef always names the schema; drop it so two schemas compare equal.
    const definition = ix.definition.replace(/ ON (?:"[^"]+"|[a-z_][a-z0-9_$]*)\./, ' ON ');
    // A CREATE INDEX CONCURRENTLY that failed, or is still running, leaves an index that looks
    // complete but is not: it differs from every expected definition, so it is drift until rebuilt.
    table(ix.table).indexes.set(ix.name, ix.valid ? definition : `${definition} ${INVALID_INDEX}`);
  }
  return schema;
}

/**
 * What the database would hold for a snapshot: creates it in a scratch schema inside the open
 * transaction of `q`, reads it and drops it again.
 */
export async function expectedSchema(q: Queryable, snapshot: Snapshot): Promise<LiveSchema> {
  const scratch = `kiln_shadow_${randomBytes(6).toString('hex')}`;
  const [row] = await q.query<{ path: string }>(`SELECT current_setting('search_path') AS "path"`);
  await q.query(`CREATE SCHEMA ${ident(scratch)}`);
  await q.query(`SELECT set_config('search_path', $1, true)`, [ident(scratch)]);
  try {
    for (const statement of createAll(snapshot.tables)) await q.query(statement);
    return await introspect(q);
  } finally {
    await q.query(`SELECT set_config('search_path', $1, true)`, [row?.path ?? 'public']);
    await q.query(`DROP SCHEMA ${ident(scratch)} CASCADE`);
  }
}

/** Every way `actual` differs from `expected`, one sentence each; empty when they match. */
export function compareSchemas(actual: LiveSchema, expected: LiveSchema): string[] {
  const out: string[] = [];
  for (const name of expected.keys()) if (!actual.has(name)) out.push(`table "${name}" is missing from the database`);
  for (const [name, table] of actual) {
    const want = expected.get(name);
    if (!want) {
      out.push(`table "${name}" is in the database but not in the snapshot`);
      continue;
    }
    for (const column of want.columns.keys()) if (!table.columns.has(column)) out.push(`column "${name}.${column}" is missing from the database`);
    for (const [column, live] of table.columns) {
      const w = want.columns.get(column);
      if (!w) {
        out.push(`column "${name}.${column}" (${live.type}) is in the database but not in the snapshot`);
        continue;
      }
      const at = `column "${name}.${column}"`;
      if (live.type !== w.type) out.push(`${at} is ${live.type} in the database, ${w.type} in the snapshot`);
      if (live.nullable !== w.nullable) out.push(`${at} is ${nullability(live)} in the database, ${nullability(w)} in the snapshot`);
      if (live.default !== w.default) out.push(`${at} has default ${live.default ?? '(none)'} in the database, ${w.default ?? '(none)'} in the snapshot`);
      if (live.identity !== w.identity) out.push(`${at} is ${live.identity ? '' : 'not '}an identity column in the database`);
      else if (live.sequence !== w.sequence)
        out.push(`${at} takes its values from sequence "${live.sequence}" in the database, "${w.sequence}" in the snapshot`);
    }
    compareNamed(out, `constraint`, name, table.constraints, want.constraints);
    compareNamed(out, `index`, name, table.indexes, want.indexes);
  }
  return out;
}

/**
 * `actual` without the indexes built ahead of the next migration: indexes that `expected` (the last
 * applied snapshot) lacks and `next` (the next migration's snapshot) has under the same name with the
 * same definition, e.g. created by hand with CREATE INDEX CONCURRENTLY, which cannot run in a
 * migration's transaction. Anything else that differs is still drift.
 */
export function withoutIndexesBuiltAhead(actual: LiveSchema, expected: LiveSchema, next: LiveSchema): { schema: LiveSchema; builtAhead: string[] } {
  const schema: LiveSchema = new Map();
  const builtAhead: string[] = [];
  for (const [name, table] of actual) {
    const indexes = new Map(table.indexes);
    const want = expected.get(name);
    for (const [index, definition] of table.indexes) {
      if (!want || want.indexes.has(index) || next.get(name)?.indexes.get(index) !== definition) continue;
      indexes.delete(index);
      builtAhead.push(index);
    }
    schema.set(name, { ...table, indexes });
  }
  return { schema, builtAhead };
}

const nullability = (c: LiveColumn) => (c.nullable ? 'nullable' : 'NOT NULL');

function compareNamed(out: string[], kind: string, table: string, actual: Map<string, string>, expected: Map<string, string>): void {
  for (const [name, definition] of expected) {
    const live = actual.get(name);
    if (live === undefined) out.push(`${kind} "${name}" on "${table}" is missing from the database (${definition})`);
    else if (live !== definition) out.push(`${kind} "${name}" on "${table}" is ${live} in the database, ${definition} in the snapshot`);
  }
  for (const [name, definition] of actual) {
    if (!expected.has(name)) out.push(`${kind} "${name}" on "${table}" is in the database but not in the snapshot (${definition})`);
  }
}
