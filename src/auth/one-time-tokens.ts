/**
 * Single-use tokens sent by mail (password reset, email verification), over kiln_auth_one_time_tokens.
 * The token is a random secret handed out once; only its hash is stored, so the table alone lets
 * nobody reset a password. Spending one is a single conditional UPDATE: of two requests with the same
 * token exactly one wins, and an expired or spent token is refused the same way as an unknown one.
 */
import type { Queryable } from '../db/database.js';
import { hashSecret, newSecret } from './secrets.js';

export type OneTimePurpose = 'reset' | 'verify';

/** A reset link grants the account: it lives long enough to read a mail, and no longer. */
export const RESET_TOKEN_TTL_S = 30 * 60;
/** Verifying proves only that the mail arrived: a day lets people come back to it later. */
export const VERIFY_TOKEN_TTL_S = 24 * 60 * 60;

const TABLE = '"kiln_auth_one_time_tokens"';

export class OneTimeTokens {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * A new token for the account. The account's earlier tokens of that purpose are dropped: only the
   * latest mail works. Expired tokens of every account are dropped on the way, which keeps the table
   * to the tokens still alive.
   */
  async issue(accountId: string, purpose: OneTimePurpose, ttlSeconds: number): Promise<string> {
    const token = newSecret();
    await this.#db.query(`DELETE FROM ${TABLE} WHERE ("account_id" = $1 AND "purpose" = $2) OR "expires_at" < now()`, [accountId, purpose]);
    await this.#db.query(`INSERT INTO ${TABLE} ("token_hash", "purpose", "account_id", "expires_at") VALUES ($1, $2, $3, now() + make_interval(secs => $4))`, [
      hashSecret(token),
      purpose,
      accountId,
      ttlSeconds,
    ]);
    return token;
  }

  /** The account of a live token, without spending it (to check a request before acting on it). */
  async peek(token: string, purpose: OneTimePurpose): Promise<string | undefined> {
    const rows = await this.#db.query<{ account_id: string }>(
      `SELECT "account_id" FROM ${TABLE} WHERE "token_hash" = $1 AND "purpose" = $2 AND "used_at" IS NULL AND "expires_at" > now()`,
      [hashSecret(token), purpose],
    );
    return rows[0]?.account_id;
  }

  /** Spends a live token: its account, or undefined for a token unknown, spent, expired or of another purpose. */
  async consume(token: string, purpose: OneTimePurpose, q: Queryable = this.#db): Promise<string | undefined> {
    const rows = await q.query<{ account_id: string }>(
      `UPDATE ${TABLE} SET "used_at" = now() WHERE "token_hash" = $1 AND "purpose" = $2 AND "used_at" IS NULL AND "expires_at" > now() RETURNING "account_id"`,
      [hashSecret(token), purpose],
    );
    return rows[0]?.account_id;
  }
}
