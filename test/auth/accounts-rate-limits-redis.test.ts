/**
 * The auth rate limits in Redis, over HTTP: the per-IP limit counts sign-ins of every login and
 * sign-ups together, and its keys live under KILN_REDIS_KEY_PREFIX (here one of this run, deleted
 * at the end).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import {
  accountsModel,
  deleteKeys,
  expectExactProblem,
  expectRateLimited,
  FAST_HASHING,
  INVALID_CREDENTIALS,
  login,
  RATE_WINDOW_S,
  REDIS_URL,
  signup,
} from './accounts-helpers.js';

for (const backend of BACKENDS) {
  describe(`auth rate limits in Redis (${backend})`, () => {
    const prefix = `kiln-test-${randomBytes(6).toString('hex')}:`;
    let server: TestServer;
    let redis: Redis;
    before(async () => {
      redis = new Redis(REDIS_URL);
      server = await startTestServer(accountsModel(), backend, {
        ...FAST_HASHING,
        redisUrl: REDIS_URL,
        redisKeyPrefix: prefix,
        authRateLimitIp: 4,
        authRateLimitAccount: 100,
        authRateWindowS: RATE_WINDOW_S,
      });
    });
    after(async () => {
      await server.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    });

    test('the per-IP limit counts sign-ins of every login and sign-ups together', async () => {
      assert.equal((await signup(server, 'ada@example.com')).status, 202);
      for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) {
        await expectExactProblem(await login(server, email, 'some guessed password'), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      }
      await expectRateLimited(await login(server, 'ada@example.com'), 'ip');
      await expectRateLimited(await signup(server, 'new@example.com'), 'ip');
      const keys = (await redis.keys(`${prefix}*`)).sort();
      assert.ok(keys.includes(`${prefix}auth-rl:ip:127.0.0.1`) || keys.includes(`${prefix}auth-rl:ip:::ffff:127.0.0.1`), keys.join(', '));
      assert.ok(keys.includes(`${prefix}auth-rl:account:a@example.com`), keys.join(', '));
    });
  });
}
