/**
 * Behind a pooler in transaction mode (KILN_DB_POOLER=transaction), Kiln cannot set search_path,
 * TimeZone and statement_timeout per connection: PgBouncer refuses the startup options that carry
 * them, and any `SET` would stay on a server connection another client gets next. The role (or the
 * database) must set them, so every server connection has them from its start. This check runs once
 * at start and refuses to serve without them: without search_path the tables would be looked for in
 * the wrong schema, without TimeZone UTC timestamps would be written in another zone, and without
 * statement_timeout a slow statement would have no bound.
 */
import { StartupError } from '../config/startup-error.js';
import type { Queryable } from './database.js';

export interface PoolerSessionSettings {
  readonly dbSchema: string;
  readonly dbStatementTimeoutMs: number;
}

interface SessionValues {
  readonly user: string;
  readonly database: string;
  readonly searchPath: string;
  readonly timeZone: string;
  readonly statementTimeoutMs: number;
}

/** The first schema of a search_path value (`app, public` → `app`; `"$user", public` → `$user`). */
function firstSchema(searchPath: string): string {
  const first = searchPath.split(',')[0]?.trim() ?? '';
  return first.startsWith('"') && first.endsWith('"') ? first.slice(1, -1).replace(/""/g, '"') : first;
}

/** Throws a StartupError naming every setting the role lacks, with the statements that give it them. */
export async function checkPoolerSession(db: Queryable, settings: PoolerSessionSettings): Promise<void> {
  const [values] = await db.query<SessionValues>(
    `SELECT current_user AS "user", current_database() AS "database", current_setting('search_path') AS "searchPath",
            current_setting('TimeZone') AS "timeZone",
            (SELECT setting::int FROM pg_settings WHERE name = 'statement_timeout') AS "statementTimeoutMs"`,
  );
  if (!values) throw new StartupError('KILN_DB_POOLER=transaction: the database answered no session settings');
  const wanted = settings.dbStatementTimeoutMs;
  const role = `ALTER ROLE "${values.user}" IN DATABASE "${values.database}" SET`;
  const missing: string[] = [];
  if (firstSchema(values.searchPath) !== settings.dbSchema) {
    missing.push(`search_path is \`${values.searchPath}\`, not \`${settings.dbSchema}\` (KILN_DB_SCHEMA): ${role} search_path = "${settings.dbSchema}";`);
  }
  if (!['UTC', 'Etc/UTC'].includes(values.timeZone)) missing.push(`TimeZone is \`${values.timeZone}\`, not UTC: ${role} timezone = 'UTC';`);
  if (wanted > 0 && values.statementTimeoutMs !== wanted) {
    missing.push(`statement_timeout is ${values.statementTimeoutMs} ms, not ${wanted} (KILN_DB_STATEMENT_TIMEOUT_MS): ${role} statement_timeout = ${wanted};`);
  }
  if (missing.length === 0) return;
  throw new StartupError(
    [
      'KILN_DB_POOLER=transaction: a pooler in transaction mode cannot carry per-connection settings, so the role must set them, and these differ:',
      ...missing.map((line) => `  - ${line}`),
      'Run those statements on the database (directly, not through the pooler), then start again; new server connections of the pooler get them.',
    ].join('\n'),
  );
}
