import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { type Database, type Queryable, QueryObservers } from './database.js';
import { TEXT_PARSERS } from './wire-types.js';

/** Embedded PostgreSQL (WASM). `dataDir` undefined keeps everything in memory. */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir, { parsers: { ...TEXT_PARSERS } });
  await db.exec(`SET TimeZone = 'UTC'`);
  const observers = new QueryObservers();
  const run = async <R>(target: Pick<PGlite, 'query'>, text: string, values?: readonly unknown[]): Promise<R[]> => {
    observers.notify(text);
    const result = await target.query<R>(text, values as unknown[] | undefined);
    return result.rows;
  };
  return {
    kind: 'pglite',
    query: (text, values) => run(db, text, values),
    transaction: (fn) =>
      db.transaction(async (inner) => {
        observers.notify('BEGIN');
        const tx: Queryable = { query: (text, values) => run(inner, text, values) };
        const result = await fn(tx);
        observers.notify('COMMIT');
        return result;
      }),
    async ping() {
      await db.query('SELECT 1');
    },
    observe: (listener) => observers.add(listener),
    // In-process: there is no connection to lose.
    onConnectionError: () => () => {},
    close: () => db.close(),
  };
}
