/**
 * Applies and reverts migrations. Each migration runs in its own transaction, statement by
 * statement, and is checked against its snapshot before it commits, so a database is always at
 * exactly one migration. Runs hold the schema's advisory lock (session.ts), and refuse to start on
 * edited migration files or on a database that drifted from the last applied snapshot.
 */
import type { Database, Queryable } from '../db/database.js';
import { MigrateError, MigrationFailedError } from './errors.js';
import { listMigrations, type MigrationFiles } from './files.js';
import { compareSchemas, expectedSchema, introspect, withoutIndexesBuiltAhead } from './introspect.js';
import { withMigrationLock } from './session.js';
import { EMPTY_SNAPSHOT, type Snapshot } from './snapshot.js';
import { splitStatements } from './split.js';

export const MIGRATIONS_TABLE = 'kiln_migrations';

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "kiln_migrations" (
  "name" text PRIMARY KEY,
  "checksum" text NOT NULL,
  "applied_at" timestamptz NOT NULL DEFAULT now()
)`;

export interface AppliedMigration {
  readonly name: string;
  readonly checksum: string;
  readonly appliedAt: string;
}

export interface RunOptions {
  /** Progress lines for a person, e.g. `applied 20250101120000_initial`. */
  readonly log?: (line: string) => void;
}

export interface UpResult {
  readonly applied: readonly string[];
  /** A database created before migrations existed, recognised as the first migration's schema. */
  readonly adopted?: string;
  readonly waited: boolean;
}

export class DriftError extends MigrateError {
  constructor(
    readonly migration: string | undefined,
    readonly differences: readonly string[],
  ) {
    super(
      `the database has drifted from ${migration ? `the snapshot of ${migration}` : 'an empty schema'}; nothing was changed:\n` +
        `${differences.map((d) => `  - ${d}`).join('\n')}\n` +
        'Undo the manual change, or capture it in the model and a new migration. "kiln migrate verify" lists the differences.',
    );
    this.name = 'DriftError';
  }
}

/** Rows of kiln_migrations, oldest first; none when the table does not exist yet. */
export async function appliedMigrations(q: Queryable): Promise<AppliedMigration[]> {
  const [exists] = await q.query<{ found: boolean }>(`SELECT to_regclass('kiln_migrations') IS NOT NULL AS "found"`);
  if (!exists?.found) return [];
  const rows = await q.query<{ name: string; checksum: string; applied_at: Date | string }>(
    `SELECT "name", "checksum", "applied_at" FROM "kiln_migrations" ORDER BY "name"`,
  );
  return rows.map((r) => ({ name: r.name, checksum: r.checksum, appliedAt: new Date(r.applied_at).toISOString() }));
}

/** What stops any run: applied migrations whose files changed or went missing, or that are out of order. */
export function historyProblems(applied: readonly AppliedMigration[], files: readonly MigrationFiles[]): string[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  const out: string[] = [];
  for (const row of applied) {
    const file = byName.get(row.name);
    if (!file) out.push(`${row.name} was applied but its folder is missing from the migrations directory`);
    else if (file.checksum !== row.checksum)
      out.push(`${row.name} was edited after it was applied (checksum ${file.checksum.slice(0, 19)}…, applied ${row.checksum.slice(0, 19)}…)`);
  }
  const last = applied.at(-1)?.name;
  const appliedNames = new Set(applied.map((a) => a.name));
  for (const f of files) {
    if (last !== undefined && f.name < last && !appliedNames.has(f.name)) {
      // Applying it now would run its SQL against tables it never saw; its change must be made again on top.
      out.push(
        `${f.name} is older than the last applied migration ${last} but was never applied (merged from an older branch?): ` +
          `delete its folder and run "kiln migrate generate" again, so that the change comes after ${last} (carry over any edits made to its up.sql)`,
      );
    }
  }
  return out;
}

function historyError(problems: readonly string[]): MigrateError {
  return new MigrateError(
    `the migration history does not match the migrations directory:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'Applied migrations must not change: restore edited or missing ones from version control, and put further changes in a new migration.',
  );
}

export async function migrateUp(db: Database, dir: string, options: RunOptions = {}): Promise<UpResult> {
  const files = listMigrations(dir);
  return withMigrationLock(
    db,
    async (conn, { waited }) => {
      await conn.query(CREATE_TABLE);
      const applied = await appliedMigrations(conn);
      const problems = historyProblems(applied, files);
      if (problems.length > 0) throw historyError(problems);
      const done = new Set(applied.map((a) => a.name));
      let pending = files.filter((f) => !done.has(f.name));
      const last = files.find((f) => f.name === applied.at(-1)?.name);
      let adopted: string | undefined;
      const next = pending[0];
      const { drift, builtAhead } = await driftBeforeUp(conn, last?.snapshot ?? EMPTY_SNAPSHOT, next?.snapshot);
      if (drift.length > 0) {
        // A database that the start-up schema creation made before migrations existed: adopt it.
        if (!last && next && (await driftOf(conn, next.snapshot)).length === 0) {
          await conn.query(`INSERT INTO "kiln_migrations" ("name", "checksum") VALUES ($1, $2)`, [next.name, next.checksum]);
          options.log?.(`adopted ${next.name}: the database already had its tables`);
          adopted = next.name;
          pending = pending.slice(1);
        } else {
          throw new DriftError(last?.name, drift);
        }
      }
      for (const index of builtAhead) {
        options.log?.(`index ${index} was built ahead of ${next?.name}, which creates it (its up.sql needs CREATE INDEX IF NOT EXISTS)`);
      }
      for (const migration of pending) {
        await apply(conn, migration.name, migration.up, migration.snapshot, async () => {
          await conn.query(`INSERT INTO "kiln_migrations" ("name", "checksum") VALUES ($1, $2)`, [migration.name, migration.checksum]);
        });
        options.log?.(`applied ${migration.name}`);
      }
      return { applied: pending.map((m) => m.name), waited, ...(adopted ? { adopted } : {}) };
    },
    () => options.log?.('waiting for another kiln migrate run on this schema to finish…'),
  );
}

