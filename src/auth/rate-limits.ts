/**
 * The rate limits of the auth routes that guess at secrets (login, signup, password change and reset,
 * verification): attempts per client IP and per account (by normalised login) in a fixed window. In
 * memory for one instance, or in Redis when REDIS_URL is set, so every instance counts together. When
 * Redis cannot be reached the attempt is refused with 503: an unreachable store must never turn the
 * limit off.
 */
import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Settings } from '../config/settings.js';
import { KilnError } from '../core/errors.js';

export type RateLimitKind = 'ip' | 'account';

type LimitSettings = Pick<Settings, 'authRateLimitIp' | 'authRateLimitAccount' | 'authRateWindowS'>;

export interface RateLimiterOptions {
  /** Start of the Redis keys (below the client's own `kiln:`); tests pass one of their own. Default `auth-rl`. */
  readonly keyPrefix?: string;
}

export class AuthRateLimiter {
  readonly #limiters: Readonly<Record<RateLimitKind, RateLimiterAbstract>>;

  private constructor(limiters: Record<RateLimitKind, RateLimiterAbstract>) {
    this.#limiters = limiters;
  }

  static create(settings: LimitSettings, redis?: Redis, options: RateLimiterOptions = {}): AuthRateLimiter {
    const prefix = options.keyPrefix ?? 'auth-rl';
    const points: Record<RateLimitKind, number> = { ip: settings.authRateLimitIp, account: settings.authRateLimitAccount };
    const make = (kind: RateLimitKind): RateLimiterAbstract => {
      const common = { points: points[kind], duration: settings.authRateWindowS, keyPrefix: `${prefix}:${kind}` };
      // No insurance limiter: with Redis down, a per-instance memory count would multiply the limit by the instances.
      return redis ? new RateLimiterRedis({ ...common, storeClient: redis }) : new RateLimiterMemory(common);
    };
    return new AuthRateLimiter({ ip: make('ip'), account: make('account') });
  }

  /** Counts one attempt; 429 KILN_RATE_LIMITED with Retry-After past the limit, 503 KILN_REDIS_UNAVAILABLE when Redis fails. */
  async consume(kind: RateLimitKind, key: string): Promise<void> {
    try {
      await this.#limiters[kind].consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new KilnError('KILN_RATE_LIMITED', {
          detail: `too many attempts ${kind === 'ip' ? 'from this address' : 'for this account'}; retry in ${seconds} seconds`,
          headers: { 'retry-after': String(seconds) },
        });
      }
      throw redisUnavailable(rejection);
    }
  }

  /** Gives back one attempt (a successful login does not count against the account). */
  async reward(kind: RateLimitKind, key: string): Promise<void> {
    try {
      await this.#limiters[kind].reward(key);
    } catch (error) {
      throw redisUnavailable(error);
    }
  }
}

function redisUnavailable(cause: unknown): KilnError {
  return new KilnError('KILN_REDIS_UNAVAILABLE', { detail: 'the rate limits of authentication cannot be checked right now; retry later', cause });
}
