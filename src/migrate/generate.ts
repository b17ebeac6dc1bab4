/**
 * `kiln migrate generate`: diff the model against the snapshot of the last migration and write the
 * next migration folder, or say there is nothing to do. Generation reads files only; it never
 * connects to a database, so the same model always yields the same SQL.
 */
import type { Model } from '../model/ir.js';
import { diffSnapshots } from './diff.js';
import { MigrateError } from './errors.js';
import { lastSnapshot, listMigrations, migrationName, slugify, writeMigration } from './files.js';
import type { Plan, Step } from './plan.js';
import { renameHints } from './rename-hints.js';
import { type Asker, type RenameDecisions, resolveRenames } from './renames.js';
import { renderDown, renderUp } from './render.js';
import { EMPTY_SNAPSHOT, sameSnapshot, serializeSnapshot, snapshotOf } from './snapshot.js';

export interface GenerateOptions {
  readonly model: Model;
  /** The model as declared, for its `renamedFrom` hints. */
  readonly declaration?: unknown;
  readonly dir: string;
  readonly name?: string;
  /** `--rename` flags. */
  readonly renames?: readonly string[];
  readonly noRenames?: boolean;
  /** `--backfill resource.field=<SQL expression>` flags. */
  readonly backfill?: readonly string[];
  readonly allowDestructive?: boolean;
  /**
   * Asks, at a terminal, what flags would otherwise have to say: which pairs are renames, the value
   * existing rows get in a new required field, and whether destructive steps may be written.
   */
  readonly ask?: Asker;
  readonly now?: Date;
}

export type GenerateResult =
  | { readonly written: false }
  | { readonly written: true; readonly name: string; readonly folder: string; readonly plan: Plan; readonly up: string; readonly down: string };

export async function generateMigration(options: GenerateOptions): Promise<GenerateResult> {
  const existing = listMigrations(options.dir);
  const before = lastSnapshot(existing);
  const after = snapshotOf(options.model);
  if (sameSnapshot(before, after)) return { written: false };
  const backfill = parseBackfill(options.backfill ?? []);
  const renames = await resolveRenames(before, after, {
    hints: renameHints(options.declaration),
    flags: options.renames ?? [],
    noRenames: options.noRenames,
    ask: options.ask,
  });
  let plan = diffSnapshots(before, after, { renames, backfill });
  // --allow-destructive already says what to do with such a field: add it as it is.
  if (options.ask && !options.allowDestructive && (await askBackfills(plan, backfill, options.ask))) plan = diffSnapshots(before, after, { renames, backfill });
  const unused = [...backfill.keys()].filter((k) => !plan.backfillsUsed.has(k));
  if (unused.length > 0) {
    throw new MigrateError(`--backfill ${unused.join(', ')}: no field by that name is added or becomes NOT NULL in this change`);
  }
  if (plan.refusals.length > 0) {
    throw new MigrateError(`the model change cannot be migrated safely:\n${plan.refusals.map((r) => `  - ${r}`).join('\n')}`);
  }
  const destructive = plan.steps.filter((s) => s.destructive);
  if (destructive.length > 0 && !options.allowDestructive) {
    if (!options.ask) throw new DestructiveStepsError(destructive);
    if (!(await options.ask.confirm(`The model change has destructive steps:\n${stepList(destructive)}\nWrite the migration with them?`))) {
      throw new MigrateError('the destructive steps were declined; nothing was written');
    }
  }
  const down = diffSnapshots(after, before, { renames: invert(renames), down: true });
  const name = migrationName(
    options.now ?? new Date(),
    options.name ?? defaultName(before === EMPTY_SNAPSHOT || before.tables.length === 0, plan),
    existing.map((m) => m.name),
  );
  const up = renderUp(name, plan, recordedRenames(renames));
  const downSql = renderDown(name, down);
  const folder = writeMigration(options.dir, name, { up, down: downSql, snapshot: serializeSnapshot(after) });
  return { written: true, name, folder, plan, up, down: downSql };
}

/** Destructive steps without --allow-destructive and without a terminal to ask at. */
export class DestructiveStepsError extends MigrateError {
  constructor(readonly steps: readonly Step[]) {
    super(
      `the model change has destructive steps; nothing was written:\n${stepList(steps)}\n` +
        'Review them, then run again with --allow-destructive to generate the migration (each step is marked in up.sql).',
    );
    this.name = 'DestructiveStepsError';
  }
}

function stepList(steps: readonly Step[]): string {
  return steps.map((s) => `  - ${s.summary}: ${s.destructive}`).join('\n');
}

/**
 * Asks for the value existing rows get in each required field that has none, adding the answers to
 * `backfill`; true when it added any. An empty answer cancels the whole migration.
 */
async function askBackfills(plan: Plan, backfill: Map<string, string>, ask: Asker): Promise<boolean> {
  const needed = plan.steps.flatMap((s) => (s.needsValue && !backfill.has(s.needsValue.field) ? [s.needsValue] : []));
  for (const { field, table, change } of needed) {
    const question =
      change === 'added'
        ? `${field} is a new required field without a default: value for the existing rows of ${table} (SQL expression, empty to cancel):`
        : `${field} becomes required: value for the rows of ${table} that hold NULL in it (SQL expression, empty to cancel):`;
    const answer = await ask.text(question);
    if (answer === '') throw new MigrateError(`no value given for ${field}; nothing was written`);
    backfill.set(field, answer);
  }
  return needed.length > 0;
}

function parseBackfill(flags: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const flag of flags) {
    const m = /^([A-Za-z][A-Za-z0-9]*\.[A-Za-z][A-Za-z0-9]*)=(.+)$/s.exec(flag);
    if (!m) throw new MigrateError(`--backfill ${flag}: expected resource.field=<SQL expression>, e.g. --backfill "posts.slug=lower(title)"`);
    out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** Named after the first change to a resource or field (constraint steps come first in the file but say less). */
function defaultName(initial: boolean, plan: Plan): string {
  if (initial) return 'initial';
  const main = /^(create resource|drop resource|rename resource|rename field|add field|drop field|alter field|enum|create join table|drop join table)/;
  const first = plan.steps.find((s) => main.test(s.summary)) ?? plan.steps[0];
  if (!first) return 'rename';
  const words = (first.summary.split(/[:(]/)[0] ?? '').replace(/→.*/, '');
  return slugify(plan.steps.length > 1 ? `${words} etc` : words);
}

/** The decisions seen from the new snapshot back to the old one, for down.sql. */
function invert(renames: RenameDecisions): RenameDecisions {
  const resources = new Map([...renames.resources].map(([to, from]) => [from, to]));
  const oldResource = (key: string) => {
    const [resource = '', field = ''] = key.split('.');
    return [renames.resources.get(resource) ?? resource, field] as const;
  };
  const fields = new Map(
    [...renames.fields].map(([key, from]) => {
      const [resource, to] = oldResource(key);
      return [`${resource}.${from}`, to];
    }),
  );
  const values = new Map(
    [...renames.values].map(([key, map]) => {
      const [resource, field] = oldResource(key);
      const oldField = renames.fields.get(key) ?? field;
      return [`${resource}.${oldField}`, new Map([...map].map(([to, from]) => [from, to]))];
    }),
  );
  return { resources, fields, values };
}

function recordedRenames(renames: RenameDecisions): string[] {
  return [
    ...[...renames.resources].map(([to, from]) => `resource ${from} → ${to}`),
    ...[...renames.fields].map(([key, from]) => `field ${key.split('.')[0]}.${from} → ${key.split('.')[1]}`),
  ];
}
