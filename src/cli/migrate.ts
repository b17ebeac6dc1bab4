/** `kiln migrate generate | up | down [N] | status | verify | squash`. */
import { relative } from 'node:path';
import type { Settings } from '../config/settings.js';
import type { Database } from '../db/database.js';
import { openDatabase } from '../db/open.js';
import { defaultMigrationsDir } from '../migrate/files.js';
import { generateMigration } from '../migrate/generate.js';
import { loadModelSource } from '../migrate/model-source.js';
import { terminalAsker } from '../migrate/prompt.js';
import { migrateDown, migrateUp } from '../migrate/runner.js';
import { createSchemaIfMissing } from '../migrate/serving.js';
import { squashMigrations } from '../migrate/squash.js';
import { migrationStatus, verifyMigrations } from '../migrate/status.js';
import { loadModel } from '../model/load.js';
import type { CliOptions } from './main.js';
import { settingsFor } from './settings-file.js';
import type { MigrateCommandName } from './usage.js';

export function migrationsDir(options: CliOptions): string {
  return options.migrations ?? defaultMigrationsDir(options.model);
}

const shown = (dir: string) => relative(process.cwd(), dir) || '.';

export async function runMigrate(command: MigrateCommandName, options: CliOptions): Promise<number> {
  const dir = migrationsDir(options);
  if (command === 'generate') return generate(dir, options);
  const settings = await settingsFor(options);
  const db = await openDatabase(settings);
  try {
    await createSchemaIfMissing(db, settings.dbSchema);
    const log = (line: string) => console.error(`kiln migrate ${command}: ${line}`);
    switch (command) {
      case 'up': {
        const result = await migrateUp(db, dir, { log });
        if (result.applied.length === 0) log(`nothing to apply; the database is at the last migration in ${shown(dir)}`);
        else log(`applied ${result.applied.length} migration${result.applied.length === 1 ? '' : 's'}; the database is up to date`);
        return 0;
      }
      case 'down': {
        await migrateDown(db, dir, options.count ?? 1, { log });
        return 0;
      }
      case 'status':
        return await status(db, dir, settings);
      case 'verify':
        return await verify(db, dir, options);
      case 'squash':
        return await squash(db, dir, options, log);
    }
  } finally {
    await db.close();
  }
}

async function generate(dir: string, options: CliOptions): Promise<number> {
  const { model, declaration } = await loadModelSource(options.model);
  const result = await generateMigration({
    model,
    declaration,
    dir,
    name: options.name,
    renames: options.rename,
    noRenames: options.noRenames,
    backfill: options.backfill,
    allowDestructive: options.allowDestructive,
    ask: terminalAsker(),
  });
  if (!result.written) {
    console.error(`kiln migrate generate: nothing to generate; the model matches the last migration in ${shown(dir)}`);
    return 0;
  }
  const lines = result.plan.steps.map((s) => `  ${s.destructive ? '! DESTRUCTIVE ' : ''}${s.summary}`);
  console.error(
    [
      `kiln migrate generate: wrote ${shown(result.folder)}/ (up.sql, down.sql, snapshot.json)`,
      ...(lines.length > 0 ? lines : ['  (no schema change: the snapshot records renames only)']),
      'Review up.sql, commit the folder, then apply it with "kiln migrate up".',
    ].join('\n'),
  );
  return 0;
}

function where(settings: Settings): string {
  return settings.databaseUrl ? `PostgreSQL, schema "${settings.dbSchema}"` : `PGlite in ${settings.dataDir}`;
}

async function status(db: Database, dir: string, settings: Settings): Promise<number> {
  const report = await migrationStatus(db, dir);
  const lines = [`Migrations in ${shown(dir)} (database: ${where(settings)}):`];
  if (report.migrations.length === 0) lines.push('  (none yet: run "kiln migrate generate")');
  for (const m of report.migrations) lines.push(`  ${m.applied ? `applied ${m.appliedAt}` : `pending${' '.repeat(25)}`}  ${m.name}`);
  for (const p of report.problems) lines.push(`  problem: ${p}`);
  lines.push(report.pending.length === 0 ? 'Nothing pending.' : `${report.pending.length} pending: apply with "kiln migrate up".`);
  console.log(lines.join('\n'));
  return report.problems.length === 0 ? 0 : 1;
}

async function verify(db: Database, dir: string, options: CliOptions): Promise<number> {
  const model = await loadModel(options.model);
  const report = await verifyMigrations(db, dir, model);
  if (report.ok) {
    const applied = report.migrations.length;
    console.log(`kiln migrate verify: ok; ${applied} migration${applied === 1 ? '' : 's'} applied, the database matches the last snapshot and the model`);
    return 0;
  }
  const lines = ['kiln migrate verify: problems found'];
  for (const p of report.problems) lines.push(`  history: ${p}`);
  for (const p of report.pending) lines.push(`  pending: ${p} is not applied (run "kiln migrate up")`);
  for (const d of report.drift) lines.push(`  drift: ${d}`);
  for (const change of report.modelChanges) lines.push(`  model: ${change} (no migration covers it; run "kiln migrate generate")`);
  console.log(lines.join('\n'));
  return 1;
}

async function squash(db: Database, dir: string, options: CliOptions, log: (line: string) => void): Promise<number> {
  const result = await squashMigrations(db, dir, { name: options.name, log });
  if (!result.squashed) {
    log(`nothing to squash in ${shown(dir)}: ${result.why}`);
    return 0;
  }
  log(
    [
      `merged the ${result.from.length} migrations not committed to git into ${shown(result.folder)}/:`,
      ...result.from.map((name) => `  ${name}`),
      result.recorded
        ? `The database had them applied; it now records ${result.name} in their place (no table changed).`
        : 'The database had none of them applied; "kiln migrate up" applies the merged one.',
      'Review up.sql, then commit the folder.',
    ].join('\n'),
  );
  return 0;
}
