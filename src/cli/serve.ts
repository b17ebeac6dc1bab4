import cluster from 'node:cluster';
import { resolve } from 'node:path';
import { refuseCacheAcrossWorkers } from '../cache/create-cache.js';
import type { Settings } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import type { Database } from '../db/database.js';
import { openDatabase } from '../db/open.js';
import { MigrateError } from '../migrate/errors.js';
import { terminalAsker } from '../migrate/prompt.js';
import { createSchemaIfMissing } from '../migrate/serving.js';
import { loadModel } from '../model/load.js';
import { startKiln } from '../start.js';
import { banner } from './banner.js';
import { devCorsSettings } from './dev-cors.js';
import { DevMigrations } from './dev-migrations.js';
import { Serial } from './dev-serial.js';
import { FileWatcher, modelFiles } from './dev-watch.js';
import type { CliOptions } from './main.js';
import { migrationsDir } from './migrate.js';
import { settingsFor } from './settings-file.js';
import { isUserError } from './user-errors.js';
import { refuseWorkersWithoutPostgres, runPrimary } from './workers.js';

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
export async function runServe(options: CliOptions, argv: readonly string[] = []): Promise<number> {
  const settings = await settingsFor(options);
  requireCursorSecret(settings);
  const workers = options.workers ?? 1;
  refuseWorkersWithoutPostgres(settings, workers);
  const model = await loadModel(options.model);
  refuseCacheAcrossWorkers(settings, model, workers);
  if (workers > 1 && cluster.isPrimary) return runPrimary(options, settings, model, argv);
  const log = (line: string) => console.error(`kiln serve: ${line}`);
  // A worker of --workers: the primary applied the migrations and the seed; the first worker shows the banner.
  const worker = cluster.isWorker ? cluster.worker : undefined;
  const kiln = await startKiln({
    model,
    settings,
    seedFile: worker ? undefined : options.seed,
    schema: { mode: 'migrations', dir: migrationsDir(options), apply: worker ? false : options.migrate, log },
  });
  if (!worker || worker.id === 1) console.error(banner(kiln, model, settings, options));
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGTERM', () => done('SIGTERM'));
    process.once('SIGINT', () => done('SIGINT'));
  });
  // A second signal (Ctrl+C reaches a worker and its primary, which passes it on) must not kill the drain.
  const ignore = () => {};
  process.on('SIGTERM', ignore).on('SIGINT', ignore);
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
 * On PostgreSQL, instances share the data and sit behind one address: a cursor one of them signed must
 * be accepted by the others and after a restart, which a random per-process key cannot do.
 */
function requireCursorSecret(settings: Settings): void {
  if (!settings.databaseUrl || settings.cursorSecret) return;
  throw new StartupError(
    'KILN_CURSOR_SECRET is not set: on PostgreSQL every instance must sign pagination cursors with the same key, or a cursor from one is refused by another and after a restart. Set it to at least 32 random bytes (e.g. `openssl rand -base64 48`), the same on every instance',
  );
}

/**
 * Serves, and on every change of the model (its file or any project file it imports) generates the
 * migration for it (printing what it does), applies it and restarts on the same database. A broken
 * edit, or a change that needs a decision no flag or answer gave, keeps the old server running.
 */
export async function runDev(options: CliOptions): Promise<number> {
  const { settings, corsDefault } = devCorsSettings(await settingsFor(options));
  let db: Database = await openDatabase(settings);
  const dir = migrationsDir(options);
  const file = resolve(options.model);
  const schema = { mode: 'migrations', dir } as const;
  // Shutting down ends a question still waiting for its answer, so the reload asking it can finish.
  const stopping = new AbortController();
  const migrations = new DevMigrations(file, dir, options, terminalAsker(process.stdin, process.stderr, stopping.signal));
  await createSchemaIfMissing(db, settings.dbSchema);
  const first = await migrations.sync(db);
  let kiln = await startKiln({ model: first.model, settings, db, seedFile: options.seed, schema, dev: true });
  let pending: NodeJS.Timeout | undefined;
  const watcher = new FileWatcher(() => {
    clearTimeout(pending);
    pending = setTimeout(() => void reloads.run(), 100);
  });
  watcher.set(await modelFiles(file));
  const reload = async () => {
    try {
      const { model, changed } = await migrations.sync(db);
      watcher.set(await modelFiles(file));
      // PostgreSQL connections keep prepared statements whose result types a migration may have
      // changed ("cached plan must not change result type"): serve the new model on a new pool.
      const renew = changed && db.kind === 'postgres';
      await kiln.close({ keepDatabase: !renew });
      if (renew) db = await openDatabase(settings);
      kiln = await startKiln({ model, settings, db, schema, dev: true });
      console.error(`kiln dev: model reloaded (${model.resources.length} resources); API ${kiln.url}${settings.apiPrefix}`);
    } catch (error) {
      if (stopping.signal.aborted) return;
      // An edit that broke an import may have added files to watch (say, a new file with a typo).
      watcher.set([...new Set([...watcher.files(), ...(await modelFiles(file))])]);
      if (isUserError(error)) {
        const advice = error instanceof MigrateError ? DevMigrations.advice(error) : '';
        console.error(`kiln dev: ${error.message}\n${advice}keeping the previous server running.`);
      } else console.error('kiln dev: reload failed:', error);
    }
  };
  const reloads = new Serial(reload);
  console.error(`${banner(kiln, first.model, settings, options, corsDefault, true)}\n${watching(options.model, watcher.files().length - 1)}`);
  await new Promise<void>((done) => {
    process.once('SIGTERM', () => done());
    process.once('SIGINT', () => done());
  });
  clearTimeout(pending);
  watcher.close();
  stopping.abort();
  await reloads.idle();
  await kiln.close();
  return 0;
}

function watching(model: string, imported: number): string {
  if (imported === 0) return `Watching ${model} for changes.`;
  return `Watching ${model} and the ${imported === 1 ? 'file' : `${imported} files`} it imports for changes.`;
}
