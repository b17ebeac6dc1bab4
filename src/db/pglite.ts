import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { StartupError } from '../config/startup-error.js';
import { type DataDirLock, lockDataDir, shownDataDir } from './data-dir-lock.js';
import { type Database, type Queryable, QueryObservers } from './database.js';
import { TEXT_PARSERS } from './wire-types.js';

/**
 * Embedded PostgreSQL (WASM). `dataDir` undefined keeps everything in memory. A data folder is locked
 * for as long as it is open (data-dir-lock.ts): a second process on it would lose writes.
 */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  const lock = dataDir === undefined ? undefined : await lockFolder(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir, { parsers: { ...TEXT_PARSERS } });
    await db.exec(`SET TimeZone = 'UTC'`);
  } catch (error) {
    lock?.release();
    throw error;
  }
  const observers = new QueryObservers();
  const run = async <R>(target: Pick<PGlite, 'query'>, text: string, values?: readonly unknown[]): Promise<R[]> => {
    const started = observers.begin(text);
    try {
      const result = await target.query<R>(text, values as unknown[] | undefined);
      return result.rows;
    } finally {
      if (started !== undefined) observers.end(started, text, values);
    }
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
    async close() {
      try {
        await db.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/** Creates the data folder if needed and locks it; a folder this user cannot write is a StartupError. */
async function lockFolder(dir: string): Promise<DataDirLock> {
  try {
    mkdirSync(dir, { recursive: true });
    return await lockDataDir(dir);
  } catch (error) {
    if (error instanceof StartupError) throw error;
    const { code, message } = error as NodeJS.ErrnoException;
    const reason = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'this user cannot write there' : message;
    throw new StartupError(`cannot use the data folder ${shownDataDir(dir)}: ${reason}. Set KILN_DATA_DIR to a folder this user can write.`, {
      cause: error,
    });
  }
}
