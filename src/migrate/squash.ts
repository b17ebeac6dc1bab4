/**
 * `kiln migrate squash`: the migrations a `kiln dev` session wrote, one per save, merged into one
 * before they are committed. The merged up.sql is theirs in order and its down.sql theirs in reverse,
 * so every decision made on the way (a rename answered at the prompt, a backfill, an edit to move
 * data) is kept exactly; its snapshot is the last one's. Regenerating from the last committed
 * snapshot instead would lose those decisions, which a snapshot does not record.
 *
 * A database that applied them is already where the merged migration leads, so only its record
 * changes: their rows in kiln_migrations become one row for the merged migration. No table is touched
 * and no data is lost.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../db/database.js';
import { MigrateError } from './errors.js';
import { checksumOf, listMigrations, type MigrationFiles, migrationName, writeMigration } from './files.js';
import { committedFolders } from './git.js';
import { IRREVERSIBLE_MARK } from './render.js';
import { DriftError, driftFrom, migrateUp } from './runner.js';
import { withMigrationLock } from './session.js';
import { migrationStatus } from './status.js';

export interface SquashOptions {
  readonly name?: string;
  readonly now?: Date;
  readonly log?: (line: string) => void;
}

export type SquashResult =
  | { readonly squashed: false; readonly why: string }
  | {
      readonly squashed: true;
      /** The merged migrations, oldest first. */
      readonly from: readonly string[];
      readonly name: string;
      readonly folder: string;
      /** The database had them applied and now records the merged one instead. */
      readonly recorded: boolean;
    };

export async function squashMigrations(db: Database, dir: string, options: SquashOptions = {}): Promise<SquashResult> {
  const files = listMigrations(dir);
  if (files.length === 0) return { squashed: false, why: 'there are no migrations' };
  const committed = committedFolders(dir);
  const fresh = files.filter((f) => !committed.has(f.name));
  const kept = files.filter((f) => committed.has(f.name));
  const lastKept = kept.at(-1)?.name;
  const early = fresh.find((f) => lastKept !== undefined && f.name < lastKept);
  if (early) {
    throw new MigrateError(
      `${early.name} is not committed but is older than the committed ${lastKept}; squash merges only the migrations after the last committed one. ` +
        `Delete it and run "kiln migrate generate" again, so that its change comes after ${lastKept}.`,
    );
  }
  if (fresh.length < 2) {
    return { squashed: false, why: fresh.length === 0 ? 'every migration is committed' : `only ${fresh[0]?.name} is not committed` };
  }
  const status = await migrationStatus(db, dir);
  if (status.problems.length > 0) {
    throw new MigrateError(`the migration history does not match the migrations directory:\n${status.problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const applied = new Set(status.migrations.filter((m) => m.applied).map((m) => m.name));
  const appliedFresh = fresh.filter((f) => applied.has(f.name)).length;
  // Half applied: apply the rest, as kiln dev would on its next save, so the database is where the merged migration leads.
  if (appliedFresh > 0 && appliedFresh < fresh.length) await migrateUp(db, dir, { log: options.log });

  const last = fresh.at(-1) as MigrationFiles;
  const name = migrationName(
    options.now ?? new Date(),
    options.name ?? (kept.length === 0 ? 'initial' : `${slugOf(fresh[0] as MigrationFiles)} etc`),
    files.map((f) => f.name),
  );
  // Copied as it is: the merged migration leads exactly where the last one did.
  const snapshot = readFileSync(join(last.dir, 'snapshot.json'), 'utf8');
  const up = mergedUp(name, fresh);
  const folder = writeMigration(dir, name, { up, down: mergedDown(name, fresh), snapshot });
  try {
    if (appliedFresh > 0) await recordInstead(db, fresh, name, checksumOf(up, snapshot));
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  for (const f of fresh) rmSync(f.dir, { recursive: true, force: true });
  return { squashed: true, from: fresh.map((f) => f.name), name, folder, recorded: appliedFresh > 0 };
}

function slugOf(migration: MigrationFiles): string {
  return migration.name.slice('yyyymmddhhmmss_'.length);
}

function mergedUp(name: string, parts: readonly MigrationFiles[]): string {
  const header = [
    `-- Migration ${name}: up`,
    `-- Squashed by \`kiln migrate squash\` from ${parts.length} migrations, whose up.sql follow in order. Review it, edit`,
    '-- it if needed, and commit it with snapshot.json. `kiln migrate up` runs it in one transaction, statement by statement.',
  ];
  return `${header.join('\n')}\n\n${parts.map((p) => `-- ===== ${p.name} =====\n${p.up.trimEnd()}\n`).join('\n')}`;
}

function mergedDown(name: string, parts: readonly MigrationFiles[]): string {
  const irreversible = parts.some((p) => p.irreversible);
  const header = [
    ...(irreversible ? [IRREVERSIBLE_MARK] : []),
    `-- Migration ${name}: down`,
    '-- The down.sql of the squashed migrations, newest first. Data that up.sql dropped is not restored.',
    ...(irreversible ? ['-- A part below cannot be undone yet (CANNOT UNDO): write its statements, then delete the first line.'] : []),
  ];
  const body = [...parts].reverse().map((p) => `-- ===== ${p.name} =====\n${p.down.replace(`${IRREVERSIBLE_MARK}\n`, '').trimEnd()}\n`);
  return `${header.join('\n')}\n\n${body.join('\n')}`;
}

/** Replaces the rows of the merged migrations with one for the merged one, if the database is exactly at the last of them. */
async function recordInstead(db: Database, parts: readonly MigrationFiles[], name: string, checksum: string): Promise<void> {
  const last = parts.at(-1) as MigrationFiles;
  await withMigrationLock(db, async (conn) => {
    await conn.query('BEGIN');
    const drift = await driftFrom(conn, last.snapshot);
    if (drift.length > 0) throw new DriftError(last.name, drift);
    const names = parts.map((p) => p.name);
    await conn.query(`DELETE FROM "kiln_migrations" WHERE "name" IN (${names.map((_, i) => `$${i + 1}`).join(', ')})`, names);
    await conn.query(`INSERT INTO "kiln_migrations" ("name", "checksum") VALUES ($1, $2)`, [name, checksum]);
    await conn.query('COMMIT');
  });
}
