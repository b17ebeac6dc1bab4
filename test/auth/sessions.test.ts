/**
 * Browser sessions in PostgreSQL, black-box over HTTP: the cookie login sets (exact attributes, over
 * TLS and in development), what it authenticates, session fixation, the idle and absolute timeouts,
 * sign-out, revokeAll, and the account read on every request (disabled, new roles, new password).
 * CSRF has its own file (csrf.test.ts), the Redis store too (session-redis.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AccountStore } from '../../src/auth/account-store.js';
import { createSessions } from '../../src/auth/sessions.js';
import { resolveSettings } from '../../src/config/settings.js';
import { TRUE } from '../../src/core/predicate.js';
import type { Model } from '../../src/model/ir.js';
import type { AccessPolicy } from '../../src/pipeline/authorize.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { WHOAMI } from '../helpers/whoami.js';

const IDLE_S = 60;
const ABSOLUTE_S = 3600;
const SETTINGS = { passwordMemoryKib: 8192, passwordTimeCost: 1, authSessionIdleS: IDLE_S, authSessionAbsoluteS: ABSOLUTE_S };
const PASSWORD = 'correct horse battery staple';
const SECURE_COOKIE = /^__Host-kiln_session=([A-Za-z0-9_-]{43}); Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax; Secure$/;
const CLEARED = '__Host-kiln_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure; Expires=Thu, 01 Jan 1970 00:00:00 GMT';

/** Tags are for signed-in callers: a generated route that tells a session from no credential. */
const signedInTags: AccessPolicy = {
  decide: (principal, resource) =>
    resource.name === 'tags' && principal.kind === 'anonymous' ? { allowed: false, detail: 'sign in to use tags' } : { allowed: true, rows: TRUE },
};

const problem = (status: number, code: string, title: string, detail: string) => ({ type: `https://kiln.dev/errors/${code}`, title, status, code, detail });
const ENDED = problem(401, 'KILN_UNAUTHENTICATED', 'Authentication required', 'the session has expired or was ended; sign in again');

async function expectEnded(res: Response, body: object = ENDED): Promise<void> {
  const got = await expectProblem(res, 401, 'KILN_UNAUTHENTICATED');
  assert.deepEqual({ ...got, instance: undefined }, { ...body, instance: undefined });
  assert.deepEqual(res.headers.getSetCookie(), [CLEARED]);
  assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln"');
}

