/**
 * The auth rate limits: attempts per account (by login) and per client IP, answered 429 with
 * Retry-After past the limit; a successful sign-in does not use up the account's attempts; in Redis
 * every instance counts together; and when Redis cannot be reached, attempts are refused with 503,
 * never let through. (The per-IP limit over HTTP with Redis: accounts-rate-limits-redis.test.ts.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { AuthRateLimiter } from '../../src/auth/rate-limits.js';
import { KilnError } from '../../src/core/errors.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import {
  accountsModel,
  bearer,
  deleteKeys,
  expectExactProblem,
  expectRateLimited,
  FAST_HASHING,
  INVALID_CREDENTIALS,
  login,
  PASSWORD,
  RATE_WINDOW_S,
  REDIS_URL,
  signedUp,
  signup,
  tokensOf,
} from './accounts-helpers.js';

for (const backend of BACKENDS) {
  describe(`auth rate limits in memory (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(accountsModel(), backend, {
        ...FAST_HASHING,
        authRateLimitAccount: 3,
        authRateLimitIp: 10000,
        authRateWindowS: RATE_WINDOW_S,
      });
    });
    after(() => server.close());

    test('past the per-account limit, even the right password is answered 429 with Retry-After', async () => {
      await signedUp(server, 'guessed@example.com');
      for (let i = 0; i < 3; i++) {
        await expectExactProblem(await login(server, 'guessed@example.com', `guess number ${i}`), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      }
      await expectRateLimited(await login(server, 'guessed@example.com', 'guess number 4'), 'account');
      await expectRateLimited(await login(server, 'GUESSED@example.com '), 'account');
      await signedUp(server, 'other@example.com');
    });

    test('successful sign-ins do not use up the account’s attempts', async () => {
      await signedUp(server, 'regular@example.com');
      for (let i = 0; i < 5; i++) await tokensOf(await login(server, 'regular@example.com'));
      await expectExactProblem(await login(server, 'regular@example.com', 'one wrong guess'), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      await tokensOf(await login(server, 'regular@example.com'));
    });

    test('an unknown login is limited like a registered one', async () => {
      for (let i = 0; i < 3; i++) {
        await expectExactProblem(await login(server, 'ghost@example.com', `guess number ${i}`), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      }
      await expectRateLimited(await login(server, 'ghost@example.com', 'guess number 4'), 'account');
    });

    test('wrong current passwords at a password change count toward the account’s limit', async () => {
      const { accessToken } = await signedUp(server, 'changer@example.com');
      const change = (currentPassword: string) =>
        server.fetch('/v1/auth/password', { method: 'POST', headers: bearer(accessToken), json: { currentPassword, newPassword: 'a brand new password' } });
      for (let i = 0; i < 3; i++) {
        await expectExactProblem(await change(`guess number ${i}`), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      }
      await expectRateLimited(await change(PASSWORD), 'account');
      await expectRateLimited(await login(server, 'changer@example.com'), 'account');
    });
  });
}

describe('auth rate limits when Redis cannot be reached', () => {
  let server: TestServer;
  before(async () => {
    // Nothing listens on port 1: every Redis command fails. One backend is enough (the refusal comes
    // before any query), and PostgreSQL starts faster than PGlite.
    const backend = BACKENDS.includes('postgres') ? 'postgres' : 'pglite';
    server = await startTestServer(accountsModel(), backend, { ...FAST_HASHING, redisUrl: 'redis://127.0.0.1:1' });
  });
  after(() => server.close());

  const UNAVAILABLE = 'the rate limits of authentication cannot be checked right now; retry later';

  test('sign-in and sign-up are refused with 503, not let through unlimited', async () => {
    await expectExactProblem(await login(server, 'ada@example.com'), 503, 'KILN_REDIS_UNAVAILABLE', UNAVAILABLE);
    await expectExactProblem(await signup(server, 'ada@example.com'), 503, 'KILN_REDIS_UNAVAILABLE', UNAVAILABLE);
    const members = await (await server.fetch('/v1/members')).json();
    assert.deepEqual(members.data, [], 'nothing was created');
  });
});

describe('AuthRateLimiter with Redis', () => {
  const prefix = `kiln-test-${randomBytes(6).toString('hex')}:`;
  let redis: Redis;
  before(() => {
    redis = new Redis(REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
  });
  after(async () => {
    const cleaner = new Redis(REDIS_URL);
    await deleteKeys(cleaner, prefix);
    cleaner.disconnect();
    redis.disconnect();
  });

  const settings = { authRateLimitIp: 2, authRateLimitAccount: 2, authRateWindowS: RATE_WINDOW_S };

  test('two instances sharing Redis count together, and a reward gives one attempt back', async () => {
    const one = AuthRateLimiter.create(settings, redis);
    const two = AuthRateLimiter.create(settings, redis);
    await one.consume('ip', '192.0.2.1');
    await two.consume('ip', '192.0.2.1');
    const refused = await one.consume('ip', '192.0.2.1').then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof KilnError);
    assert.equal(refused.code, 'KILN_RATE_LIMITED');
    assert.match(refused.headers?.['retry-after'] ?? '', /^\d+$/);
    await two.consume('account', '192.0.2.1');
    await one.consume('account', 'ada@example.com');
    await one.reward('account', 'ada@example.com');
    await two.consume('account', 'ada@example.com');
    await one.consume('account', 'ada@example.com');
    await assert.rejects(two.consume('account', 'ada@example.com'), (e: unknown) => e instanceof KilnError && e.code === 'KILN_RATE_LIMITED');
    const inspector = new Redis(REDIS_URL);
    const keys = await inspector.keys(`${prefix}auth-rl:*`);
    inspector.disconnect();
    assert.deepEqual(keys.sort(), [`${prefix}auth-rl:account:192.0.2.1`, `${prefix}auth-rl:account:ada@example.com`, `${prefix}auth-rl:ip:192.0.2.1`]);
  });
});
