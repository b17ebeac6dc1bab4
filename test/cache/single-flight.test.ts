/**
 * Concurrent misses of one key in one process share one fill (no stampede on the database), and a
 * fill that fails is not stored: each caller gets its error, and the next read fills again. The fill
 * is held open by the test, so the misses are certainly concurrent. Across instances sharing Redis,
 * the fill is claimed there: one instance fills, the others take its entry; a claim that ends
 * without an entry lets them fill.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { ResponseCache } from '../../src/cache/response-cache.js';
import type { CachedResponse } from '../../src/cache/store.js';
import { NO_SIGNALS, type Signals } from '../../src/observability/signals.js';
import { ANONYMOUS, type ContextLogger } from '../../src/pipeline/context.js';
import { cacheModel, dropRedisKeys, REDIS_URL, redisPrefix } from './cache-world.js';

function counting(): { signals: Signals; seen: string[] } {
  const seen: string[] = [];
  return { signals: { ...NO_SIGNALS, cache: (resource, outcome) => seen.push(`${resource}:${outcome}`) }, seen };
}

/** A fill the test holds open until it calls `release`; `fills()` counts the calls. */
function heldFill(): { fill: () => Promise<CachedResponse>; release: (response: CachedResponse) => void; fills: () => number } {
  let calls = 0;
  let release: (response: CachedResponse) => void = () => {};
  const held = new Promise<CachedResponse>((done) => (release = done));
  return {
    fill: () => {
      calls++;
      return held;
    },
    release: (response) => release(response),
    fills: () => calls,
  };
}

describe('response cache: single flight', () => {
  test('twenty concurrent misses of one key: one fill, twenty answers, then hits', async () => {
    const { signals, seen } = counting();
    const cache = new ResponseCache({ model: cacheModel(), store: new MemoryStore(), ttl: 60, signals, customPolicy: false });
    const { fill, release, fills } = heldFill();
    const reads = Array.from({ length: 20 }, () => cache.read(ANONYMOUS, 'authors', 'list', undefined, {}, fill));
    // Let every lookup reach the flight before the fill answers.
    for (let i = 0; i < 10; i++) await new Promise((done) => setImmediate(done));
    release({ etag: '"e"', body: '{"data":[]}' });
    const answers = await Promise.all(reads);
    assert.equal(fills(), 1, 'one fill for twenty concurrent misses');
    assert.ok(answers.every((a) => a.outcome === 'miss' && a.response.body === '{"data":[]}'));
    const again = await cache.read(ANONYMOUS, 'authors', 'list', undefined, {}, fill);
    assert.equal(again.outcome, 'hit');
    assert.equal(fills(), 1);
    assert.deepEqual(seen, [...Array(20).fill('authors:miss'), 'authors:hit']);
  });

  test('a failed fill is shared by the callers waiting on it, and not stored', async () => {
    const cache = new ResponseCache({ model: cacheModel(), store: new MemoryStore(), ttl: 60, signals: NO_SIGNALS, customPolicy: false });
    let fills = 0;
    const failing = async (): Promise<CachedResponse> => {
      fills++;
      throw new Error('the database is away');
    };
    const results = await Promise.allSettled([1, 2, 3].map(() => cache.read(ANONYMOUS, 'authors', 'get', '1', undefined, failing)));
    assert.ok(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'the database is away'));
    assert.equal(fills, 1);
    const next = await cache.read(ANONYMOUS, 'authors', 'get', '1', undefined, async () => ({ etag: '"x"', body: '{}' }));
    assert.equal(next.outcome, 'miss', 'nothing was stored by the failed fill');
  });

  test('a resource with cache: false is a bypass, filled every time', async () => {
    const { signals, seen } = counting();
    const cache = new ResponseCache({ model: cacheModel(), store: new MemoryStore(), ttl: 60, signals, customPolicy: false });
    assert.equal(cache.caches('notes'), false);
    assert.equal(cache.caches('posts'), true);
    let fills = 0;
    for (let i = 0; i < 2; i++) {
      const read = await cache.read(ANONYMOUS, 'notes', 'list', undefined, {}, async () => {
        fills++;
        return { etag: '"n"', body: '{}' };
      });
      assert.equal(read.outcome, 'bypass');
    }
    assert.equal(fills, 2);
    assert.deepEqual(seen, ['notes:bypass', 'notes:bypass']);
  });
});

const silentLog: ContextLogger = { error() {}, warn() {}, info() {}, debug() {} };

describe('response cache: one fill across instances (Redis)', () => {
  const prefix = redisPrefix('fill-claims');
  const stores: RedisStore[] = [];
  after(async () => {
    for (const store of stores) await store.close();
    await dropRedisKeys(prefix);
  });

  /** An instance's cache: its own connection to the shared Redis. */
  async function instance(): Promise<ResponseCache> {
    const store = new RedisStore({ url: REDIS_URL, keyPrefix: prefix, log: silentLog });
    await store.connect();
    stores.push(store);
    return new ResponseCache({ model: cacheModel(), store, ttl: 60, signals: NO_SIGNALS, customPolicy: false });
  }

  test('three instances missing one key at once: one fill, every answer its body', async () => {
    const caches = [await instance(), await instance(), await instance()];
    const { fill, release, fills } = heldFill();
    const reads = caches.flatMap((cache) => [1, 2].map(() => cache.read(ANONYMOUS, 'authors', 'list', undefined, { limit: 7 } as never, fill)));
    // Every instance has claimed or found the claim taken before the one fill answers.
    await new Promise((done) => setTimeout(done, 100));
    release({ etag: '"one"', body: '{"data":["one"]}' });
    const answers = await Promise.all(reads);
    assert.equal(fills(), 1, 'one fill for three instances');
    assert.deepEqual(
      answers.map((a) => a.response.body),
      Array(6).fill('{"data":["one"]}'),
    );
  });

  test('a claimed fill that fails: the others fill themselves at once, without waiting out the claim', async () => {
    const [a, b] = [await instance(), await instance()];
    let failOnA: (error: Error) => void = () => {};
    const failing = new Promise<CachedResponse>((_, reject) => (failOnA = reject));
    const onA = a.read(ANONYMOUS, 'authors', 'get', '9', undefined, () => failing);
    await new Promise((done) => setTimeout(done, 50));
    const started = performance.now();
    const onB = b.read(ANONYMOUS, 'authors', 'get', '9', undefined, async () => ({ etag: '"b"', body: '{"id":9}' }));
    await new Promise((done) => setTimeout(done, 50));
    failOnA(new Error('the database is away'));
    await assert.rejects(onA, /the database is away/);
    assert.equal((await onB).response.body, '{"id":9}');
    assert.ok(performance.now() - started < 1000, 'B did not wait out the claim (2 s)');
  });
});