for (const backend of BACKENDS) {
  describe(`sessions (${backend})`, () => {
    let server: TestServer;
    let model: Model;
    let accounts: AccountStore;
    /** Every secret the test saw, to look for in the log at the end. */
    const secrets: string[] = [PASSWORD];

    const signUp = async (email: string) => {
      const res = await server.fetch('/v1/auth/signup', { method: 'POST', json: { email, name: email, password: PASSWORD } });
      assert.equal(res.status, 202, await res.text());
      const account = await accounts.findByLogin(email);
      assert.ok(account);
      return account.id;
    };

    const signIn = async (email: string, headers: Record<string, string> = {}) => {
      const res = await server.fetch('/v1/auth/session', { method: 'POST', json: { login: email, password: PASSWORD }, headers });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const [setCookie, ...more] = res.headers.getSetCookie();
      assert.deepEqual(more, []);
      const id = SECURE_COOKIE.exec(setCookie ?? '')?.[1];
      assert.ok(id, `unexpected Set-Cookie ${setCookie}`);
      const { data } = JSON.parse(text);
      secrets.push(id, data.csrfToken);
      return { id, cookie: `__Host-kiln_session=${id}`, csrfToken: data.csrfToken as string, expiresAt: data.expiresAt as string };
    };

    const get = (path: string, cookie: string) => server.fetch(path, { headers: { cookie } });

    before(async () => {
      model = await blogModel();
      const accountsModel = model.auth?.accounts;
      const users = model.resourcesByName.get('users');
      assert.ok(accountsModel && users);
      server = await startTestServer(model, backend, SETTINGS, undefined, { routes: [WHOAMI], access: signedInTags });
      accounts = new AccountStore(server.db, users, accountsModel);
    });
    after(() => server.close());

    test('login sets an HttpOnly, SameSite=Lax, Secure __Host- cookie and answers the CSRF token and the absolute expiry', async () => {
      await signUp('ada@example.com');
      const before = Date.now();
      const session = await signIn('ada@example.com');
      assert.match(session.csrfToken, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(session.csrfToken, session.id);
      const expires = Date.parse(session.expiresAt);
      assert.ok(expires >= before + ABSOLUTE_S * 1000 - 1000 && expires <= Date.now() + ABSOLUTE_S * 1000 + 1000, session.expiresAt);
      const stored = await server.db.query<{ id_hash: string }>(`SELECT "id_hash" FROM "kiln_auth_sessions"`);
      assert.ok(
        stored.every((row) => row.id_hash !== session.id),
        'the id is stored hashed',
      );
    });

    test('a wrong password sets no cookie', async () => {
      const res = await server.fetch('/v1/auth/session', { method: 'POST', json: { login: 'ada@example.com', password: 'wrong password!' } });
      const body = await expectProblem(res, 401, 'KILN_AUTH_INVALID_CREDENTIALS');
      assert.equal(body.detail, 'the login or the password is wrong');
      assert.deepEqual(res.headers.getSetCookie(), []);
    });

    test('the cookie authenticates GET /auth/session, a custom route and a generated route', async () => {
      const id = await signUp('grace@example.com');
      const session = await signIn('grace@example.com');
      const current = await get('/v1/auth/session', session.cookie);
      assert.equal(current.status, 200);
      assert.deepEqual(await current.json(), { data: { csrfToken: session.csrfToken, expiresAt: session.expiresAt } });
      assert.deepEqual(current.headers.getSetCookie(), [], 'an unchanged session sets no cookie');
      const me = await get('/v1/whoami', session.cookie);
      assert.deepEqual(await me.json(), { kind: 'account', id, roles: ['authenticated'] });
      assert.equal((await get('/v1/tags', session.cookie)).status, 200);
      const anonymous = await expectProblem(await server.fetch('/v1/tags'), 403, 'KILN_FORBIDDEN');
      assert.equal(anonymous.detail, 'sign in to use tags');
    });

    test('GET /auth/session needs the cookie: 401 without one, and for a bearer token', async () => {
      const none = await expectProblem(await server.fetch('/v1/auth/session'), 401, 'KILN_UNAUTHENTICATED');
      assert.equal(none.detail, 'this route needs a signed-in caller: send Authorization: Bearer <access token>, an API key or the session cookie');
      const login = await server.fetch('/v1/auth/login', { method: 'POST', json: { login: 'grace@example.com', password: PASSWORD } });
      const { accessToken } = (await login.json()).data;
      secrets.push(accessToken);
      const bearer = await expectProblem(
        await server.fetch('/v1/auth/session', { headers: { authorization: `Bearer ${accessToken}` } }),
        401,
        'KILN_UNAUTHENTICATED',
      );
      assert.equal(bearer.detail, 'this route needs the session cookie: sign in with POST /auth/session');
    });

    test('an unknown session id is refused with 401 and a Set-Cookie that clears it', async () => {
      await expectEnded(await get('/v1/whoami', '__Host-kiln_session=not-a-session-anyone-was-given'));
      await expectEnded(await get('/v1/posts', '__Host-kiln_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'));
    });

    test('session fixation: login replaces the id the browser sent, which is dead afterwards', async () => {
      const first = await signIn('ada@example.com');
      const second = await signIn('ada@example.com', { cookie: first.cookie });
      assert.notEqual(second.id, first.id);
      assert.notEqual(second.csrfToken, first.csrfToken);
      await expectEnded(await get('/v1/whoami', first.cookie));
      assert.equal((await get('/v1/whoami', second.cookie)).status, 200);
      // An id the server never issued (planted by an attacker) is not adopted either, and does not block the login.
      const planted = await signIn('ada@example.com', { cookie: '__Host-kiln_session=planted-by-someone-else' });
      assert.notEqual(planted.id, 'planted-by-someone-else');
    });

    test('idle timeout: a session unused for KILN_AUTH_SESSION_IDLE_S ends; each use pushes it back', async () => {
      const session = await signIn('ada@example.com');
      await server.db.query(`UPDATE "kiln_auth_sessions" SET "last_seen_at" = now() - interval '${IDLE_S - 10} seconds'`);
      assert.equal((await get('/v1/whoami', session.cookie)).status, 200);
      const [seen] = await server.db.query<{ idle: number }>(
        `SELECT extract(epoch FROM now() - "last_seen_at")::float AS "idle" FROM "kiln_auth_sessions" WHERE "csrf_token" = $1`,
        [session.csrfToken],
      );
      assert.ok(seen && seen.idle < 5, `the use was recorded (idle ${seen?.idle} s)`);
      await server.db.query(`UPDATE "kiln_auth_sessions" SET "last_seen_at" = now() - interval '${IDLE_S + 1} seconds' WHERE "csrf_token" = $1`, [
        session.csrfToken,
      ]);
      await expectEnded(await get('/v1/whoami', session.cookie));
    });

    test('absolute timeout: a session ends at its expiry however active', async () => {
      const session = await signIn('ada@example.com');
      await server.db.query(`UPDATE "kiln_auth_sessions" SET "expires_at" = now() - interval '1 second' WHERE "csrf_token" = $1`, [session.csrfToken]);
      await expectEnded(await get('/v1/whoami', session.cookie));
    });

    test('DELETE /auth/session needs the CSRF token, then ends the session and clears the cookie', async () => {
      const session = await signIn('ada@example.com');
      const refused = await server.fetch('/v1/auth/session', { method: 'DELETE', headers: { cookie: session.cookie } });
      await expectProblem(refused, 403, 'KILN_AUTH_CSRF');
      const res = await server.fetch('/v1/auth/session', { method: 'DELETE', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
      assert.equal(res.status, 204);
      assert.deepEqual(res.headers.getSetCookie(), [CLEARED]);
      await expectEnded(await get('/v1/auth/session', session.cookie));
    });

    test('revokeAll ends every session of the account, and only its sessions', async () => {
      const id = await signUp('linus@example.com');
      const one = await signIn('linus@example.com');
      const two = await signIn('linus@example.com');
      const other = await signIn('ada@example.com');
      const sessions = createSessions(accounts, { db: server.db, settings: { ...resolveSettings({}), ...SETTINGS }, dev: false, redis: undefined });
      await sessions.revokeAll(id);
      await expectEnded(await get('/v1/whoami', one.cookie));
      await expectEnded(await get('/v1/whoami', two.cookie));
      assert.equal((await get('/v1/whoami', other.cookie)).status, 200);
    });

    test('a disabled account is signed out at its next request, and stays out when enabled again', async () => {
      const id = await signUp('mallory@example.com');
      const session = await signIn('mallory@example.com');
      await accounts.setDisabled(id, true);
      await expectEnded(
        await get('/v1/whoami', session.cookie),
        problem(401, 'KILN_UNAUTHENTICATED', 'Authentication required', 'the account of this session is disabled'),
      );
      await accounts.setDisabled(id, false);
      await expectEnded(await get('/v1/whoami', session.cookie));
    });

    test('new roles apply at the next request, which rotates the session id and keeps the CSRF token', async () => {
      const id = await signUp('margaret@example.com');
      const session = await signIn('margaret@example.com');
      await accounts.setRoles(id, ['editor']);
      const res = await get('/v1/whoami', session.cookie);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { kind: 'account', id, roles: ['authenticated', 'editor'] });
      const [setCookie, ...more] = res.headers.getSetCookie();
      assert.deepEqual(more, []);
      const rotated = SECURE_COOKIE.exec(setCookie ?? '')?.[1];
      assert.ok(rotated && rotated !== session.id, `expected a new session cookie, got ${setCookie}`);
      secrets.push(rotated);
      await expectEnded(await get('/v1/whoami', session.cookie));
      const cookie = `__Host-kiln_session=${rotated}`;
      const current = await get('/v1/auth/session', cookie);
      assert.deepEqual(await current.json(), { data: { csrfToken: session.csrfToken, expiresAt: session.expiresAt } });
      assert.deepEqual(current.headers.getSetCookie(), [], 'rotated once');
      const write = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'rotated' }, headers: { cookie, 'x-csrf-token': session.csrfToken } });
      assert.equal(write.status, 201);
    });

    test('a new password ends the sessions that began with the old one', async () => {
      const id = await signUp('barbara@example.com');
      const session = await signIn('barbara@example.com');
      const account = await accounts.findById(id);
      assert.ok(account?.passwordHash);
      // What the password change and reset routes write: another hash (they also call revokeAll, tested above).
      await accounts.setPasswordHash(id, `${account.passwordHash}x`);
      await expectEnded(
        await get('/v1/whoami', session.cookie),
        problem(401, 'KILN_UNAUTHENTICATED', 'Authentication required', 'the session was ended; sign in again'),
      );
    });

    test('no session id, CSRF token or password reaches the log', () => {
      const log = JSON.stringify(server.logs);
      for (const secret of secrets) assert.ok(!log.includes(secret), `the log holds a secret (${secret.slice(0, 4)}…)`);
    });
  });
}

