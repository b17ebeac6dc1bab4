/** `kiln migrate status` and `verify`, and the check `kiln serve` makes before it starts. */
import type { Database } from '../db/database.js';
import type { Model } from '../model/ir.js';
import { diffSnapshots } from './diff.js';
import { MigrateError, PendingMigrationsError } from './errors.js';
import { lastSnapshot, listMigrations } from './files.js';
import { NO_RENAMES } from './renames.js';
import { appliedMigrations, driftFrom, historyProblems } from './runner.js';
import { EMPTY_SNAPSHOT, type Snapshot, sameSnapshot, snapshotOf } from './snapshot.js';

export interface MigrationState {
  readonly name: string;
  readonly applied: boolean;
  readonly appliedAt?: string;
}

export interface StatusReport {
  readonly migrations: readonly MigrationState[];
  readonly pending: readonly string[];
  /** Edited, missing or out-of-order migrations. */
  readonly problems: readonly string[];
}

export async function migrationStatus(db: Database, dir: string): Promise<StatusReport> {
  const files = listMigrations(dir);
  const applied = await appliedMigrations(db);
  const byName = new Map(applied.map((a) => [a.name, a]));
  const names = [...new Set([...files.map((f) => f.name), ...applied.map((a) => a.name)])].sort();
  const migrations = names.map((name) => {
    const row = byName.get(name);
    return row ? { name, applied: true, appliedAt: row.appliedAt } : { name, applied: false };
  });
  return { migrations, pending: migrations.filter((m) => !m.applied).map((m) => m.name), problems: historyProblems(applied, files) };
}

export interface VerifyReport extends StatusReport {
  /** How the database differs from the snapshot of the last applied migration. */
  readonly drift: readonly string[];
  /** The model has changes no migration covers yet. */
  readonly modelAhead: boolean;
  /**
   * Those changes, one line each, as `generate` would summarise them. Without the rename decisions
   * `generate` takes, a rename shows as a drop and an add.
   */
  readonly modelChanges: readonly string[];
  readonly ok: boolean;
}

/** Everything `status` says, plus drift of the database and changes of the model not yet generated. */
export async function verifyMigrations(db: Database, dir: string, model?: Model): Promise<VerifyReport> {
  const status = await migrationStatus(db, dir);
  const files = listMigrations(dir);
  const lastApplied = [...status.migrations].reverse().find((m) => m.applied);
  const snapshot = files.find((f) => f.name === lastApplied?.name)?.snapshot ?? EMPTY_SNAPSHOT;
  const drift = await db.transaction((tx) => driftFrom(tx, snapshot));
  const modelChanges = model === undefined ? [] : changesNotGenerated(lastSnapshot(files), snapshotOf(model));
  const modelAhead = modelChanges.length > 0;
  return { ...status, drift, modelAhead, modelChanges, ok: status.problems.length === 0 && status.pending.length === 0 && drift.length === 0 && !modelAhead };
}

/** What generating from `last` to `model` would do; empty when the two are the same. */
function changesNotGenerated(last: Snapshot, model: Snapshot): string[] {
  if (sameSnapshot(last, model)) return [];
  const plan = diffSnapshots(last, model, { renames: NO_RENAMES });
  const changes = [...plan.steps.map((s) => s.summary), ...plan.refusals];
  // Snapshots that differ only in what no step shows (say, a column's order) still need a migration.
  return changes.length > 0 ? changes : ['the tables the model needs differ from the last snapshot'];
}

/** `kiln serve` starts only on a database at the last migration, with a model that migration covers. */
export async function assertReadyToServe(db: Database, dir: string, model: Model): Promise<void> {
  const status = await migrationStatus(db, dir);
  if (status.problems.length > 0) {
    throw new MigrateError(`the migration history does not match ${dir}:\n${status.problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  if (status.pending.length > 0) throw new PendingMigrationsError(status.pending);
  if (!sameSnapshot(lastSnapshot(listMigrations(dir)), snapshotOf(model))) {
    const none = status.migrations.length === 0;
    throw new MigrateError(
      none
        ? `there are no migrations in ${dir}: run "kiln migrate generate" to create the first one from the model`
        : `the model has changes that no migration in ${dir} covers: run "kiln migrate generate", review it, then "kiln migrate up"`,
    );
  }
}
