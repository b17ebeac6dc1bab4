import type pg from 'pg';
import { isConnectionFailure } from './connection-errors.js';
import type { Queryable } from './database.js';

type Run = <R>(client: pg.PoolClient, text: string, values?: readonly unknown[]) => Promise<R[]>;

/**
 * Runs `fn` in one transaction on a client checked out of the pool: commits when it resolves, rolls
 * back when it throws, and always hands the client back. Opening the transaction fails like any
 * statement when no connection can be had.
 */
export async function runTransaction<T>(pool: pg.Pool, run: Run, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const lease = await checkOut(pool, run);
  let result: T;
  try {
    await lease.query('BEGIN');
    result = await fn({ query: (text, values) => lease.query(text, values) });
    await lease.query('COMMIT');
  } catch (error) {
    await lease.abort(error);
    throw error;
  }
  lease.release();
  return result;
}

/**
 * Checks a client out with a listener on it from the first moment. Not `await pool.connect()`: the
 * promise hands the client over a few microtasks later, but a new connection's first bytes can carry
 * its ReadyForQuery and, in the same read, the FATAL of a pg_terminate_backend; pg emits that 'error'
 * synchronously, before any microtask runs. The callback runs within the same read, so it is not late.
 */
function checkOut(pool: pg.Pool, run: Run): Promise<Lease> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client) => {
      if (error || !client) reject(error ?? new Error('the pool handed out no client'));
      else resolve(new Lease(client, run));
    });
  });
}

/**
 * A client while it is checked out. pg's pool listens for a client's 'error' event only while the
 * client is idle in the pool; a connection that dies while checked out (pg_terminate_backend, a
 * restart, a reset socket) emits 'error' on the client, and an 'error' event nobody listens for is an
 * uncaught exception that ends the process. So the lease listens from check-out to release, and
 * remembers the first such error: it is the cause every later statement on the client fails with.
 */
class Lease {
  readonly #client: pg.PoolClient;
  readonly #run: Run;
  #lost: Error | undefined;
  #released = false;
  readonly #onError = (error: Error) => {
    this.#lost ??= error;
  };

  constructor(client: pg.PoolClient, run: Run) {
    this.#client = client;
    this.#run = run;
    client.on('error', this.#onError);
  }

  query<R>(text: string, values?: readonly unknown[]): Promise<R[]> {
    if (this.#lost) return Promise.reject(this.#lost);
    // A statement after release would run on a client that may already serve someone else.
    if (this.#released) return Promise.reject(new Error('statement sent on a transaction that has already ended'));
    return this.#run<R>(this.#client, text, values);
  }

  /**
   * Ends a failed transaction without throwing past `error`. On a connection that is gone, ROLLBACK
   * could only fail (or wait on a dead socket): the client is handed back with the error instead, so
   * the pool closes it, and the server rolls back the transaction of a closed session by itself.
   */
  async abort(error: unknown): Promise<void> {
    const cause = (error as { cause?: unknown } | null)?.cause;
    if (this.#lost || isConnectionFailure(error) || isConnectionFailure(cause)) {
      this.release(this.#lost ?? asError(error));
      return;
    }
    try {
      await this.#run(this.#client, 'ROLLBACK');
      this.release(this.#lost);
    } catch (rollbackError) {
      this.release(asError(rollbackError));
    }
  }

  /** Back to the pool; with an error the pool discards the client rather than reuse it. */
  release(error?: Error): void {
    if (this.#released) return;
    this.#released = true;
    this.#client.release(error);
    // Only now: the pool attached its own idle listener in release(), so there is no moment without one.
    this.#client.removeListener('error', this.#onError);
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
