import { createHash } from 'node:crypto';
import pg from 'pg';
import { type Database, type Queryable, QueryObservers } from './database.js';

export interface PostgresOptions {
  url: string;
  schema: string;
  poolMax: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  statementTimeoutMs: number;
}

const identity = (value: string) => value;
/** Same wire types as PGlite's parsers (see pglite.ts), so both drivers hand back equal rows. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700 || oid === 1082) return identity;
    return pg.types.getTypeParser(oid, format);
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

export function openPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    options: `-c search_path=${options.schema} -c TimeZone=UTC`,
    types,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const observers = new QueryObservers();
  const run = async <R>(client: pg.Pool | pg.PoolClient, text: string, values?: readonly unknown[]): Promise<R[]> => {
    observers.notify(text);
    const name = statementName(text);
    const result = await client.query({ text, values: values as unknown[] | undefined, ...(name ? { name } : {}) });
    return result.rows as R[];
  };
  return {
    kind: 'postgres',
    query: (text, values) => run(pool, text, values),
    async transaction(fn) {
      const client = await pool.connect();
      const tx: Queryable = { query: (text, values) => run(client, text, values) };
      try {
        await run(client, 'BEGIN');
        const result = await fn(tx);
        await run(client, 'COMMIT');
        client.release();
        return result;
      } catch (error) {
        await client.query('ROLLBACK').then(
          () => client.release(),
          (rollbackError: Error) => client.release(rollbackError),
        );
        throw error;
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    observe: (listener) => observers.add(listener),
    close: () => pool.end(),
  };
}
