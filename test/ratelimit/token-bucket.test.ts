/**
 * The token bucket of the API's rate limits (src/ratelimit/token-bucket.ts): a burst of the whole
 * quota, then one call per window/quota, never 2× the quota around any moment (the flaw of fixed
 * windows), costs above 1, and the same answers from Redis's Lua script as from memory.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { type BucketSpec, MemoryTokenBuckets, RedisTokenBuckets, takeTokens } from '../../src/ratelimit/token-bucket.js';

const THREE_A_MINUTE: BucketSpec = { quota: 3, windowMs: 60_000 };

/** Runs calls at the given times (ms) against one bucket; what each came to. */
function run(times: readonly number[], spec: BucketSpec, cost = 1) {
  let tat: number | undefined;
  return times.map((now) => {
    const step = takeTokens(tat, now, cost, spec);
    tat = step.tat;
    return step.taken;
  });
}

describe('token bucket (GCRA)', () => {
  test('a full bucket allows the whole quota at once, then refuses, and says when the next call fits', () => {
    const [a, b, c, d] = run([0, 1, 2, 3], THREE_A_MINUTE);
    assert.deepEqual(
      [a, b, c].map((t) => [t?.allowed, t?.remaining]),
      [
        [true, 2],
        [true, 1],
        [true, 0],
      ],
    );
    assert.equal(c?.fullInMs, 59_998, 'full again a window after the burst');
    assert.deepEqual(d, { allowed: false, remaining: 0, fullInMs: 59_997, retryInMs: 19_997 });
  });

  test('tokens come back one per window/quota, not all at a window end', () => {
    const taken = run([0, 0, 0, 19_999, 20_000, 20_001, 40_000], THREE_A_MINUTE);
    assert.deepEqual(
      taken.map((t) => t.allowed),
      [true, true, true, false, true, false, true],
    );
  });

  test('no moment lets twice the quota through', () => {
    // Fixed windows of a minute from 0 would allow all six: three at the end of the first window, three at the start of the next.
    const times = [59_900, 59_901, 59_902, 60_100, 60_101, 60_102];
    const allowed = run(times, THREE_A_MINUTE).map((t) => t.allowed);
    assert.deepEqual(allowed, [true, true, true, false, false, false]);
  });

  test('a call may cost several tokens; one costing the whole quota fits only a full bucket', () => {
    const [a, b, c] = run([0, 1, 60_000], THREE_A_MINUTE, 3);
    assert.equal(a?.allowed, true);
    assert.equal(a?.remaining, 0);
    assert.deepEqual(b, { allowed: false, remaining: 0, fullInMs: 59_999, retryInMs: 59_999 });
    assert.equal(c?.allowed, true);
  });

  test('a refused call takes nothing', () => {
    const taken = run([0, 0, 0, 1, 2, 3, 20_000], THREE_A_MINUTE);
    assert.equal(taken[6]?.allowed, true, 'the token due at 20 s is there despite the refusals before it');
  });
});

describe('token buckets in memory and in Redis', () => {
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: `kiln-test-${randomBytes(6).toString('hex')}:` });
  after(async () => {
    const keys = await redis.keys(`${redis.options.keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((key) => key.slice((redis.options.keyPrefix ?? '').length)));
    redis.disconnect();
  });

  test('the same calls give the same answers; the key expires when the bucket is full again', async () => {
    await new Promise((resolve) => redis.once('ready', resolve));
    const memory = new MemoryTokenBuckets();
    const shared = new RedisTokenBuckets(redis, 'rl');
    const spec: BucketSpec = { quota: 4, windowMs: 3_600_000 };
    const summary = (t: { allowed: boolean; remaining: number }) => [t.allowed, t.remaining];
    for (const cost of [1, 2, 1, 1]) {
      assert.deepEqual(summary(await shared.take('k', cost, spec)), summary(await memory.take('k', cost, spec)), `cost ${cost}`);
    }
    const refused = await shared.take('k', 1, spec);
    assert.equal(refused.allowed, false);
    assert.ok(Math.abs(refused.retryInMs - 900_000) < 5_000, `a token of 4 an hour is back in 15 minutes: ${refused.retryInMs}`);
    const ttl = await redis.pttl('rl:k');
    assert.ok(ttl > 3_590_000 && ttl <= 3_600_000, `expires with the bucket full: ${ttl}`);
  });

  test('a client that is not connected fails the call at once, for the insurance to take over', async () => {
    const offline = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await assert.rejects(new RedisTokenBuckets(offline, 'rl').take('k', 1, THREE_A_MINUTE), /Redis is not connected \(wait\)/);
    } finally {
      offline.disconnect();
    }
  });
});
