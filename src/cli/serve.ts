import { rmSync, watch } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import type { Database } from '../db/database.js';
import { openDatabase } from '../db/open.js';
import { SchemaMismatchError } from '../migrate/ensure-schema.js';
import { MigrateError } from '../migrate/errors.js';
import { generateMigration } from '../migrate/generate.js';
import { loadModelSource } from '../migrate/model-source.js';
import { terminalAsker } from '../migrate/prompt.js';
import { migrateUp } from '../migrate/runner.js';
import { createSchemaIfMissing } from '../migrate/serving.js';
import type { Model } from '../model/ir.js';
import { loadModel, ModelError } from '../model/load.js';
import { startKiln } from '../start.js';
import { banner } from './banner.js';
import type { CliOptions } from './main.js';
import { migrationsDir } from './migrate.js';
import { settingsFor } from './settings-file.js';

/**
 * How long after the signal open keep-alive connections may still bring a request, answered 503
 * KILN_SHUTTING_DOWN with Connection: close: a request a client sent on a connection it believed open
 * gets an answer it can act on instead of a reset. A second covers that race without holding up the
 * exit; the window is at most half of KILN_SHUTDOWN_TIMEOUT_MS, so it is never what times shutdown out.
 */
const DRAIN_MS = 1000;

/**
 * Serves until SIGTERM/SIGINT, then shuts down gracefully: stop accepting, answer requests on open
 * keep-alive connections with 503 for the drain window, let in-flight requests finish, close the pool.
 * Past KILN_SHUTDOWN_TIMEOUT_MS it exits with 1 rather than hang.
 */
export async function runServe(options: CliOptions): Promise<number> {
  const settings = await settingsFor(options);
  const model = await loadModel(options.model);
  const log = (line: string) => console.error(`kiln serve: ${line}`);
  const kiln = await startKiln({
    model,
    settings,
    seedFile: options.seed,
    schema: { mode: 'migrations', dir: migrationsDir(options), apply: options.migrate, log },
  });
  console.error(banner(kiln, model, settings, options));
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGTERM', () => done('SIGTERM'));
    process.once('SIGINT', () => done('SIGINT'));
  });
  const drainMs = Math.min(DRAIN_MS, Math.floor(settings.shutdownTimeoutMs / 2));
  kiln.app.log.info({ signal, drainMs }, 'shutting down');
  const timer = setTimeout(() => {
    kiln.app.log.error({ timeoutMs: settings.shutdownTimeoutMs }, 'shutdown timed out; exiting with requests still in flight');
    process.exit(1);
  }, settings.shutdownTimeoutMs);
  timer.unref();
  await kiln.close({ drainMs });
  clearTimeout(timer);
  kiln.app.log.info('stopped');
  return 0;
}

/**
 * Serves, and on every change of the model file generates the migration for it (printing what it
 * does), applies it and restarts on the same database. A broken edit, or a change that needs an
 * answer (a rename, a destructive step), keeps the old server running.
 */
export async function runDev(options: CliOptions): Promise<number> {
  const settings = await settingsFor(options);
  let db: Database = await openDatabase(settings);
  const dir = migrationsDir(options);
  const file = resolve(options.model);
  const schema = { mode: 'migrations', dir } as const;
  await createSchemaIfMissing(db, settings.dbSchema);
  let { model } = await syncMigrations(db, file, dir, options);
  let kiln = await startKiln({ model, settings, db, seedFile: options.seed, schema });
  console.error(`${banner(kiln, model, settings, options)}\nWatching ${options.model} for changes.`);
  let pending: NodeJS.Timeout | undefined;
  const reload = async () => {
    try {
      const { model: next, changed } = await syncMigrations(db, file, dir, options);
      // PostgreSQL connections keep prepared statements whose result types a migration may have
      // changed ("cached plan must not change result type"): serve the new model on a new pool.
      const renew = changed && db.kind === 'postgres';
      await kiln.close({ keepDatabase: !renew });
      if (renew) db = await openDatabase(settings);
      kiln = await startKiln({ model: next, settings, db, schema });
      model = next;
      console.error(`kiln dev: model reloaded (${model.resources.length} resources); API ${kiln.url}${settings.apiPrefix}`);
    } catch (error) {
      if (error instanceof ModelError || error instanceof SchemaMismatchError || error instanceof MigrateError)
        console.error(`kiln dev: ${error.message}\nkeeping the previous server running.`);
      else console.error('kiln dev: reload failed:', error);
    }
  };
  const watcher = watch(dirname(file), (_event, changed) => {
    if (changed !== basename(file)) return;
    clearTimeout(pending);
    pending = setTimeout(() => void reload(), 100);
  });
  await new Promise<void>((done) => {
    process.once('SIGTERM', () => done());
    process.once('SIGINT', () => done());
  });
  watcher.close();
  await kiln.close();
  return 0;
}

/** Generates the migration for a changed model, prints its steps and applies it; a migration that fails to apply is removed again. */
async function syncMigrations(db: Database, file: string, dir: string, options: CliOptions): Promise<{ model: Model; changed: boolean }> {
  const { model, declaration } = await loadModelSource(file);
  const result = await generateMigration({ model, declaration, dir, allowDestructive: options.allowDestructive, ask: terminalAsker() });
  if (result.written) {
    const steps = result.plan.steps.map((s) => `  ${s.destructive ? '! DESTRUCTIVE ' : ''}${s.summary}`);
    console.error(`kiln dev: the model changed; wrote ${relative(process.cwd(), result.folder)}/\n${steps.join('\n')}`);
  }
  try {
    const { applied } = await migrateUp(db, dir, { log: (line) => console.error(`kiln dev: ${line}`) });
    return { model, changed: applied.length > 0 };
  } catch (error) {
    if (result.written) {
      rmSync(result.folder, { recursive: true, force: true });
      console.error(`kiln dev: removed ${relative(process.cwd(), result.folder)}/ again, as it could not be applied`);
    }
    throw error;
  }
}
