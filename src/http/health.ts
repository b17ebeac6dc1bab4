import type { FastifyInstance } from 'fastify';
import { KilnError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import type { ReplicaReads } from '../db/replicas.js';

const READY_TIMEOUT_MS = 2000;

/**
 * /healthz: the process answers. /readyz: it can reach the database, asked afresh on every call, so it
 * turns 200 again by itself once the database is back (the pool replaces the connections it lost).
 * A failed check is a 503 KILN_DATABASE_UNAVAILABLE with Retry-After; its cause goes to the fault log
 * through the error handler, once per cause rather than once per probe. While shutting down, both
 * answer 503 KILN_SHUTTING_DOWN from the shutdown gate in server.ts, which runs before any route.
 *
 * With read replicas, /readyz asks each of them too and lists their states in the order of
 * DATABASE_REPLICA_URLS (by position: their addresses stay out of a public answer). A replica down or
 * lagging leaves the instance ready, since reads then go to the primary; the primary down does not.
 */
export function registerHealth(app: FastifyInstance, db: Database): void {
  app.get('/healthz', async (_req, reply) => reply.type('application/json; charset=utf-8').send('{"status":"ok"}'));
  app.get('/readyz', async (_req, reply) => {
    try {
      await withTimeout(db.ping(), READY_TIMEOUT_MS);
    } catch (error) {
      throw new KilnError('KILN_DATABASE_UNAVAILABLE', { detail: 'the database did not answer', cause: error });
    }
    if (!db.replicas) return reply.type('application/json; charset=utf-8').send('{"status":"ready"}');
    const replicas = (await db.replicas.check(READY_TIMEOUT_MS)).map((r, i) => ({ replica: i + 1, state: r.state }));
    return reply.type('application/json; charset=utf-8').send(JSON.stringify({ status: 'ready', replicas }));
  });
  if (db.replicas) logReplicaChanges(app, db.replicas);
}

/** One line when a replica goes down, comes back, or starts or stops lagging: not one per read it fails. */
function logReplicaChanges(app: FastifyInstance, replicas: ReplicaReads): void {
  const stop = replicas.onChange(({ replica, state, error, lagMs }) => {
    if (state === 'down') app.log.warn({ replica, err: error }, `read replica ${replica} is down; its reads go to the primary`);
    else if (state === 'lagging') {
      const behind = Number.isFinite(lagMs) ? `is ${Math.round(lagMs ?? 0)} ms behind` : 'has replayed nothing since it started';
      app.log.warn({ replica, lagMs }, `read replica ${replica} ${behind}; its reads go to the primary`);
    } else app.log.info({ replica }, `read replica ${replica} serves reads again`);
  });
  app.addHook('onClose', (_app, done) => {
    stop();
    done();
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
