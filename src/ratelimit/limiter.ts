/**
 * Kiln's own limiter of the rate-limit stage (src/pipeline/rate-limit.ts): every call of an operation,
 * REST or GraphQL, is counted by the one policy that applies to it (policies.ts), under the caller's
 * key: its account, its API key, or else its client IP. Each caller has a token bucket per policy
 * (token-bucket.ts), atomic in memory or in Redis (one Lua script per call), so with REDIS_URL every
 * instance takes from the same bucket. Each counted answer carries the RateLimit fields (headers.ts).
 *
 * When Redis cannot be reached the limits keep working as KILN_RATE_LIMIT_REDIS_DOWN says: `memory`
 * counts in this instance meanwhile (an insurance store, logged once when the outage starts and
 * once when it ends), `open` counts nothing, `closed` refuses with 503.
 * Each call tries Redis first, so the limits go back to Redis as soon as it answers again.
 */
import type { Redis } from 'ioredis';
import { KilnError } from '../core/errors.js';
import { NO_SIGNALS, type Signals } from '../observability/signals.js';
import type { ContextLogger, RequestContext } from '../pipeline/context.js';
import type { RateLimitCall, RateLimiter } from '../pipeline/rate-limit.js';
import { costOf } from './cost.js';
import { report } from './headers.js';
import type { Policy, PolicyTable } from './policies.js';
import { describeRate } from './rate.js';
import { type BucketSpec, MemoryTokenBuckets, RedisTokenBuckets, type Taken, type TokenBuckets } from './token-bucket.js';

export type RedisDownMode = 'memory' | 'open' | 'closed';

export interface ApiRateLimitOptions {
  readonly policies: PolicyTable;
  /** KILN_RATE_LIMIT_COST_ROWS; 0: every call counts 1. */
  readonly costRows: number;
  readonly log: ContextLogger;
  /** Count in Redis (every instance together); in memory without. */
  readonly redis?: Redis;
  readonly redisDown?: RedisDownMode;
  /** Start of the counters' keys (below the client's own prefix). Default `rl`. */
  readonly keyPrefix?: string;
  /** Told of every call refused (the metrics). */
  readonly signals?: Signals;
}

/** Whom a call is counted for; undefined: not counted (Kiln's own flows, and code calling operations without a client). */
export function callerKey(ctx: RequestContext): string | undefined {
  const { kind, id } = ctx.principal;
  switch (kind) {
    case 'account':
      return `account:${id}`;
    // An API key's principal names its account: the keys of one account share a budget.
    case 'apiKey':
      return `key:${id}`;
    case 'service':
      return `service:${id}`;
    case 'system':
      return undefined;
    default:
      return ctx.ip ? `ip:${ctx.ip}` : undefined;
  }
}

export class ApiRateLimits {
  readonly #policies: PolicyTable;
  readonly #buckets = new Map<string, BucketSpec>();
  readonly #memory = new MemoryTokenBuckets();
  readonly #redis: TokenBuckets | undefined;
  readonly #costRows: number;
  readonly #log: ContextLogger;
  readonly #redisDown: RedisDownMode;
  readonly #signals: Signals;
  /** Redis failed the last call that tried it: logged once, until a call succeeds again. */
  #outage = false;

  constructor(options: ApiRateLimitOptions) {
    this.#policies = options.policies;
    this.#costRows = options.costRows;
    this.#log = options.log;
    this.#redisDown = options.redisDown ?? 'memory';
    this.#signals = options.signals ?? NO_SIGNALS;
    this.#redis = options.redis && new RedisTokenBuckets(options.redis, options.keyPrefix ?? 'rl');
    for (const policy of options.policies.all) this.#buckets.set(policy.name, { quota: policy.rate.points, windowMs: policy.rate.windowS * 1000 });
  }

  /** The limiter to give the rate-limit stage. */
  readonly limiter: RateLimiter = (call) => {
    const policy = this.#policies.of(call.resource, call.operation);
    if (!policy) return;
    const caller = callerKey(call.ctx);
    if (caller === undefined) return;
    return this.#limit(call, policy, caller);
  };

  async #limit(call: RateLimitCall, policy: Policy, caller: string): Promise<void> {
    const taken = await this.#take(policy, caller, costOf(call, this.#costRows, policy.rate.points));
    if (!taken) return;
    const fields = report(call.ctx.response, { policy, remaining: taken.remaining, resetS: Math.max(1, Math.ceil(taken.fullInMs / 1000)) });
    if (taken.allowed) return;
    const retryS = String(Math.max(1, Math.ceil(taken.retryInMs / 1000)));
    this.#signals.rateLimited(call.resource, call.operation);
    call.ctx.response?.set('retry-after', retryS);
    throw new KilnError('KILN_RATE_LIMITED', {
      detail: `the rate limit "${policy.name}" (${describeRate(policy.rate)} per caller) is used up; retry in ${retryS} seconds`,
      headers: { 'retry-after': retryS, ...fields },
    });
  }

  /** Takes `cost` from the caller's bucket of `policy`; undefined when Redis is down and the mode is `open`. */
  async #take(policy: Policy, caller: string, cost: number): Promise<Taken | undefined> {
    const spec = this.#buckets.get(policy.name) as BucketSpec;
    const key = `${policy.name}:${caller}`;
    if (!this.#redis) return this.#memory.take(key, cost, spec);
    try {
      const taken = await this.#redis.take(key, cost, spec);
      if (this.#outage) this.#recovered();
      return taken;
    } catch (error) {
      this.#down(error);
      if (this.#redisDown === 'open') return undefined;
      if (this.#redisDown === 'closed') {
        throw new KilnError('KILN_REDIS_UNAVAILABLE', { detail: 'the rate limits cannot be checked right now; retry later', cause: error });
      }
      return this.#memory.take(key, cost, spec);
    }
  }

  #down(error: unknown): void {
    if (this.#outage) return;
    this.#outage = true;
    const meanwhile = { memory: 'each instance counts on its own', open: 'calls are not counted', closed: 'calls are refused with 503' }[this.#redisDown];
    this.#log.warn(
      { err: { message: error instanceof Error ? error.message : String(error) }, redisDown: this.#redisDown },
      `rate limits: Redis cannot be reached; until it is back, ${meanwhile} (KILN_RATE_LIMIT_REDIS_DOWN=${this.#redisDown})`,
    );
  }

  #recovered(): void {
    this.#outage = false;
    this.#log.info({}, 'rate limits: Redis is reachable again; every instance counts together');
  }
}
