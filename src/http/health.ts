import type { FastifyInstance } from 'fastify';
import { KilnError } from '../core/errors.js';
import type { Database } from '../db/database.js';

const READY_TIMEOUT_MS = 2000;

/**
 * /healthz: the process answers. /readyz: it can reach the database, asked afresh on every call, so it
 * turns 200 again by itself once the database is back (the pool replaces the connections it lost).
 * A failed check is a 503 KILN_DATABASE_UNAVAILABLE with Retry-After; its cause goes to the fault log
 * through the error handler, once per cause rather than once per probe. While shutting down, both
 * answer 503 KILN_SHUTTING_DOWN from the shutdown gate in server.ts, which runs before any route.
 */
export function registerHealth(app: FastifyInstance, db: Database): void {
  app.get('/healthz', async (_req, reply) => reply.type('application/json; charset=utf-8').send('{"status":"ok"}'));
  app.get('/readyz', async (_req, reply) => {
    try {
      await withTimeout(db.ping(), READY_TIMEOUT_MS);
    } catch (error) {
      throw new KilnError('KILN_DATABASE_UNAVAILABLE', { detail: 'the database did not answer', cause: error });
    }
    return reply.type('application/json; charset=utf-8').send('{"status":"ready"}');
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
