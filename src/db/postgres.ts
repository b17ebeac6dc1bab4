import { createHash } from 'node:crypto';
import pg from 'pg';
import { type ConnectionErrorListener, type Database, QueryObservers } from './database.js';
import { runTransaction } from './pg-transaction.js';
import { TEXT_PARSERS } from './wire-types.js';

export interface PostgresOptions {
  url: string;
  schema: string;
  poolMax: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  statementTimeoutMs: number;
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
  const pool = new pg.Pool({
    connectionString: options.url,
    // Shown in pg_stat_activity unless the URL names the application itself (?application_name=…).
    fallback_application_name: 'kiln',
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    options: `-c search_path=${options.schema} -c TimeZone=UTC`,
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
    const name = statementName(text);
    try {
      const result = await client.query({ text, values: values as unknown[] | undefined, ...(name ? { name } : {}) });
      return result.rows as R[];
    } finally {
      if (started !== undefined) observers.end(started, text, values);
    }
  };
  return {
    kind: 'postgres',
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
    close: () => pool.end(),
  };
}
