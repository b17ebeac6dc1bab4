import type { Settings } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import { connectFailureMessage } from './connect-errors.js';
import type { Database } from './database.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

/**
 * PostgreSQL when DATABASE_URL is set, embedded PGlite otherwise. The PostgreSQL pool connects at
 * once, so a wrong URL, an unknown role or database, or a server that is down stops the start with
 * one message naming the setting to fix (StartupError), not at the first request.
 */
export async function openDatabase(settings: Settings): Promise<Database> {
  if (!settings.databaseUrl) return openPglite(settings.dataDir === 'memory' ? undefined : settings.dataDir);
  const db = openPostgres({
    url: settings.databaseUrl,
    schema: settings.dbSchema,
    poolMax: settings.dbPoolMax,
    connectTimeoutMs: settings.dbConnectTimeoutMs,
    idleTimeoutMs: settings.dbIdleTimeoutMs,
    statementTimeoutMs: settings.dbStatementTimeoutMs,
  });
  try {
    await db.ping();
  } catch (error) {
    await db.close().catch(() => {});
    throw new StartupError(connectFailureMessage(error, settings.databaseUrl, settings.dbConnectTimeoutMs), { cause: error });
  }
  return db;
}
