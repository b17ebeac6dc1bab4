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
  /** Asks about possible renames; given only at a terminal. */
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
  const plan = diffSnapshots(before, after, { renames, backfill });
  const unused = [...backfill.keys()].filter((k) => !plan.backfillsUsed.has(k));
  if (unused.length > 0) {
    throw new MigrateError(`--backfill ${unused.join(', ')}: no field by that name is added or becomes NOT NULL in this change`);
  }
  if (plan.refusals.length > 0) {
    throw new MigrateError(`the model change cannot be migrated safely:\n${plan.refusals.map((r) => `  - ${r}`).join('\n')}`);
  }
  const destructive = plan.steps.filter((s) => s.destructive);
  if (destructive.length > 0 && !options.allowDestructive) throw destructiveError(destructive);
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

function destructiveError(steps: readonly Step[]): MigrateError {
  return new MigrateError(
    `the model change has destructive steps; nothing was written:\n${steps.map((s) => `  - ${s.summary}: ${s.destructive}`).join('\n')}\n` +
      'Review them, then run again with --allow-destructive to generate the migration (each step is marked in up.sql).',
  );
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
