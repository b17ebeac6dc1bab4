/**
 * Sessions in Redis (REDIS_URL), shared by every instance: one hash per session, `session:<id hash>`,
 * whose TTL is the idle timeout, renewed on each use but never past the absolute expiry, so Redis
 * itself forgets an idle or expired session. A set per account, `account-sessions:<account id>`, lists
 * the id hashes for revokeAll. The connection's key prefix (KILN_REDIS_KEY_PREFIX) comes first.
 *
 * Redis down is answered 503 KILN_REDIS_UNAVAILABLE: no session can be checked, and treating the
 * cookie as absent would silently sign the user out (or, worse, let an ended session slip through
 * a fallback).
 */
import type { Redis } from 'ioredis';
import { KilnError } from '../core/errors.js';
import { rolesOf } from './account-store.js';
import type { SessionRecord, SessionStore } from './sessions.js';

const sessionKey = (idHash: string) => `session:${idHash}`;
const accountKey = (accountId: string) => `account-sessions:${accountId}`;

export class RedisSessionStore implements SessionStore {
  readonly #redis: Redis;
  readonly #idleMs: number;

  constructor(redis: Redis, idleSeconds: number) {
    this.#redis = redis;
    this.#idleMs = idleSeconds * 1000;
  }

  create(idHash: string, s: SessionRecord): Promise<void> {
    return this.#run(async () => {
      const fields = {
        accountId: s.accountId,
        csrfToken: s.csrfToken,
        roles: JSON.stringify(s.roles),
        passwordStamp: s.passwordStamp,
        expiresAt: String(s.expiresAt.getTime()),
      };
      // The account's set lives as long as its newest session can.
      const lifetime = Math.max(1, s.expiresAt.getTime() - Date.now());
      await this.#redis
        .multi()
        .hset(sessionKey(idHash), fields)
        .pexpire(sessionKey(idHash), this.#ttl(s.expiresAt))
        .sadd(accountKey(s.accountId), idHash)
        .pexpire(accountKey(s.accountId), lifetime)
        .exec()
        .then(failedStep);
    });
  }

  touch(idHash: string): Promise<SessionRecord | undefined> {
    return this.#run(async () => {
      const fields = await this.#redis.hgetall(sessionKey(idHash));
      const record = recordOf(fields);
      if (!record) return undefined;
      const ttl = this.#ttl(record.expiresAt);
      if (ttl <= 0) {
        await this.#redis.del(sessionKey(idHash));
        return undefined;
      }
      // 0: the key expired between the two commands.
      return (await this.#redis.pexpire(sessionKey(idHash), ttl)) === 1 ? record : undefined;
    });
  }

  rotate(oldHash: string, newHash: string, roles: readonly string[]): Promise<boolean> {
    return this.#run(async () => {
      const accountId = await this.#redis.hget(sessionKey(oldHash), 'accountId');
      if (accountId === null) return false;
      try {
        // RENAME is atomic and keeps the TTL: the old id is dead the moment the new one lives.
        await this.#redis.rename(sessionKey(oldHash), sessionKey(newHash));
      } catch (error) {
        if (/no such key/i.test((error as Error).message)) return false;
        throw error;
      }
      await this.#redis
        .multi()
        .hset(sessionKey(newHash), 'roles', JSON.stringify(roles))
        .srem(accountKey(accountId), oldHash)
        .sadd(accountKey(accountId), newHash)
        .exec()
        .then(failedStep);
      return true;
    });
  }

  destroy(idHash: string): Promise<void> {
    return this.#run(async () => {
      await this.#redis.del(sessionKey(idHash));
    });
  }

  destroyAll(accountId: string): Promise<void> {
    return this.#run(async () => {
      const hashes = await this.#redis.smembers(accountKey(accountId));
      await this.#redis.del(accountKey(accountId), ...hashes.map(sessionKey));
    });
  }

  /** Milliseconds the session may stay unused: the idle timeout, cut at the absolute expiry. */
  #ttl(expiresAt: Date): number {
    return Math.min(this.#idleMs, expiresAt.getTime() - Date.now());
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (cause) {
      throw new KilnError('KILN_REDIS_UNAVAILABLE', { detail: 'sessions cannot be checked right now; retry later', cause });
    }
  }
}

/** A MULTI answers each command's error in place: the first one is thrown. */
function failedStep(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new Error('the Redis transaction was discarded');
  const failed = results.find(([error]) => error);
  if (failed) throw failed[0];
}

function recordOf(fields: Record<string, string>): SessionRecord | undefined {
  const { accountId, csrfToken, roles, passwordStamp, expiresAt } = fields;
  if (!accountId || !csrfToken || roles === undefined || passwordStamp === undefined || !expiresAt) return undefined;
  return {
    accountId,
    csrfToken,
    roles: rolesOf(roles),
    passwordStamp,
    expiresAt: new Date(Number(expiresAt)),
  };
}