// The cookie's attributes do not depend on the database: the quicker one to start will do.
describe('sessions in development (kiln dev)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(
      await blogModel(),
      BACKENDS.includes('postgres') ? 'postgres' : 'pglite',
      { ...SETTINGS, authSessionAbsoluteS: 7200 },
      undefined,
      { dev: true },
    );
  });
  after(() => server.close());

  test('the cookie is kiln_session, without Secure (plain HTTP), Max-Age the absolute timeout', async () => {
    await server.fetch('/v1/auth/signup', { method: 'POST', json: { email: 'dev@example.com', name: 'Dev', password: PASSWORD } });
    const res = await server.fetch('/v1/auth/session', { method: 'POST', json: { login: 'dev@example.com', password: PASSWORD } });
    assert.equal(res.status, 200);
    const [setCookie] = res.headers.getSetCookie();
    const id = /^kiln_session=([A-Za-z0-9_-]{43}); Max-Age=7200; Path=\/; HttpOnly; SameSite=Lax$/.exec(setCookie ?? '')?.[1];
    assert.ok(id, `unexpected Set-Cookie ${setCookie}`);
    assert.equal((await server.fetch('/v1/auth/session', { headers: { cookie: `kiln_session=${id}` } })).status, 200);
    const ended = await server.fetch('/v1/auth/session', { headers: { cookie: 'kiln_session=gone' } });
    await expectProblem(ended, 401, 'KILN_UNAUTHENTICATED');
    assert.deepEqual(ended.headers.getSetCookie(), ['kiln_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
  });
});
