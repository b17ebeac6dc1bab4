import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Settings } from '../config/settings.js';
import { type ConnectionErrorListener, type ConnectionPool, type Database, QueryObservers } from './database.js';
import { runTransaction } from './pg-transaction.js';
import { TEXT_PARSERS } from './wire-types.js';

export interface PostgresOptions {
  url: string;
  schema: string;
  poolMax: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  statementTimeoutMs: number;
  /**
   * `transaction`: the URL is a pooler in transaction mode, which hands each transaction (or single
   * statement) whatever server connection is free. A statement prepared by name on one would be
   * unknown on the next, and PgBouncer refuses startup options it cannot replay: so statements run
   * unnamed, and search_path, TimeZone and statement_timeout come from the role (pooler-session.ts).
   */
  pooler?: 'none' | 'transaction';
}

/** The pool options the settings give, for the primary (DATABASE_URL) or a replica's `url`. */
export function postgresOptionsFrom(
  settings: Pick<Settings, 'dbSchema' | 'dbPoolMax' | 'dbConnectTimeoutMs' | 'dbIdleTimeoutMs' | 'dbStatementTimeoutMs' | 'dbPooler'>,
  url: string,
): PostgresOptions {
  return {
    url,
    schema: settings.dbSchema,
    poolMax: settings.dbPoolMax,
    connectTimeoutMs: settings.dbConnectTimeoutMs,
    idleTimeoutMs: settings.dbIdleTimeoutMs,
    statementTimeoutMs: settings.dbStatementTimeoutMs,
    pooler: settings.dbPooler as 'none' | 'transaction',
  };
}

/** Same wire types as PGlite's parsers (wire-types.ts), so both drivers hand back equal rows. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    return TEXT_PARSERS[oid] ?? pg.types.getTypeParser(oid, format);
  },
};

/**
 * Each distinct statement text gets a stable name, so pg prepares it once per connection and then
 * only binds parameters. The cache is bounded: shapes beyond it run unnamed.
 */
const MAX_PREPARED = 1000;
const statementNames = new Map<string, string>();
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED) {
    name = `k${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * A pg pool. Connection loss never takes the process down: a statement on a dead connection rejects
 * (the caller answers 503), the pool drops the connection and opens another for the next statement,
 * and a connection that dies while idle is reported to `onConnectionError` listeners.
 */
export function openPostgres(options: PostgresOptions): Database {
  const pooled = options.pooler === 'transaction';
  const pool = new pg.Pool({
    connectionString: options.url,
    // Shown in pg_stat_activity unless the URL names the application itself (?application_name=…).
    fallback_application_name: 'kiln',
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs,
    ...(!pooled && { statement_timeout: options.statementTimeoutMs, options: `-c search_path=${options.schema} -c TimeZone=UTC` }),
    types,
  });
  const connectionErrors = new Set<ConnectionErrorListener>();
  // An idle connection that dies (a restart, pg_terminate_backend) has already been dropped by the
  // pool, and the next statement opens another: nobody waits on it, so it is only reported. Without
  // a listener here the error would be an uncaught exception.
  pool.on('error', (error) => {
    for (const listener of connectionErrors) listener(error);
  });
  const observers = new QueryObservers();
  const run = async <R>(client: pg.Pool | pg.PoolClient, text: string, values?: readonly unknown[]): Promise<R[]> => {
    const started = observers.begin(text);
    const name = pooled ? undefined : statementName(text);
    try {
      const result = await client.query({ text, values: values as unknown[] | undefined, ...(name ? { name } : {}) });
      return result.rows as R[];
    } finally {
      if (started !== undefined) observers.end(started, text, values);
    }
  };
  return {
    kind: 'postgres',
    ...(pooled && { transactionPooled: true }),
    // pool.query listens for the client's 'error' while the statement runs and drops a client that failed.
    query: (text, values) => run(pool, text, values),
    transaction: (fn) => runTransaction(pool, run, fn),
    async ping() {
      await pool.query('SELECT 1');
    },
    observe: (listener) => observers.add(listener),
    onConnectionError(listener) {
      connectionErrors.add(listener);
      return () => connectionErrors.delete(listener);
    },
    pool: poolGauges(pool, options.poolMax),
    close: () => pool.end(),
  };
}

type Checkout = (error: Error | undefined, client: pg.PoolClient | undefined, release: (error?: unknown) => void) => void;

/**
 * The pool's counts, and the time each checkout waits for its connection. Every checkout goes through
 * pool.connect with a callback (pool.query calls it, and so does runTransaction), so the instance's
 * connect is wrapped to time it; without a listener the wrapper only passes the call on.
 */
function poolGauges(pool: pg.Pool, max: number): ConnectionPool {
  const listeners = new Set<(waitedMs: number) => void>();
  // Checkouts not yet given a connection, oldest first (pg-pool serves them in that order).
  const pending = new Set<{ readonly started: number }>();
  const connect = pool.connect.bind(pool) as (callback?: Checkout) => unknown;
  (pool as unknown as { connect: (callback?: Checkout) => unknown }).connect = (callback) => {
    if (listeners.size === 0 || typeof callback !== 'function') return connect(callback);
    const checkout = { started: performance.now() };
    pending.add(checkout);
    return connect((error, client, release) => {
      pending.delete(checkout);
      const waitedMs = performance.now() - checkout.started;
      for (const listener of listeners) listener(waitedMs);
      callback(error, client, release);
    });
  };
  return {
    max,
    get total() {
      return pool.totalCount;
    },
    get idle() {
      return pool.idleCount;
    },
    get waiting() {
      return pool.waitingCount;
    },
    observeWait(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get oldestWaitMs() {
      if (pool.waitingCount === 0) return 0;
      for (const checkout of pending) return performance.now() - checkout.started;
      return 0;
    },
  };
}
