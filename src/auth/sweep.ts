/**
 * Removes what authentication no longer needs: sessions past their idle or absolute timeout, refresh
 * token families past their lifetime, spent or expired one-time tokens and sign-in flows. Each part
 * also cleans up after itself for the account it touches; this sweep catches the accounts that never
 * come back, so the tables do not grow without bound.
 */
import type { Settings } from '../config/settings.js';
import type { Queryable } from '../db/database.js';

export async function sweepExpired(db: Queryable, settings: Pick<Settings, 'authSessionIdleS'>): Promise<void> {
  await db.query(`DELETE FROM "kiln_auth_sessions" WHERE "expires_at" <= now() OR "last_seen_at" <= now() - $1 * interval '1 second'`, [
    settings.authSessionIdleS,
  ]);
  await db.query(`DELETE FROM "kiln_auth_refresh_tokens" WHERE "family_expires_at" <= now()`);
  await db.query(`DELETE FROM "kiln_auth_one_time_tokens" WHERE "expires_at" <= now() OR "used_at" IS NOT NULL`);
  await db.query(`DELETE FROM "kiln_auth_oidc_flows" WHERE "expires_at" <= now()`);
}
