/**
 * Kiln's own limiter of the rate-limit stage (src/pipeline/rate-limit.ts): every call of an operation,
 * REST or GraphQL, is counted by the one policy that applies to it (policies.ts), under the caller's
 * key: its account, its API key, or else its client IP. Counters are rate-limiter-flexible's fixed
 * windows, atomic in memory or in Redis (one Lua script per call), so with REDIS_URL every instance
 * counts into the same window. Each counted answer carries the RateLimit fields (headers.ts).
 *
 * When Redis cannot be reached the limits keep working as KILN_RATE_LIMIT_REDIS_DOWN says: `memory`
 * counts in this instance meanwhile (as rate-limiter-flexible's insurance limiter does, but here the
 * outage is logged once, and the recovery too), `open` counts nothing, `closed` refuses with 503.
 * Each call tries Redis first, so the limits go back to Redis as soon as it answers again.
 */
import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { KilnError } from '../core/errors.js';
import { NO_SIGNALS, type Signals } from '../observability/signals.js';
import type { ContextLogger, RequestContext } from '../pipeline/context.js';
import type { RateLimitCall, RateLimiter } from '../pipeline/rate-limit.js';
import { costOf } from './cost.js';
import { report } from './headers.js';
import type { Policy, PolicyTable } from './policies.js';
import { describeRate } from './rate.js';

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

interface Counters {
  readonly memory: RateLimiterAbstract;
  readonly redis?: RateLimiterAbstract;
}

interface Counted {
  readonly res: RateLimiterRes;
  readonly refused: boolean;
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
  readonly #counters = new Map<string, Counters>();
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
    const prefix = options.keyPrefix ?? 'rl';
    for (const policy of options.policies.all) {
      const common = { points: policy.rate.points, duration: policy.rate.windowS, keyPrefix: `${prefix}:${policy.name}` };
      const redis = options.redis && new RateLimiterRedis({ ...common, storeClient: options.redis, rejectIfRedisNotReady: true });
      this.#counters.set(policy.name, { memory: new RateLimiterMemory(common), ...(redis && { redis }) });
    }
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
    const counted = await this.#count(policy, caller, costOf(call, this.#costRows, policy.rate.points));
    if (!counted) return;
    const resetS = Math.max(1, Math.ceil(counted.res.msBeforeNext / 1000));
    const fields = report(call.ctx.response, { policy, remaining: counted.res.remainingPoints, resetS });
    if (!counted.refused) return;
    this.#signals.rateLimited(call.resource, call.operation);
    call.ctx.response?.set('retry-after', String(resetS));
    throw new KilnError('KILN_RATE_LIMITED', {
      detail: `the rate limit "${policy.name}" (${describeRate(policy.rate)} per caller) is used up; retry in ${resetS} seconds`,
      headers: { 'retry-after': String(resetS), ...fields },
    });
  }

  /** Counts `cost` for `key`; undefined when Redis is down and the mode is `open`. */
  async #count(policy: Policy, key: string, cost: number): Promise<Counted | undefined> {
    const counters = this.#counters.get(policy.name) as Counters;
    if (!counters.redis) return countIn(counters.memory, key, cost);
    try {
      const counted = await countIn(counters.redis, key, cost);
      if (this.#outage) this.#recovered();
      return counted;
    } catch (error) {
      this.#down(error);
      if (this.#redisDown === 'open') return undefined;
      if (this.#redisDown === 'closed') {
        throw new KilnError('KILN_REDIS_UNAVAILABLE', { detail: 'the rate limits cannot be checked right now; retry later', cause: error });
      }
      return countIn(counters.memory, key, cost);
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

/** A call under the limit resolves; one over it rejects with the counter's state (RateLimiterRes); a store failure throws. */
async function countIn(counter: RateLimiterAbstract, key: string, cost: number): Promise<Counted> {
  try {
    return { res: await counter.consume(key, cost), refused: false };
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return { res: rejection, refused: true };
    throw rejection;
  }
}
