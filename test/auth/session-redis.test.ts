/**
 * Sessions in Redis (REDIS_URL), black-box over HTTP with a look at the keys: the session is a hash
 * under the hash of its id with the idle timeout as TTL, the timeouts are Redis's, fixation, rotation,
 * sign-out and revokeAll work as with PostgreSQL, and a Redis that cannot be reached is answered 503
 * KILN_REDIS_UNAVAILABLE, never 500, with the process still serving. Keys use a random prefix of
 * this run (KILN_REDIS_KEY_PREFIX), deleted at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { AccountStore } from '../../src/auth/account-store.js';
import { hashSecret } from '../../src/auth/secrets.js';
import { createSessions } from '../../src/auth/sessions.js';
import { resolveSettings } from '../../src/config/settings.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { WHOAMI } from '../helpers/whoami.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const IDLE_S = 60;
const ABSOLUTE_S = 3600;
const PASSWORD = 'correct horse battery staple';
const COOKIE = /^__Host-kiln_session=([A-Za-z0-9_-]{43}); Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax; Secure$/;
const CLEARED = '__Host-kiln_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure; Expires=Thu, 01 Jan 1970 00:00:00 GMT';

async function expectEnded(res: Response): Promise<void> {
  const body = await expectProblem(res, 401, 'KILN_UNAUTHENTICATED');
  assert.equal(body.detail, 'the session has expired or was ended; sign in again');
  assert.deepEqual(res.headers.getSetCookie(), [CLEARED]);
}

for (const backend of BACKENDS) {
  describe(`sessions in Redis (${backend})`, () => {
    const prefix = `kiln-test-${randomBytes(6).toString('hex')}:`;
    const settings = {
      passwordMemoryKib: 8192,
      passwordTimeCost: 1,
      authSessionIdleS: IDLE_S,
      authSessionAbsoluteS: ABSOLUTE_S,
      redisUrl: REDIS_URL,
      redisKeyPrefix: prefix,
    };
    /** The test's own connection, with the server's prefix: it sees the keys as the server names them. */
    const redis = new Redis(REDIS_URL, { keyPrefix: prefix, lazyConnect: true });
    let server: TestServer;
    let accounts: AccountStore;

    const signUp = async (email: string) => {
      const res = await server.fetch('/v1/auth/signup', { method: 'POST', json: { email, name: email, password: PASSWORD } });
      assert.equal(res.status, 202);
      const account = await accounts.findByLogin(email);
      assert.ok(account);
      return account.id;
    };

    const signIn = async (email: string, headers: Record<string, string> = {}) => {
      const res = await server.fetch('/v1/auth/session', { method: 'POST', json: { login: email, password: PASSWORD }, headers });
      assert.equal(res.status, 200);
      const id = COOKIE.exec(res.headers.getSetCookie()[0] ?? '')?.[1];
      assert.ok(id, res.headers.getSetCookie()[0]);
      return { id, key: `session:${hashSecret(id)}`, cookie: `__Host-kiln_session=${id}`, csrfToken: (await res.json()).data.csrfToken as string };
    };

    const get = (path: string, cookie: string) => server.fetch(path, { headers: { cookie } });

    before(async () => {
      await redis.connect();
      const model = await blogModel();
      const users = model.resourcesByName.get('users');
      assert.ok(users && model.auth?.accounts);
      server = await startTestServer(model, backend, settings, undefined, { routes: [WHOAMI] });
      accounts = new AccountStore(server.db, users, model.auth.accounts);
    });
    after(async () => {
      await server.close();
      // Every key of this run, whatever test made it (rate limits too).
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(prefix.length)));
      await redis.quit();
    });

    test('the session is a Redis hash under the hash of its id, its TTL the idle timeout; nothing in PostgreSQL', async () => {
      const id = await signUp('ada@example.com');
      const session = await signIn('ada@example.com');
      const stored = await redis.hgetall(session.key);
      assert.equal(stored.accountId, id);
      assert.equal(stored.csrfToken, session.csrfToken);
      assert.equal(await redis.exists(`session:${session.id}`), 0, 'the id itself is no key');
      const ttl = await redis.pttl(session.key);
      assert.ok(ttl > (IDLE_S - 5) * 1000 && ttl <= IDLE_S * 1000, `TTL ${ttl} ms`);
      assert.deepEqual(await redis.smembers(`account-sessions:${id}`), [hashSecret(session.id)]);
      assert.deepEqual(await server.db.query(`SELECT 1 FROM "kiln_auth_sessions"`), []);
      assert.equal((await get('/v1/whoami', session.cookie)).status, 200);
    });

    test('idle timeout: Redis forgets an unused session; each use renews its TTL', async () => {
      const session = await signIn('ada@example.com');
      await redis.pexpire(session.key, 10_000);
      assert.equal((await get('/v1/whoami', session.cookie)).status, 200);
      assert.ok((await redis.pttl(session.key)) > (IDLE_S - 5) * 1000, 'renewed');
      await redis.pexpire(session.key, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await expectEnded(await get('/v1/whoami', session.cookie));
    });

    test('absolute timeout: a session past its expiry ends, even with TTL left', async () => {
      const session = await signIn('ada@example.com');
      await redis.hset(session.key, 'expiresAt', String(Date.now() - 1000));
      await expectEnded(await get('/v1/whoami', session.cookie));
      assert.equal(await redis.exists(session.key), 0);
    });

    test('session fixation: login replaces the id the browser sent, which is dead afterwards', async () => {
      const first = await signIn('ada@example.com');
      const second = await signIn('ada@example.com', { cookie: first.cookie });
      assert.notEqual(second.id, first.id);
      assert.equal(await redis.exists(first.key), 0);
      await expectEnded(await get('/v1/whoami', first.cookie));
    });

    test('new roles rotate the session: the key is renamed, the old cookie is dead', async () => {
      const id = await signUp('grace@example.com');
      const session = await signIn('grace@example.com');
      await accounts.setRoles(id, ['editor']);
      const res = await get('/v1/whoami', session.cookie);
      assert.deepEqual(await res.json(), { kind: 'account', id, roles: ['authenticated', 'editor'] });
      const rotated = COOKIE.exec(res.headers.getSetCookie()[0] ?? '')?.[1];
      assert.ok(rotated && rotated !== session.id);
      assert.equal(await redis.exists(session.key), 0);
      assert.equal(await redis.hget(`session:${hashSecret(rotated)}`, 'roles'), '["editor"]');
      await expectEnded(await get('/v1/whoami', session.cookie));
      assert.equal((await get('/v1/whoami', `__Host-kiln_session=${rotated}`)).status, 200);
    });

    test('DELETE /auth/session ends the session', async () => {
      const session = await signIn('ada@example.com');
      const res = await server.fetch('/v1/auth/session', { method: 'DELETE', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
      assert.equal(res.status, 204);
      assert.deepEqual(res.headers.getSetCookie(), [CLEARED]);
      assert.equal(await redis.exists(session.key), 0);
    });

    test('revokeAll ends every session of the account', async () => {
      const id = await signUp('linus@example.com');
      const one = await signIn('linus@example.com');
      const two = await signIn('linus@example.com');
      const other = await signIn('ada@example.com');
      const sessions = createSessions(accounts, { db: server.db, settings: { ...resolveSettings({}), ...settings }, dev: false, redis });
      await sessions.revokeAll(id);
      await expectEnded(await get('/v1/whoami', one.cookie));
      await expectEnded(await get('/v1/whoami', two.cookie));
      assert.equal(await redis.exists(`account-sessions:${id}`), 0);
      assert.equal((await get('/v1/whoami', other.cookie)).status, 200);
    });
  });
}

