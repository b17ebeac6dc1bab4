import type { Settings } from '../config/settings.js';
import type { Database } from './database.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

/** PostgreSQL when DATABASE_URL is set, embedded PGlite otherwise. */
export async function openDatabase(settings: Settings): Promise<Database> {
  if (settings.databaseUrl) {
    return openPostgres({
      url: settings.databaseUrl,
      schema: settings.dbSchema,
      poolMax: settings.dbPoolMax,
      connectTimeoutMs: settings.dbConnectTimeoutMs,
      idleTimeoutMs: settings.dbIdleTimeoutMs,
      statementTimeoutMs: settings.dbStatementTimeoutMs,
    });
  }
  return openPglite(settings.dataDir === 'memory' ? undefined : settings.dataDir);
}
