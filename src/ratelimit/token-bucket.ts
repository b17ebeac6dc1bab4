/**
 * The API's rate limits are token buckets: a caller's bucket holds a policy's whole quota (q calls)
 * and refills continuously at q per window, so a burst of q is allowed, and after it one call per
 * window/q. Unlike fixed windows, no moment lets 2q calls through (q at the end of one window, q at
 * the start of the next), and nobody waits for a window to end: a token comes back every window/q.
 *
 * Kept as GCRA (the generic cell rate algorithm), the one-number form of a token bucket: per key the
 * "theoretical arrival time" (tat), the moment the bucket will be full again. A call costing c is
 * allowed when tat' = max(tat, now) + c·window/q is at most one window ahead of now, and then tat'
 * is stored. One number per caller, updated atomically: in Redis by one Lua script that reads the
 * clock of Redis itself (every instance counts on the same clock), in memory by one synchronous step.
 *
 * rate-limiter-flexible (kept for the sign-in limits, src/auth/rate-limits.ts) counts fixed windows
 * only, so this small algorithm is Kiln's own.
 */
import type { Redis } from 'ioredis';

/** What taking `cost` tokens from a bucket came to. */
export interface Taken {
  readonly allowed: boolean;
  /** Whole calls left in the bucket after this one (0 when refused). */
  readonly remaining: number;
  /** Milliseconds until the bucket is full again. */
  readonly fullInMs: number;
  /** When refused: milliseconds until this call would fit. 0 when allowed. */
  readonly retryInMs: number;
}

export interface BucketSpec {
  /** Calls (or cost units) per window: also the bucket's size. */
  readonly quota: number;
  readonly windowMs: number;
}

/** Takes `cost` tokens from the bucket whose full-again time is `tat` (undefined: a full bucket), at `now`. */
export function takeTokens(tat: number | undefined, now: number, cost: number, spec: BucketSpec): { taken: Taken; tat: number } {
  const interval = spec.windowMs / spec.quota;
  const from = tat === undefined || tat < now ? now : tat;
  const next = from + cost * interval;
  if (next - now > spec.windowMs) {
    return { taken: { allowed: false, remaining: 0, fullInMs: from - now, retryInMs: next - now - spec.windowMs }, tat: from };
  }
  return { taken: { allowed: true, remaining: wholeTokens(spec.windowMs - (next - now), interval), fullInMs: next - now, retryInMs: 0 }, tat: next };
}

/** Whole tokens in `ms` of refill; a hair of tolerance so that float rounding never loses a token. */
function wholeTokens(ms: number, interval: number): number {
  return Math.floor(ms / interval + 1e-9);
}

export interface TokenBuckets {
  take(key: string, cost: number, spec: BucketSpec): Promise<Taken>;
}

/** Buckets of this process. Full buckets are forgotten (a sweep at most once a minute), so memory follows the active callers only. */
export class MemoryTokenBuckets implements TokenBuckets {
  readonly #tats = new Map<string, number>();
  #sweptAt = 0;

  take(key: string, cost: number, spec: BucketSpec): Promise<Taken> {
    const now = Date.now();
    this.#sweep(now);
    const { taken, tat } = takeTokens(this.#tats.get(key), now, cost, spec);
    if (taken.allowed) this.#tats.set(key, tat);
    return Promise.resolve(taken);
  }

  #sweep(now: number): void {
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    for (const [key, tat] of this.#tats) if (tat <= now) this.#tats.delete(key);
  }
}

/**
 * The same step in Lua, on Redis's clock (TIME), the key expiring when its bucket is full again.
 * Numbers go back as strings: Redis would truncate a Lua number to an integer.
 */
const TAKE_SCRIPT = `
local cost = tonumber(ARGV[1])
local quota = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = window / quota
local from = tonumber(redis.call('GET', KEYS[1]) or now)
if from < now then from = now end
local nextTat = from + cost * interval
if nextTat - now > window then
  return {0, tostring(from - now), tostring(nextTat - now - window)}
end
redis.call('SET', KEYS[1], tostring(nextTat), 'PX', math.max(1, math.ceil(nextTat - now)))
return {1, tostring(nextTat - now), '0'}
`;

const COMMAND = 'kilnTakeTokens';

type WithTake = Redis & { [COMMAND](key: string, cost: number, quota: number, windowMs: number): Promise<[number, string, string]> };

/** Buckets in Redis, shared by every instance. A client that is not connected fails the call at once (the caller decides what then). */
export class RedisTokenBuckets implements TokenBuckets {
  readonly #redis: WithTake;
  readonly #prefix: string;

  constructor(redis: Redis, keyPrefix: string) {
    if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: TAKE_SCRIPT });
    this.#redis = redis as WithTake;
    this.#prefix = keyPrefix;
  }

  async take(key: string, cost: number, spec: BucketSpec): Promise<Taken> {
    // Queued commands would wait for a Redis that may not come back: refuse now, as the insurance needs.
    if (this.#redis.status !== 'ready') throw new Error(`Redis is not connected (${this.#redis.status})`);
    const [allowed, elapsed, retry] = await this.#redis[COMMAND](`${this.#prefix}:${key}`, cost, spec.quota, spec.windowMs);
    const fullInMs = Number(elapsed);
    if (allowed !== 1) return { allowed: false, remaining: 0, fullInMs, retryInMs: Number(retry) };
    return { allowed: true, remaining: wholeTokens(spec.windowMs - fullInMs, spec.windowMs / spec.quota), fullInMs, retryInMs: 0 };
  }
}
