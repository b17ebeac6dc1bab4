/**
 * Idempotent creates (`Idempotency-Key`). The first request with a key runs its create and stores the
 * response in the same transaction; a retry with the same key and body replays it; a duplicate that
 * arrives while the first is still running is answered at once with 409, without waiting and without
 * holding a pooled connection while it waits.
 */
import { createHash } from 'node:crypto';
import { KilnError } from '../core/errors.js';
import { FIXED_LIMITS } from '../core/limits.js';
import type { Operations } from '../core/operations.js';
import type { Queryable } from '../db/database.js';

export interface StoredResponse {
  readonly status: number;
  readonly body: string;
  readonly location: string | null;
}

export interface IdempotentRequest {
  /** What the key is unique within: the operation, the resource and the caller (never the raw URL). */
  readonly scope: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly ttlHours: number;
}

const KEY = new RegExp(`^[\\x21-\\x7e]{1,${FIXED_LIMITS.idempotencyKeyLength}}$`);

export function checkIdempotencyKey(key: string | string[] | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new KilnError('KILN_HEADER_INVALID', {
      detail: `Idempotency-Key must be 1 to ${FIXED_LIMITS.idempotencyKeyLength} visible ASCII characters`,
    });
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
 * Runs `create` at most once per (scope, key) within the time-to-live. The transaction first takes a
 * transaction-scoped advisory lock on the key, without waiting: if another transaction holds it, the
 * same key is in flight and the answer is 409 now. Holding the lock, a stored response is a committed
 * one (replayed, or 422 for another body); otherwise the create runs and its response is stored in
 * the same transaction, so a failed create leaves no trace and a retry runs again.
 */
export async function runIdempotent(
  ops: Operations,
  request: IdempotentRequest,
  create: (tx: Queryable) => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  return ops.transaction(async (tx) => {
    const [lock] = await tx.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS "locked"`, [
      `${request.scope}\n${request.key}`,
    ]);
    if (!lock?.locked) {
      throw new KilnError('KILN_IDEMPOTENCY_IN_PROGRESS', { detail: 'a request with this Idempotency-Key is still running; retry when it has finished' });
    }
    const [stored] = await tx.query<StoredResponse & { fingerprint: string }>(
      `SELECT "fingerprint", "status", "body", "location" FROM "kiln_idempotency_keys"
       WHERE "scope" = $1 AND "key" = $2 AND "created_at" >= now() - make_interval(hours => $3::int)`,
      [request.scope, request.key, request.ttlHours],
    );
    if (stored) {
      if (stored.fingerprint !== request.fingerprint) {
        throw new KilnError('KILN_IDEMPOTENCY_KEY_REUSED', { detail: 'this Idempotency-Key was first used with a different request body' });
      }
      return { status: stored.status, body: stored.body, location: stored.location, replayed: true };
    }
    const response = await create(tx);
    await tx.query(
      `INSERT INTO "kiln_idempotency_keys" ("scope", "key", "fingerprint", "status", "body", "location") VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT ("scope", "key") DO UPDATE SET "fingerprint" = EXCLUDED."fingerprint", "status" = EXCLUDED."status",
       "body" = EXCLUDED."body", "location" = EXCLUDED."location", "created_at" = now()`,
      [request.scope, request.key, request.fingerprint, response.status, response.body, response.location],
    );
    return { ...response, replayed: false };
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, value[key]]),
  );
}
