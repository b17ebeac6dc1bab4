/**
 * The metrics of one app (GET /metrics), in a prom-client Registry of its own: tests and embedding
 * applications run several apps in one process, and the global registry would mix their counts.
 * Requests are counted by route pattern (`/v1/posts/:id`), never by URL, so the number of series stays
 * bounded by the routes the app serves.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/database.js';
import type { MetricsSource } from './metrics-endpoint.js';
import type { Signals } from './signals.js';

/** Seconds. Kiln answers a read by id in well under a millisecond, so the low end is finer than prom-client's default. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The route label of a request no route matched (404, 405 before routing). */
const UNMATCHED = '(unmatched)';

/** Distinct method/route/status combinations whose metric children are kept at hand; more (not expected) are looked up each time. */
const MAX_CACHED_SERIES = 10_000;

export interface AppMetrics {
  readonly registry: Registry;
  /** The signals of the app's parts (cache, rate limits, load shedding), counted in the registry. */
  readonly signals: Signals;
  /** Counts each response of `app` by method, route pattern and status, with its duration. */
  countRequests(app: FastifyInstance): void;
  /** The registry in the Prometheus text format. */
  readonly source: MetricsSource;
  /** Stops listening to the database pool. */
  close(): void;
}

/** The metrics of an app over `db`: the pool's gauges where the driver has a pool (PostgreSQL), none on PGlite. */
export function createMetrics(db: Database): AppMetrics {
  const registry = new Registry();
  // Event-loop lag, heap, GC, CPU, file descriptors: prom-client's standard names, which dashboards expect.
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'kiln_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'kiln_http_request_duration_seconds',
    help: 'Time from receiving a request to sending its response, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const cache = new Counter({
    name: 'kiln_cache_requests_total',
    help: 'Reads looked up in the response cache, by resource and outcome (hit, miss, bypass).',
    labelNames: ['resource', 'outcome'] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'kiln_rate_limited_total',
    help: 'Calls refused by a rate limit (429), by resource and operation.',
    labelNames: ['resource', 'operation'] as const,
    registers: [registry],
  });
  const shed = new Counter({
    name: 'kiln_shed_total',
    help: 'Requests refused by load shedding (503 KILN_OVERLOADED), by reason (event-loop, pool).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const stopPool = db.pool ? poolMetrics(registry, db.pool) : () => {};

  const signals: Signals = {
    cache: (resource, outcome) => cache.inc({ resource, outcome }),
    rateLimited: (resource, operation) => rateLimited.inc({ resource, operation }),
    shed: (reason) => shed.inc({ reason }),
  };

  return {
    registry,
    signals,
    countRequests(app) {
      // Label sets repeat: the children of each are looked up once (prom-client hashes the labels on every call).
      const series = new Map<string, { counter: { inc(): void }; histogram: { observe(value: number): void } }>();
      app.addHook('onResponse', (req, reply, done) => {
        const route = req.routeOptions.url ?? UNMATCHED;
        const status = reply.statusCode;
        const key = `${req.method} ${status} ${route}`;
        let children = series.get(key);
        if (children === undefined) {
          const labels = { method: req.method, route, status: String(status) };
          children = { counter: requests.labels(labels), histogram: durations.labels(labels) };
          if (series.size < MAX_CACHED_SERIES) series.set(key, children);
        }
        children.counter.inc();
        children.histogram.observe(reply.elapsedTime / 1000);
        done();
      });
    },
    source: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    close: stopPool,
  };
}

/** Signals that reach both `a` and `b`, either of which may be absent. */
export function joinSignals(a: Signals | undefined, b: Signals | undefined): Signals | undefined {
  if (!a || !b) return a ?? b;
  return {
    cache(resource, outcome) {
      a.cache(resource, outcome);
      b.cache(resource, outcome);
    },
    rateLimited(resource, operation) {
      a.rateLimited(resource, operation);
      b.rateLimited(resource, operation);
    },
    shed(reason) {
      a.shed(reason);
      b.shed(reason);
    },
  };
}

/** The PostgreSQL pool: connections open and idle, checkouts waiting, and how long each checkout waited. */
function poolMetrics(registry: Registry, pool: NonNullable<Database['pool']>): () => void {
  new Gauge({
    name: 'kiln_db_pool_max_connections',
    help: 'The most connections the PostgreSQL pool opens (KILN_DB_POOL_MAX).',
    registers: [registry],
    collect() {
      this.set(pool.max);
    },
  });
  new Gauge({
    name: 'kiln_db_pool_connections',
    help: 'PostgreSQL connections open in the pool, busy or idle.',
    registers: [registry],
    collect() {
      this.set(pool.total);
    },
  });
  new Gauge({
    name: 'kiln_db_pool_idle_connections',
    help: 'PostgreSQL connections open in the pool and idle.',
    registers: [registry],
    collect() {
      this.set(pool.idle);
    },
  });
  new Gauge({
    name: 'kiln_db_pool_waiting',
    help: 'Statements and transactions waiting for a PostgreSQL connection.',
    registers: [registry],
    collect() {
      this.set(pool.waiting);
    },
  });
  const wait = new Histogram({
    name: 'kiln_db_pool_wait_seconds',
    help: 'Time a statement or transaction waited for a PostgreSQL connection, opening it included.',
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return pool.observeWait((waitedMs) => wait.observe(waitedMs / 1000));
}