/** A port nothing listens on: one the system gave out and took back. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('sessions with Redis down', () => {
  let server: TestServer;
  before(async () => {
    const settings = { passwordMemoryKib: 8192, passwordTimeCost: 1, redisUrl: `redis://127.0.0.1:${await closedPort()}` };
    server = await startTestServer(await blogModel(), BACKENDS.includes('postgres') ? 'postgres' : 'pglite', settings);
  });
  after(() => server.close());

  test('a request with a session cookie is answered 503 KILN_REDIS_UNAVAILABLE, and the server goes on serving', async () => {
    const res = await server.fetch('/v1/posts', { headers: { cookie: `__Host-kiln_session=${randomBytes(32).toString('base64url')}` } });
    const body = await expectProblem(res, 503, 'KILN_REDIS_UNAVAILABLE');
    assert.deepEqual(
      { ...body, instance: undefined },
      {
        type: 'https://kiln.dev/errors/KILN_REDIS_UNAVAILABLE',
        title: 'Shared state unavailable',
        status: 503,
        code: 'KILN_REDIS_UNAVAILABLE',
        detail: 'sessions cannot be checked right now; retry later',
        instance: undefined,
      },
    );
    assert.equal(res.headers.get('retry-after'), '2');
    const login = await server.fetch('/v1/auth/session', { method: 'POST', json: { login: 'ada@example.com', password: PASSWORD } });
    await expectProblem(login, 503, 'KILN_REDIS_UNAVAILABLE');
    assert.deepEqual(login.headers.getSetCookie(), []);
    assert.equal((await server.fetch('/v1/posts')).status, 200, 'requests without a session are served');
  });
});
