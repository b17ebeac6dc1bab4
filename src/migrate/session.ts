/**
 * A migration run needs one connection for its whole length: it holds an advisory lock across
 * several transactions (one per migration), so two instances starting together cannot both apply.
 * The Database interface hands out a dedicated connection only for a transaction, so the run takes
 * one, ends the transaction it was given and manages its own from there; before handing the
 * connection back it opens a transaction again for the driver to close.
 */
import { StartupError } from '../config/startup-error.js';
import type { Database, Queryable } from '../db/database.js';

/** Per schema, so apps sharing a database in different schemas do not wait for each other. */
const TRY_LOCK = `SELECT pg_try_advisory_lock(1263095, hashtext(current_schema())) AS "locked"`;
const LOCK = `SELECT pg_advisory_lock(1263095, hashtext(current_schema()))`;
const UNLOCK = `SELECT pg_advisory_unlock(1263095, hashtext(current_schema()))`;

export interface LockInfo {
  /** Another run held the lock and this one waited for it to finish. */
  readonly waited: boolean;
}

/** Runs `fn` on one connection, outside any transaction, holding the schema's migration lock. */
export async function withMigrationLock<T>(db: Database, fn: (conn: Queryable, lock: LockInfo) => Promise<T>, onWait?: () => void): Promise<T> {
  // The lock lives on a session across several transactions, which a transaction pooler does not keep.
  if (db.transactionPooled) {
    throw new StartupError(
      'migrations cannot run through a pooler in transaction mode (KILN_DB_POOLER=transaction): they hold a lock on one connection across several transactions. Run `kiln migrate up` with DATABASE_URL pointing at the database itself (or a session-mode pool) and KILN_DB_POOLER=none, then serve through the pooler without --migrate.',
    );
  }
  return db.transaction(async (conn) => {
    await conn.query('COMMIT');
    // A migration may rewrite a large table: no statement timeout for the run (restored after).
    await conn.query('SET statement_timeout = 0');
    let locked = false;
    try {
      const [row] = await conn.query<{ locked: boolean }>(TRY_LOCK);
      let waited = false;
      if (!row?.locked) {
        waited = true;
        onWait?.();
        await conn.query(LOCK);
      }
      locked = true;
      return await fn(conn, { waited });
    } finally {
      // After an unexpected error a transaction may still be open; ROLLBACK outside one only warns.
      await conn.query('ROLLBACK');
      if (locked) await conn.query(UNLOCK);
      await conn.query('RESET statement_timeout');
      await conn.query('BEGIN');
    }
  });
}
