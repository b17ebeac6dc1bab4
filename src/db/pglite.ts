import { mkdirSync, openAsBlob } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { StartupError } from '../config/startup-error.js';
import { type DataDirLock, lockDataDir, shownDataDir } from './data-dir-lock.js';
import { type Database, type Queryable, QueryObservers } from './database.js';
import { TEXT_PARSERS } from './wire-types.js';

/** Names the template of in-memory databases for `kiln` processes (read by open.ts; see memoryTemplate). */
export const MEMORY_TEMPLATE_ENV = 'KILN_PGLITE_MEMORY_TEMPLATE';

export interface PgliteOptions {
  /**
   * The path of an uncompressed dump (`dumpDataDir('none')`) of a fresh in-memory database made by
   * this PGlite version. An in-memory database loads it instead of running initdb, which is most of
   * PGlite's start-up (about 3 s against 0.6 s), and the test suite opens one per test server. A data
   * folder never uses it: its files are its own.
   */
  readonly memoryTemplate?: string;
}

/**
 * Embedded PostgreSQL (WASM). `dataDir` undefined keeps everything in memory. A data folder is locked
 * for as long as it is open (data-dir-lock.ts): a second process on it would lose writes.
 */
export async function openPglite(dataDir: string | undefined, options: PgliteOptions = {}): Promise<Database> {
  const lock = dataDir === undefined ? undefined : await lockFolder(dataDir);
  let db: PGlite;
  try {
    db =
      dataDir === undefined
        ? await (options.memoryTemplate !== undefined ? createFromTemplate(options.memoryTemplate) : createPglite(undefined))
        : await openFolder(dataDir);
    // A session setting, not part of the files: set on every instance, from a template or not.
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

function createPglite(dataDir: string | undefined, loadDataDir?: Blob): Promise<PGlite> {
  return PGlite.create(dataDir, { parsers: { ...TEXT_PARSERS }, ...(loadDataDir && { loadDataDir }) });
}

/**
 * PGlite on a data folder. A folder it cannot start on (made by a PGlite of another PostgreSQL major
 * version, or not a PGlite folder at all) fails deep inside PGlite: a StartupError says which folder,
 * what it holds, and what to do.
 */
async function openFolder(dataDir: string): Promise<PGlite> {
  try {
    return await createPglite(dataDir);
  } catch (error) {
    const version = await readFile(join(dataDir, 'PG_VERSION'), 'utf8').then(
      (text) => text.trim(),
      () => undefined,
    );
    const holds = version === undefined ? '' : ` (its PG_VERSION says PostgreSQL ${version.slice(0, 20)})`;
    throw new StartupError(
      `the embedded database cannot start on the data folder ${shownDataDir(dataDir)}${holds}: ${(error as Error).message.split('\n')[0]}. It was made by another version of PGlite, or is not a PGlite data folder. Move it away (or set KILN_DATA_DIR to another folder) to start afresh; to keep its data, dump it with the Kiln version that made it.`,
      { cause: error },
    );
  }
}

/**
 * An in-memory instance from a template file. PGlite reads anything that is not a tar as gzip, and a
 * file that is neither crashes the process from inside zlib with no catchable error: so the tar
 * header is checked first, and any failure becomes a StartupError naming the file.
 */
async function createFromTemplate(path: string): Promise<PGlite> {
  const refuse = (reason: string, cause?: unknown) =>
    new StartupError(
      `cannot start the in-memory database from the template ${path}: ${reason}. Make it again from a fresh in-memory PGlite (dumpDataDir('none')), or unset ${MEMORY_TEMPLATE_ENV}.`,
      { cause },
    );
  let tar: Blob;
  let magic: string;
  try {
    magic = await readTarMagic(path);
    // A Blob backed by the file: its 40 MB are read once, by PGlite, not copied here first.
    tar = await openAsBlob(path);
  } catch (error) {
    throw refuse(unreadable(error), error);
  }
  if (magic !== 'ustar') throw refuse('it is not an uncompressed tar file');
  try {
    return await createPglite(undefined, tar);
  } catch (error) {
    throw refuse(`PGlite could not load it (${(error as Error).message})`, error);
  }
}

/** POSIX tar writes "ustar" at byte 257 of the first header. */
async function readTarMagic(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(5), 0, 5, 257);
    return buffer.toString('latin1', 0, bytesRead);
  } finally {
    await file.close();
  }
}

function unreadable(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ENOENT') return 'there is no such file';
  if (code === 'EISDIR') return 'it is a folder, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'this user cannot read it';
  return message;
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
