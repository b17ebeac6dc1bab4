/**
 * Refresh tokens: opaque 32-byte secrets, stored as their SHA-256 only. A login starts a family;
 * every refresh spends the token it was given and hands out the next of the same family, which ends
 * KILN_AUTH_REFRESH_TTL_S after the login however often it is refreshed. A spent token presented again
 * means two parties hold the family (a stolen token, or a client replaying one), and there is no way
 * to tell which is the owner: the whole family is revoked and both must sign in again (RFC 9700 §4.14).
 */
import { randomUUID } from 'node:crypto';
import type { Settings } from '../config/settings.js';
import { KilnError } from '../core/errors.js';
import type { Database, Queryable } from '../db/database.js';
import { hashSecret, newSecret } from './secrets.js';

const TABLE = '"kiln_auth_refresh_tokens"';

/** The longest refresh token accepted: a bound on the work spent on one (they are 43 characters). */
export const MAX_REFRESH_TOKEN_LENGTH = 256;

export interface Rotated {
  readonly accountId: string;
  readonly refreshToken: string;
}

interface TokenState {
  family: string;
  used_at: Date | string | null;
  revoked_at: Date | string | null;
  expired: boolean;
}

export class RefreshTokens {
  readonly #db: Database;
  readonly #ttlSeconds: number;

  constructor(db: Database, settings: Pick<Settings, 'authRefreshTtlS'>) {
    this.#db = db;
    this.#ttlSeconds = settings.authRefreshTtlS;
  }

  /** The first token of a new family (a login). Expired families of the account are cleared on the way. */
  async start(accountId: string, q: Queryable = this.#db): Promise<string> {
    await q.query(`DELETE FROM ${TABLE} WHERE "account_id" = $1 AND "family_expires_at" < now()`, [accountId]);
    const token = newSecret();
    await q.query(
      `INSERT INTO ${TABLE} ("token_hash", "family", "account_id", "family_expires_at") VALUES ($1, $2, $3, now() + $4::integer * interval '1 second')`,
      [hashSecret(token), randomUUID(), accountId, this.#ttlSeconds],
    );
    return token;
  }

  /**
   * Spends `token` and answers the next of its family. The spend is one conditional UPDATE, so of two
   * concurrent refreshes with one token exactly one succeeds; the other finds it spent, which is reuse.
   * 401 KILN_AUTH_REFRESH_REUSED for a spent token (its family is revoked), 401
   * KILN_AUTH_REFRESH_INVALID for an unknown, revoked or expired one.
   */
  async rotate(token: string): Promise<Rotated> {
    const hash = hashSecret(token);
    const next = newSecret();
    // One statement spends the token and stores the next of its family, the family's end copied as is.
    const [spent] = await this.#db.query<{ account_id: string }>(
      `WITH "spent" AS (
         UPDATE ${TABLE} SET "used_at" = now()
         WHERE "token_hash" = $1 AND "used_at" IS NULL AND "revoked_at" IS NULL AND "family_expires_at" > now()
         RETURNING "family", "account_id", "family_expires_at"
       )
       INSERT INTO ${TABLE} ("token_hash", "family", "account_id", "family_expires_at")
       SELECT $2, "family", "account_id", "family_expires_at" FROM "spent"
       RETURNING "account_id"`,
      [hash, hashSecret(next)],
    );
    if (spent) return { accountId: spent.account_id, refreshToken: next };
    const [state] = await this.#db.query<TokenState>(
      `SELECT "family", "used_at", "revoked_at", "family_expires_at" <= now() AS "expired" FROM ${TABLE} WHERE "token_hash" = $1`,
      [hash],
    );
    if (state && state.used_at !== null && state.revoked_at === null && !state.expired) {
      await this.#revokeFamily(state.family);
      throw refreshReused();
    }
    throw refreshInvalid();
  }

  /** Revokes the family `token` belongs to (a logout); nothing for an unknown token. */
  async revokeFamilyOf(token: string): Promise<void> {
    await this.#db.query(
      `UPDATE ${TABLE} SET "revoked_at" = now() WHERE "revoked_at" IS NULL AND "family" = (SELECT "family" FROM ${TABLE} WHERE "token_hash" = $1)`,
      [hashSecret(token)],
    );
  }

  /** Revokes every family of an account (logout everywhere, a password change, a disabled account). */
  async revokeAll(accountId: string, q: Queryable = this.#db): Promise<void> {
    await q.query(`UPDATE ${TABLE} SET "revoked_at" = now() WHERE "account_id" = $1 AND "revoked_at" IS NULL`, [accountId]);
  }

  async #revokeFamily(family: string): Promise<void> {
    await this.#db.query(`UPDATE ${TABLE} SET "revoked_at" = now() WHERE "family" = $1 AND "revoked_at" IS NULL`, [family]);
  }
}

export function refreshInvalid(): KilnError {
  return new KilnError('KILN_AUTH_REFRESH_INVALID', { detail: 'the refresh token is unknown, revoked or expired; sign in again' });
}

function refreshReused(): KilnError {
  return new KilnError('KILN_AUTH_REFRESH_REUSED', {
    detail: 'the refresh token was already used; every token of its sign-in is revoked as a precaution: sign in again',
  });
}