/** Reverts the last `count` applied migrations with their down.sql, newest first. */
export async function migrateDown(db: Database, dir: string, count = 1, options: RunOptions = {}): Promise<{ reverted: string[] }> {
  const files = listMigrations(dir);
  return withMigrationLock(db, async (conn) => {
    await conn.query(CREATE_TABLE);
    const applied = await appliedMigrations(conn);
    const problems = historyProblems(applied, files);
    if (problems.length > 0) throw historyError(problems);
    const byName = new Map(files.map((f) => [f.name, f]));
    const chain = applied.map((a) => byName.get(a.name) as MigrationFiles);
    if (count > chain.length) throw new MigrateError(`cannot revert ${count} migrations: ${chain.length} ${chain.length === 1 ? 'is' : 'are'} applied`);
    const drift = await driftOf(conn, chain.at(-1)?.snapshot ?? EMPTY_SNAPSHOT);
    if (drift.length > 0) throw new DriftError(chain.at(-1)?.name, drift);
    const targets = chain.slice(chain.length - count).reverse();
    const blocked = targets.find((m) => m.irreversible);
    if (blocked) {
      throw new MigrateError(`migration ${blocked.name} cannot be reverted: its down.sql is marked kiln:irreversible (it says why); nothing was reverted`);
    }
    const reverted: string[] = [];
    for (const migration of targets) {
      const previous = chain[chain.indexOf(migration) - 1]?.snapshot ?? EMPTY_SNAPSHOT;
      await apply(conn, `${migration.name} (down)`, migration.down, previous, async () => {
        await conn.query(`DELETE FROM "kiln_migrations" WHERE "name" = $1`, [migration.name]);
      });
      options.log?.(`reverted ${migration.name}`);
      reverted.push(migration.name);
    }
    return { reverted };
  });
}

/** `fn` on a session connection, in a transaction of its own (driftFrom builds a scratch schema). */
async function inTransaction<T>(conn: Queryable, fn: () => Promise<T>): Promise<T> {
  await conn.query('BEGIN');
  try {
    const result = await fn();
    await conn.query('COMMIT');
    return result;
  } catch (error) {
    await conn.query('ROLLBACK');
    throw error;
  }
}

function driftOf(conn: Queryable, snapshot: Snapshot): Promise<string[]> {
  return inTransaction(conn, () => driftFrom(conn, snapshot));
}

/**
 * Drift before `up`, where an index the next pending migration creates may already exist: on a big
 * table it is built by hand with CREATE INDEX CONCURRENTLY, which cannot run inside the migration's
 * transaction, and the migration creates it IF NOT EXISTS. Its snapshot check still has to pass.
 */
function driftBeforeUp(conn: Queryable, snapshot: Snapshot, next: Snapshot | undefined): Promise<{ drift: string[]; builtAhead: string[] }> {
  return inTransaction(conn, async () => {
    const actual = await introspect(conn);
    const expected = snapshot.tables.length === 0 ? new Map() : await expectedSchema(conn, snapshot);
    const drift = compareSchemas(actual, expected);
    if (drift.length === 0 || !next) return { drift, builtAhead: [] };
    const { schema, builtAhead } = withoutIndexesBuiltAhead(actual, expected, await expectedSchema(conn, next));
    return { drift: compareSchemas(schema, expected), builtAhead };
  });
}

/** One migration in one transaction: each statement, then the check against `snapshot`, then the bookkeeping. */
async function apply(conn: Queryable, name: string, sql: string, snapshot: Snapshot, record: () => Promise<void>): Promise<void> {
  await conn.query('BEGIN');
  let current = 'BEGIN';
  try {
    for (const statement of splitStatements(sql)) {
      current = statement;
      await conn.query(statement);
    }
    current = '(checking the result against snapshot.json)';
    const drift = await driftFrom(conn, snapshot);
    if (drift.length > 0) {
      throw new MigrateError(
        `migration ${name} leaves the database different from its snapshot.json, so it was rolled back:\n${drift.map((d) => `  - ${d}`).join('\n')}\n` +
          'If up.sql or down.sql was edited, make it produce what snapshot.json describes.',
      );
    }
    await record();
    current = 'COMMIT';
    await conn.query('COMMIT');
  } catch (error) {
    await conn.query('ROLLBACK');
    if (error instanceof MigrateError) throw error;
    throw new MigrationFailedError(name, current, error as Error);
  }
}

/** How the database differs from a snapshot, inside the open transaction of `q` (it builds a scratch schema). */
export async function driftFrom(q: Queryable, snapshot: Snapshot): Promise<string[]> {
  const actual = await introspect(q);
  const expected = snapshot.tables.length === 0 ? new Map() : await expectedSchema(q, snapshot);
  return compareSchemas(actual, expected);
}
