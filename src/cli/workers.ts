/**
 * `kiln serve --workers N`: N processes serving one port through node:cluster (the primary hands each
 * new connection to the next worker in turn). The primary applies the migrations and the seed once,
 * before any worker starts, then only supervises: a worker that dies while serving is replaced, and
 * SIGTERM/SIGINT is passed to every worker, each of which drains its requests as a single `kiln serve`
 * does. Workers share nothing in memory, so anything shared must live in PostgreSQL or Redis: on the
 * embedded database (one process per data folder) N workers are refused.
 */
import cluster, { type Worker } from 'node:cluster';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Settings } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import { loadSeed, seedIfEmpty } from '../core/seed.js';
import { openDatabase } from '../db/open.js';
import { prepareMigratedSchema } from '../migrate/serving.js';
import type { Model } from '../model/ir.js';
import { clusterMetricsSource } from '../observability/cluster-metrics.js';
import { listenForMetrics, type MetricsListener } from '../observability/metrics-endpoint.js';
import { limitsFrom } from '../pipeline/context.js';
import type { CliOptions } from './main.js';
import { migrationsDir } from './migrate.js';

/** The environment variable that carries a worker's command line (its entry point cannot read the primary's). */
export const WORKER_ARGV = 'KILN_WORKER_ARGV';

/** Deaths counted to tell a crash loop (every replacement dying at once) from a worker that crashed once. */
const DEATH_WINDOW_MS = 60_000;

export function refuseWorkersWithoutPostgres(settings: Settings, workers: number): void {
  if (workers > 1 && !settings.databaseUrl) {
    throw new StartupError(
      `--workers ${workers} needs PostgreSQL (DATABASE_URL): the embedded database serves one process. Set DATABASE_URL, or serve without --workers`,
    );
  }
}

/**
 * The primary: prepares the database once, starts the workers, replaces one that dies, and on a
 * signal stops them all. Answers the exit code: 0 when every worker stopped cleanly.
 */
export async function runPrimary(options: CliOptions, settings: Settings, model: Model, argv: readonly string[]): Promise<number> {
  const workers = options.workers ?? 1;
  const log = (line: string) => console.error(`kiln serve: ${line}`);
  await prepareOnce(options, settings, model, log);

  const entry = fileURLToPath(new URL(`./worker-entry${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
  cluster.setupPrimary({ exec: entry, execArgv: loaderArgs(process.execArgv) });
  const env = { [WORKER_ARGV]: JSON.stringify(argv) };
  let stopping = false;
  let failed = false;
  const started = new Set<Worker>();
  const ready = new Set<number>();

  const fork = () => {
    const worker = cluster.fork(env);
    started.add(worker);
    worker.on('listening', () => {
      ready.add(worker.id);
      if (ready.size === workers) log(`${workers} workers listening (pids ${[...started].map((w) => w.process.pid).join(', ')})`);
    });
  };

  const deaths: number[] = [];
  const allExited = new Promise<void>((done) => {
    cluster.on('exit', (worker, code, signal) => {
      started.delete(worker);
      const wasReady = ready.delete(worker.id);
      const how = signal ?? `code ${code}`;
      if (stopping) {
        if (code !== 0) failed = true;
      } else if (!wasReady) {
        // It never listened: it failed to start (it printed why), and the others would fail alike.
        failed = true;
        stop();
      } else if (dyingTooOften(deaths, workers)) {
        log(`worker ${worker.process.pid} exited (${how}); ${deaths.length} workers died within a minute, stopping`);
        failed = true;
        stop();
      } else {
        log(`worker ${worker.process.pid} exited (${how}); starting another`);
        fork();
      }
      if (started.size === 0 && stopping) done();
    });
  });

  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of started) worker.process.kill('SIGTERM');
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const metrics = await serveClusterMetrics(settings, log).catch((error: unknown) => {
    stop();
    throw error;
  });
  for (let i = 0; i < workers; i++) fork();
  await allExited;
  await metrics?.close();
  return failed ? 1 : 0;
}

/**
 * KILN_METRICS without a token: the primary opens the metrics listener and answers each scrape with
 * the sum of every worker's metrics; the workers open none (start.ts). With a token, each worker serves
 * GET /metrics on the public port, and a scrape sees the worker its connection reached.
 */
async function serveClusterMetrics(settings: Settings, log: (line: string) => void): Promise<MetricsListener | undefined> {
  if (!settings.metrics || settings.metricsToken) return undefined;
  const listener = await listenForMetrics(settings.metricsHost, settings.metricsPort, clusterMetricsSource(), settings.problemTypeBase);
  log(`metrics of every worker at ${listener.url}/metrics`);
  return listener;
}

/** Records a death; true when more than three per worker happened in the last minute: replacing them only loops. */
function dyingTooOften(deaths: number[], workers: number): boolean {
  const now = Date.now();
  deaths.push(now);
  while ((deaths[0] ?? now) < now - DEATH_WINDOW_MS) deaths.shift();
  return deaths.length > workers * 3;
}

/** Migrations and the seed, applied by the primary alone: N workers racing to do it would only wait on each other. */
async function prepareOnce(options: CliOptions, settings: Settings, model: Model, log: (line: string) => void): Promise<void> {
  const seed = options.seed ? loadSeed(options.seed, model, limitsFrom(settings)) : undefined;
  const db = await openDatabase(settings);
  try {
    await prepareMigratedSchema(db, model, settings.dbSchema, { dir: migrationsDir(options), apply: options.migrate, log });
    const outcome = seed ? await seedIfEmpty(db, model, seed, settings) : undefined;
    if (outcome) log(outcome.status === 'loaded' ? `seed ${options.seed} loaded` : `seed ${options.seed} skipped: the database is not empty`);
  } finally {
    await db.close();
  }
}

/**
 * The primary's Node flags a worker needs (a loader such as tsx), without the ones that name the
 * primary's own code (`-e`, `--input-type`): the worker runs its entry file instead.
 */
function loaderArgs(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    if (arg === '-e' || arg === '--eval' || arg === '-p' || arg === '--print') i++;
    else if (!arg.startsWith('--input-type') && !arg.startsWith('--eval=')) kept.push(arg);
  }
  return kept;
}
