import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import type { Settings } from './config/settings.js';
import { loadSeed, type SeedOutcome, seedIfEmpty } from './core/seed.js';
import type { Database } from './db/database.js';
import { openDatabase } from './db/open.js';
import { listenFailure } from './http/listen-errors.js';
import { buildApp, type KilnApp, type KilnAppOptions } from './http/server.js';
import { ensureSchema } from './migrate/ensure-schema.js';
import { type MigratedSchemaOptions, prepareMigratedSchema } from './migrate/serving.js';
import type { Model } from './model/ir.js';
import { shareWithPrimary } from './observability/cluster-metrics.js';
import { listenForMetrics } from './observability/metrics-endpoint.js';
import { limitsFrom } from './pipeline/context.js';

/**
 * How the database schema is brought in line with the model on start: `ensure` creates missing
 * tables (programmatic use and tests on empty databases); `migrations` requires the migrations of
 * `dir` to be applied, applying them first when `apply` is set (`kiln serve --migrate`, `kiln dev`).
 */
export type SchemaMode = { readonly mode: 'ensure' } | ({ readonly mode: 'migrations' } & MigratedSchemaOptions);

export interface StartOptions {
  readonly model: Model;
  readonly settings: Settings;
  /** A database already open; otherwise one is opened from the settings. */
  readonly db?: Database;
  /** JSON file with records to load into an empty database. */
  readonly seedFile?: string;
  readonly title?: string;
  readonly logStream?: NodeJS.WritableStream;
  /** Default `ensure`. */
  readonly schema?: SchemaMode;
  /** The pipeline's extension points: see KilnAppOptions. */
  readonly authenticators?: KilnAppOptions['authenticators'];
  readonly rateLimiters?: KilnAppOptions['rateLimiters'];
  readonly access?: KilnAppOptions['access'];
  readonly signals?: KilnAppOptions['signals'];
  /** Custom routes, besides the model's own. */
  readonly routes?: KilnAppOptions['routes'];
  readonly dev?: boolean;
}

export interface RunningKiln extends KilnApp {
  /** `http://host:port` the server listens on. */
  readonly url: string;
  /** True when the seed file was loaded (the database was empty). */
  readonly seeded: boolean;
  /** What became of the seed file, when one was given. */
  readonly seed?: SeedOutcome;
  /** `http://host:port` of the metrics listener (KILN_METRICS without KILN_METRICS_TOKEN); the metrics are at `/metrics` under it. */
  readonly metricsUrl?: string;
}

/** Opens the database, brings its schema in line with the model, seeds an empty database, and listens. */
export async function startKiln(options: StartOptions): Promise<RunningKiln> {
  // A broken seed file stops the start before the database is touched.
  const seed = options.seedFile ? loadSeed(options.seedFile, options.model, limitsFrom(options.settings)) : undefined;
  const db = options.db ?? (await openDatabase(options.settings));
  try {
    if (options.schema?.mode === 'migrations') await prepareMigratedSchema(db, options.model, options.settings.dbSchema, options.schema);
    else await ensureSchema(db, options.model, options.settings.dbSchema);
    const seeded = seed ? await seedIfEmpty(db, options.model, seed, options.settings) : undefined;
    const kiln = await buildApp({
      model: options.model,
      settings: options.settings,
      db,
      title: options.title,
      logStream: options.logStream,
      authenticators: options.authenticators,
      rateLimiters: options.rateLimiters,
      access: options.access,
      signals: options.signals,
      routes: options.routes,
      dev: options.dev,
    });
    const { host, port: wanted } = options.settings;
    await kiln.app.listen({ host, port: wanted }).catch(async (error: unknown) => {
      await kiln.close({ keepDatabase: true }).catch(() => {});
      throw listenFailure(error, host, wanted);
    });
    const { port } = kiln.app.server.address() as AddressInfo;
    const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
    const served = { ...kiln, url: `http://${shownHost}:${port}`, seeded: seeded?.status === 'loaded', seed: seeded };
    return await withMetricsListener(served, options.settings);
  } catch (error) {
    if (!options.db) await db.close().catch(() => {});
    throw error;
  }
}

/**
 * KILN_METRICS without a token: the metrics get a listener of their own, closed with the app. A worker
 * of `kiln serve --workers N` opens none: the primary serves every worker's metrics (cluster-metrics.ts).
 */
async function withMetricsListener(kiln: RunningKiln, settings: Settings): Promise<RunningKiln> {
  if (!kiln.metrics || settings.metricsToken) return kiln;
  if (cluster.isWorker) {
    shareWithPrimary(kiln.metrics.registry);
    return kiln;
  }
  const listener = await listenForMetrics(settings.metricsHost, settings.metricsPort, kiln.metrics.source, settings.problemTypeBase).catch(
    async (error: unknown) => {
      await kiln.close({ keepDatabase: true }).catch(() => {});
      throw error;
    },
  );
  let closed: Promise<void> | undefined;
  return {
    ...kiln,
    metricsUrl: listener.url,
    async close(options) {
      closed ??= listener.close();
      await Promise.all([closed, kiln.close(options)]);
    },
  };
}
