/**
 * The rate limits in Redis (REDIS_URL): every instance takes from the same bucket; while Redis
 * cannot be reached the limits do what KILN_RATE_LIMIT_REDIS_DOWN says, the outage is logged once,
 * and the counting goes back to Redis by itself. Keys live under a prefix of this run, deleted at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, DEFAULT_RATE_LIMIT, startTestServer, type TestServer } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { assertState, expectLimited } from './helpers.js';
import { notesModel } from './models.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const backend = BACKENDS[0] ?? 'pglite';
const logged = (server: TestServer, start: string) => server.logs.filter((line) => String(line.msg).startsWith(start));
const OUTAGE = 'rate limits: Redis cannot be reached';
const RECOVERY = 'rate limits: Redis is reachable again';

/**
 * Tokens taken from the bucket stored at `key`, now: Redis holds when the bucket will be full again
 * (src/ratelimit/token-bucket.ts), one `intervalMs` per token taken. Same machine, same clock.
 */
async function tokensTaken(redis: Redis, key: string, intervalMs: number): Promise<number> {
  const fullAt = Number(await redis.get(key));
  return fullAt === 0 ? 0 : Math.round((fullAt - Date.now()) / intervalMs);
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}

describe('rate limits shared by two instances through Redis', () => {
  const prefix = `kiln-test-${randomBytes(6).toString('hex')}:`;
  let one: TestServer;
  let two: TestServer;
  let redis: Redis;
  before(async () => {
    redis = new Redis(REDIS_URL);
    const settings = { rateLimit: '3/min', redisUrl: REDIS_URL, redisKeyPrefix: prefix };
    one = await startTestServer(notesModel(), backend, settings);
    two = await startTestServer(notesModel(), backend, settings);
  });
  after(async () => {
    await one.close();
    await two.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  test('calls to either instance take from one bucket', async () => {
    assertState(await one.fetch('/v1/tags'), 'default', 2, 60);
    assertState(await two.fetch('/v1/tags'), 'default', 1, 60);
    assertState(await one.fetch('/v1/tags'), 'default', 0, 60);
    await expectLimited(await two.fetch('/v1/tags'), 'default', '3 per 60 seconds', '"default";q=3;w=60');
    await expectLimited(await one.fetch('/v1/tags'), 'default', '3 per 60 seconds', '"default";q=3;w=60');
    const keys = await redis.keys(`${prefix}rl:*`);
    assert.equal(keys.length, 1, keys.join(', '));
    assert.match(keys[0] ?? '', new RegExp(`^${prefix}rl:default:ip:(::ffff:)?127\\.0\\.0\\.1$`));
    // 3 per minute: a token every 20 s. The refused calls took nothing.
    assert.equal(await tokensTaken(redis, keys[0] as string, 20_000), 3);
    assert.equal(logged(one, OUTAGE).length + logged(two, OUTAGE).length, 0);
  });
});

describe('rate limits while Redis is down, and after', () => {
  const prefix = `kiln-test-${randomBytes(6).toString('hex')}:`;
  const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(REDIS_URL).port || 6379) });
  let server: TestServer;
  let redis: Redis;
  before(async () => {
    redis = new Redis(REDIS_URL);
    await proxy.start();
    server = await startTestServer(notesModel(), backend, { rateLimit: '100/h', redisUrl: proxy.url, redisKeyPrefix: prefix });
  });
  after(async () => {
    await server.close();
    await proxy.stop();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  // 100 an hour: a token back every 36 s, longer than this test, so the counts below are exact.
  const counted = async () => tokensTaken(redis, (await redis.keys(`${prefix}rl:default:*`))[0] ?? 'none', 36_000);

  test('memory counts meanwhile, the outage is logged once, and Redis counts again once it is back', async () => {
    assertState(await server.fetch('/v1/tags'), 'default', 99, 3600);
    assertState(await server.fetch('/v1/tags'), 'default', 98, 3600);
    assert.equal(await counted(), 2);

    await proxy.stop();
    // In memory, this instance's own count starts afresh: 100 less the calls it counts there.
    for (const remaining of [99, 98, 97]) {
      const res = await server.fetch('/v1/tags');
      assert.equal(res.status, 200);
      assertState(res, 'default', remaining, 3600);
    }
    const warnings = logged(server, OUTAGE);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.level, 40);
    assert.equal(
      warnings[0]?.msg,
      'rate limits: Redis cannot be reached; until it is back, each instance counts on its own (KILN_RATE_LIMIT_REDIS_DOWN=memory)',
    );
    assert.equal(await counted(), 2, 'nothing reached Redis');

    await proxy.start();
    // ioredis reconnects on its own schedule: call until a call is counted in Redis again.
    let calls = 0;
    while (logged(server, RECOVERY).length === 0) {
      assert.ok(calls++ < 200, 'the limits never went back to Redis');
      assert.equal((await server.fetch('/v1/tags')).status, 200);
      await sleep(50);
    }
    assert.equal(await counted(), 3, 'the call that found Redis back counted there');
    const res = await server.fetch('/v1/tags');
    assertState(res, 'default', 96, 3600);
    assert.equal(logged(server, OUTAGE).length, 1, 'one warning for the whole outage');
    assert.equal(logged(server, RECOVERY).length, 1);
  });
});

describe('KILN_RATE_LIMIT_REDIS_DOWN', () => {
  const down = { redisUrl: 'redis://127.0.0.1:1', redisKeyPrefix: 'kiln-test-rl-down:' };

  test('memory: the limit still holds, counted by this instance', async () => {
    const server = await startTestServer(notesModel(), backend, { ...down, rateLimit: '2/min' });
    try {
      assertState(await server.fetch('/v1/tags'), 'default', 1, 60);
      assertState(await server.fetch('/v1/tags'), 'default', 0, 60);
      await expectLimited(await server.fetch('/v1/tags'), 'default', '2 per 60 seconds', '"default";q=2;w=60');
      assert.equal(logged(server, OUTAGE).length, 1);
    } finally {
      await server.close();
    }
  });

  test('open: calls are not counted, and answers carry no RateLimit field', async () => {
    const server = await startTestServer(notesModel(), backend, { ...down, rateLimit: '1/min', rateLimitRedisDown: 'open' });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await server.fetch('/v1/tags');
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('ratelimit'), null);
      }
      assert.equal(
        logged(server, OUTAGE)[0]?.msg,
        'rate limits: Redis cannot be reached; until it is back, calls are not counted (KILN_RATE_LIMIT_REDIS_DOWN=open)',
      );
      assert.equal(logged(server, OUTAGE).length, 1);
    } finally {
      await server.close();
    }
  });

  test('closed: calls are refused with 503 KILN_REDIS_UNAVAILABLE', async () => {
    const server = await startTestServer(notesModel(), backend, { ...down, rateLimit: DEFAULT_RATE_LIMIT, rateLimitRedisDown: 'closed' });
    try {
      const res = await server.fetch('/v1/tags');
      const problem = await expectProblem(res, 503, 'KILN_REDIS_UNAVAILABLE');
      assert.deepEqual(problem, {
        type: 'https://kiln.dev/errors/KILN_REDIS_UNAVAILABLE',
        title: 'Shared state unavailable',
        status: 503,
        detail: 'the rate limits cannot be checked right now; retry later',
        code: 'KILN_REDIS_UNAVAILABLE',
        instance: res.headers.get('x-request-id'),
      });
      assert.equal(res.headers.get('ratelimit'), null);
      assert.equal((await server.fetch('/healthz')).status, 200, 'the rest of the server serves');
    } finally {
      await server.close();
    }
  });
});
