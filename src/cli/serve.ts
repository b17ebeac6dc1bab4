import { watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Settings } from '../config/settings.js';
import type { Database } from '../db/database.js';
import { openDatabase } from '../db/open.js';
import type { Model } from '../model/ir.js';
import { loadModel, ModelError } from '../model/load.js';
import { SchemaMismatchError } from '../sql/ensure-schema.js';
import { type RunningKiln, startKiln } from '../start.js';
import type { CliOptions } from './main.js';
import { settingsFor } from './settings-file.js';

function banner(kiln: RunningKiln, model: Model, settings: Settings, options: CliOptions): string {
  const db = settings.databaseUrl
    ? `PostgreSQL (DATABASE_URL), schema "${settings.dbSchema}"`
    : `embedded PGlite in ${settings.dataDir === 'memory' ? 'memory' : `./${settings.dataDir}`} (set DATABASE_URL for PostgreSQL)`;
  return [
    `Kiln is serving ${options.model}`,
    `  API       ${kiln.url}${settings.apiPrefix}  (${model.resources.map((r) => `/${r.path}`).join(', ')})`,
    `  Docs      ${kiln.url}/docs`,
    `  OpenAPI   ${kiln.url}/openapi.json`,
    `  Health    ${kiln.url}/healthz  ${kiln.url}/readyz`,
    `  Database  ${db}`,
    ...(kiln.seeded ? [`  Seeded    ${options.seed} (first run)`] : []),
    'Press Ctrl+C to stop.',
  ].join('\n');
}

/**
 * Serves until SIGTERM/SIGINT, then shuts down gracefully: stop accepting, let in-flight requests
 * finish, close the pool. Past KILN_SHUTDOWN_TIMEOUT_MS it exits with 1 rather than hang.
 */
export async function runServe(options: CliOptions): Promise<number> {
  const settings = await settingsFor(options);
  const model = await loadModel(options.model);
  const kiln = await startKiln({ model, settings, seedFile: options.seed });
  console.error(banner(kiln, model, settings, options));
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGTERM', () => done('SIGTERM'));
    process.once('SIGINT', () => done('SIGINT'));
  });
  kiln.app.log.info({ signal }, 'shutting down');
  const timer = setTimeout(() => {
    kiln.app.log.error({ timeoutMs: settings.shutdownTimeoutMs }, 'shutdown timed out; exiting with requests still in flight');
    process.exit(1);
  }, settings.shutdownTimeoutMs);
  timer.unref();
  await kiln.close();
  clearTimeout(timer);
  kiln.app.log.info('stopped');
  return 0;
}

/** Serves, and restarts on the same database when the model file changes; a broken edit keeps the old server. */
export async function runDev(options: CliOptions): Promise<number> {
  const settings = await settingsFor(options);
  const db: Database = await openDatabase(settings);
  let model = await loadModel(options.model);
  let kiln = await startKiln({ model, settings, db, seedFile: options.seed });
  console.error(`${banner(kiln, model, settings, options)}\nWatching ${options.model} for changes.`);
  const file = resolve(options.model);
  let pending: NodeJS.Timeout | undefined;
  const reload = async () => {
    try {
      const next = await loadModel(file);
      await kiln.close({ keepDatabase: true });
      kiln = await startKiln({ model: next, settings, db });
      model = next;
      console.error(`kiln dev: model reloaded (${model.resources.length} resources)`);
    } catch (error) {
      if (error instanceof ModelError || error instanceof SchemaMismatchError)
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
