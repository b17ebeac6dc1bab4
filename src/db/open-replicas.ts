import type { Settings } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import { connectFailureMessage } from './connect-errors.js';
import { isConnectionFailure } from './connection-errors.js';
import type { Database } from './database.js';
import { openPostgres, postgresOptionsFrom } from './postgres.js';
import { ReplicaReads, replicaLabel } from './replicas.js';

/**
 * The primary with the read replicas of DATABASE_REPLICA_URLS attached (the primary itself when there
 * are none). Each replica gets a pool of its own, sized and timed like the primary's. Each is asked
 * once at start: one that refuses the connection's credentials or database is a configuration error
 * and stops the start (StartupError, as for DATABASE_URL); one that cannot be reached now starts
 * down, and reads go to the primary until it answers (an outage of a replica is not a reason to
 * refuse to serve).
 */
export async function attachReplicas(primary: Database, settings: Settings): Promise<Database> {
  const urls = settings.databaseReplicaUrls;
  if (urls.length === 0) return primary;
  const replicas = urls.map((url, i) => ({
    url,
    label: replicaLabel(url, i),
    db: openPostgres(postgresOptionsFrom(settings, url)),
  }));
  const unreachable = new Map<number, unknown>();
  const refused = (
    await Promise.all(
      replicas.map((r, i) =>
        r.db.ping().then(
          () => undefined,
          (error: unknown) => {
            if (isConnectionFailure(error)) unreachable.set(i, error);
            else return replicaFailureMessage(error, r.url, settings.dbConnectTimeoutMs);
          },
        ),
      ),
    )
  ).find((message) => message !== undefined);
  if (refused !== undefined) {
    await Promise.all(replicas.map((r) => r.db.close().catch(() => {})));
    throw new StartupError(refused);
  }
  const reads = new ReplicaReads(primary, replicas, { maxLagMs: settings.databaseReplicaMaxLagMs, startDown: unreachable });
  return {
    ...primary,
    replicas: reads,
    // Statements on replicas are logged and timed like the primary's (KILN_LOG_SQL, metrics).
    observe(listener) {
      const removers = [primary.observe(listener), ...replicas.map((r) => r.db.observe(listener))];
      return () => {
        for (const remove of removers) remove();
      };
    },
    // Idle connections lost on a replica are reported like the primary's.
    onConnectionError(listener) {
      const removers = [primary.onConnectionError(listener), ...replicas.map((r) => r.db.onConnectionError(listener))];
      return () => {
        for (const remove of removers) remove();
      };
    },
    async close() {
      await reads.close();
      await primary.close();
    },
  };
}

/** connectFailureMessage names DATABASE_URL; the URL at fault here is one of DATABASE_REPLICA_URLS. */
function replicaFailureMessage(error: unknown, url: string, connectTimeoutMs: number): string {
  return connectFailureMessage(error, url, connectTimeoutMs)
    .replace('cannot connect to PostgreSQL', 'cannot connect to the PostgreSQL read replica')
    .replaceAll('DATABASE_URL', 'DATABASE_REPLICA_URLS');
}
