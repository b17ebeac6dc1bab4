import { createHash } from 'node:crypto';
import { KilnError } from '../core/errors.js';
import type { Queryable } from '../db/database.js';

export interface StoredResponse {
  readonly status: number;
  readonly body: string;
  readonly location: string | null;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

export function checkIdempotencyKey(key: string | string[] | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new KilnError('KILN_HEADER_INVALID', { detail: 'Idempotency-Key must be 1 to 255 visible ASCII characters' });
  }
  return key;
}

/** A hash of the body that ignores key order, so a client re-serialising the same body still matches. */
export function fingerprint(body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(body ?? null, (_key, value: unknown) => (isPlainObject(value) ? sortKeys(value) : value)))
    .digest('base64url');
}

/**
 * Runs `create` at most once per (scope, key) within the time-to-live. The key is claimed in the same
 * transaction as the write: a concurrent duplicate waits on the key's row lock and then replays the
 * committed response; a failed write rolls the claim back, so a retry runs again.
 */
export async function runIdempotent(
  transaction: <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T>,
  request: { scope: string; key: string; fingerprint: string; ttlHours: number },
  create: (tx: Queryable) => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  return transaction(async (tx) => {
    const claimed = await tx.query(
      `INSERT INTO "kiln_idempotency_keys" ("scope", "key", "fingerprint", "status", "body") VALUES ($1, $2, $3, 0, '')
       ON CONFLICT ("scope", "key") DO UPDATE SET "fingerprint" = EXCLUDED."fingerprint", "status" = 0, "body" = '', "location" = NULL, "created_at" = now()
       WHERE "kiln_idempotency_keys"."created_at" < now() - make_interval(hours => $4::int)
       RETURNING "key"`,
      [request.scope, request.key, request.fingerprint, request.ttlHours],
    );
    if (claimed.length === 0) {
      const [stored] = await tx.query<{ fingerprint: string; status: number; body: string; location: string | null }>(
        `SELECT "fingerprint", "status", "body", "location" FROM "kiln_idempotency_keys" WHERE "scope" = $1 AND "key" = $2`,
        [request.scope, request.key],
      );
      if (!stored || stored.status === 0) throw new KilnError('KILN_IDEMPOTENCY_IN_PROGRESS');
      if (stored.fingerprint !== request.fingerprint) {
        throw new KilnError('KILN_IDEMPOTENCY_KEY_REUSED', { detail: 'this Idempotency-Key was first used with a different request body' });
      }
      return { status: stored.status, body: stored.body, location: stored.location, replayed: true };
    }
    const response = await create(tx);
    await tx.query(`UPDATE "kiln_idempotency_keys" SET "status" = $3, "body" = $4, "location" = $5 WHERE "scope" = $1 AND "key" = $2`, [
      request.scope,
      request.key,
      response.status,
      response.body,
      response.location,
    ]);
    return { ...response, replayed: false };
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, value[key]]),
  );
}
