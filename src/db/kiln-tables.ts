/**
 * Kiln's own tables (idempotency keys, auth state) are created by every server that starts, with
 * CREATE … IF NOT EXISTS. That is not safe when several start at once against one PostgreSQL (N
 * workers, N containers behind a load balancer): two concurrent CREATE TABLE IF NOT EXISTS of the same
 * table can both go ahead, and the second fails on the catalog's unique index. Creating them in one
 * transaction holding an advisory lock of the schema makes the servers take turns.
 */
import type { Database } from './database.js';

/** Held by whoever creates Kiln's tables in the current schema, until its transaction ends. */
export const KILN_TABLES_LOCK = `SELECT pg_advisory_xact_lock(1263096, hashtext(current_schema()))`;

export async function createKilnTables(db: Database, statements: readonly string[]): Promise<void> {
  if (db.kind !== 'postgres') {
    for (const statement of statements) await db.query(statement);
    return;
  }
  await db.transaction(async (tx) => {
    await tx.query(KILN_TABLES_LOCK);
    for (const statement of statements) await tx.query(statement);
  });
}
