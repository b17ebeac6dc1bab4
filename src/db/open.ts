import type { Settings } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import { connectFailureMessage } from './connect-errors.js';
import type { Database } from './database.js';
import { attachReplicas } from './open-replicas.js';
import { MEMORY_TEMPLATE_ENV, openPglite } from './pglite.js';
import { checkPoolerSession } from './pooler-session.js';
import { openPostgres, postgresOptionsFrom } from './postgres.js';

/**
 * PostgreSQL when DATABASE_URL is set, embedded PGlite otherwise. The PostgreSQL pool connects at
 * once, so a wrong URL, an unknown role or database, or a server that is down stops the start with
 * one message naming the setting to fix (StartupError), not at the first request.
 *
 * KILN_PGLITE_MEMORY_TEMPLATE names a dump that an in-memory database (KILN_DATA_DIR=memory) starts
 * from instead of running initdb: the test suite sets it for the `kiln` processes it starts. It is
 * read here rather than in the settings because it only changes how fast an empty database appears,
 * never what it holds; a data folder never reads it.
 */
export async function openDatabase(settings: Settings, env: NodeJS.ProcessEnv = process.env): Promise<Database> {
  if (!settings.databaseUrl) {
    if (settings.dataDir !== 'memory') return openPglite(settings.dataDir);
    return openPglite(undefined, { memoryTemplate: env[MEMORY_TEMPLATE_ENV] || undefined });
  }
  const db = openPostgres(postgresOptionsFrom(settings, settings.databaseUrl));
  try {
    await db.ping();
  } catch (error) {
    await db.close().catch(() => {});
    throw new StartupError(connectFailureMessage(error, settings.databaseUrl, settings.dbConnectTimeoutMs), { cause: error });
  }
  if (db.transactionPooled) {
    try {
      await checkPoolerSession(db, settings);
    } catch (error) {
      await db.close().catch(() => {});
      throw error;
    }
  }
  try {
    return await attachReplicas(db, settings);
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}
