import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { type Database, type Queryable, QueryObservers } from './database.js';

const identity = (value: string) => value;
/** bigint, numeric and date stay text so no precision or timezone is lost; the same as postgres.ts. */
const parsers = { 20: identity, 1700: identity, 1082: identity };

/** Embedded PostgreSQL (WASM). `dataDir` undefined keeps everything in memory. */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir, { parsers });
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
    close: () => db.close(),
  };
}
