/**
 * CSRF protection of cookie-authenticated requests, black-box over HTTP: every unsafe method (POST,
 * PUT, PATCH, DELETE) with the session cookie needs X-CSRF-Token equal to the session's token, on
 * generated and custom routes alike; safe methods, anonymous requests and requests authenticated by an
 * Authorization header need none (the cookie is then ignored); the login replaces the session and
 * needs none either.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AnyRoute } from '../../src/extensions/types.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'correct horse battery staple';
const SETTINGS = { passwordMemoryKib: 8192, passwordTimeCost: 1 };

const csrfProblem = (detail: string) => ({
  type: 'https://kiln.dev/errors/KILN_AUTH_CSRF',
  title: 'CSRF token missing or wrong',
  status: 403,
  code: 'KILN_AUTH_CSRF',
  detail,
});
const MISSING = csrfProblem('a request with the session cookie that changes something must send the X-CSRF-Token header (the csrfToken of GET /auth/session)');
const WRONG = csrfProblem('the X-CSRF-Token header does not match this session; read the csrfToken again from GET /auth/session');

/** A custom route that changes something: the check is the authenticator's, so it covers these too. */
const touch: AnyRoute = {
  method: 'POST',
  path: '/touch',
  authenticated: true,
  response: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
  handler: ({ ctx }) => ({ id: String(ctx.principal.id) }),
};

async function expectCsrf(res: Response, expected: object): Promise<void> {
  const body = await expectProblem(res, 403, 'KILN_AUTH_CSRF');
  assert.deepEqual({ ...body, instance: undefined }, { ...expected, instance: undefined });
  assert.deepEqual(res.headers.getSetCookie(), [], 'a refused token leaves the session alone');
}

for (const backend of BACKENDS) {
  describe(`CSRF on cookie requests (${backend})`, () => {
    let server: TestServer;
    let cookie: string;
    let csrfToken: string;
    let otherToken: string;
    let accessToken: string;

    const signIn = async (email: string) => {
      const res = await server.fetch('/v1/auth/session', { method: 'POST', json: { login: email, password: PASSWORD } });
      assert.equal(res.status, 200);
      const id = /^__Host-kiln_session=([^;]+);/.exec(res.headers.getSetCookie()[0] ?? '')?.[1];
      assert.ok(id);
      return { cookie: `__Host-kiln_session=${id}`, csrfToken: (await res.json()).data.csrfToken as string };
    };

    before(async () => {
      server = await startTestServer(await blogModel(), backend, SETTINGS, undefined, { routes: [touch] });
      for (const email of ['ada@example.com', 'grace@example.com']) {
        const res = await server.fetch('/v1/auth/signup', { method: 'POST', json: { email, name: email, password: PASSWORD } });
        assert.equal(res.status, 202);
      }
      ({ cookie, csrfToken } = await signIn('ada@example.com'));
      otherToken = (await signIn('grace@example.com')).csrfToken;
      const login = await server.fetch('/v1/auth/login', { method: 'POST', json: { login: 'grace@example.com', password: PASSWORD } });
      accessToken = (await login.json()).data.accessToken;
    });
    after(() => server.close());

    test('POST without the token, with a wrong one, with another session’s: 403; with the right one: done', async () => {
      const post = (headers: Record<string, string>) =>
        server.fetch('/v1/tags', { method: 'POST', json: { name: `t${Math.random()}` }, headers: { cookie, ...headers } });
      await expectCsrf(await post({}), MISSING);
      await expectCsrf(await post({ 'x-csrf-token': 'wrong' }), WRONG);
      await expectCsrf(await post({ 'x-csrf-token': `${csrfToken}x` }), WRONG);
      await expectCsrf(await post({ 'x-csrf-token': otherToken }), WRONG);
      assert.equal((await post({ 'x-csrf-token': csrfToken })).status, 201);
      assert.equal((await server.fetch('/v1/tags', { headers: { cookie } })).status, 200, 'a safe method needs no token');
    });

    test('PUT, PATCH and DELETE need it too; nothing is written without it', async () => {
      const created = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'csrf' }, headers: { cookie, 'x-csrf-token': csrfToken } });
      const { id } = (await created.json()).data;
      for (const [method, json] of [
        ['PUT', { name: 'put' }],
        ['PATCH', { name: 'patch' }],
        ['DELETE', undefined],
      ] as const) {
        await expectCsrf(await server.fetch(`/v1/tags/${id}`, { method, json, headers: { cookie } }), MISSING);
        await expectCsrf(await server.fetch(`/v1/tags/${id}`, { method, json, headers: { cookie, 'x-csrf-token': otherToken } }), WRONG);
      }
      assert.equal((await (await server.fetch(`/v1/tags/${id}`)).json()).data.name, 'csrf');
      assert.equal(
        (await server.fetch(`/v1/tags/${id}`, { method: 'PATCH', json: { name: 'patched' }, headers: { cookie, 'x-csrf-token': csrfToken } })).status,
        200,
      );
      assert.equal((await server.fetch(`/v1/tags/${id}`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrfToken } })).status, 204);
    });

    test('a custom route is guarded alike', async () => {
      await expectCsrf(await server.fetch('/v1/touch', { method: 'POST', headers: { cookie } }), MISSING);
      const res = await server.fetch('/v1/touch', { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken } });
      assert.equal(res.status, 200);
    });

    test('a bearer request needs no token, and its cookie (even a dead one) is ignored', async () => {
      const authorization = `Bearer ${accessToken}`;
      const bearer = await server.fetch('/v1/touch', { method: 'POST', headers: { authorization, cookie } });
      assert.equal(bearer.status, 200);
      assert.notEqual((await bearer.json()).id, undefined);
      const dead = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'bearer' }, headers: { authorization, cookie: '__Host-kiln_session=dead' } });
      assert.equal(dead.status, 201);
      assert.deepEqual(dead.headers.getSetCookie(), []);
    });

    test('anonymous requests need no token', async () => {
      assert.equal((await server.fetch('/v1/tags', { method: 'POST', json: { name: 'anonymous' } })).status, 201);
    });

    test('a dead session is answered 401 before any token is asked for', async () => {
      const res = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'x' }, headers: { cookie: '__Host-kiln_session=dead' } });
      const body = await expectProblem(res, 401, 'KILN_UNAUTHENTICATED');
      assert.equal(body.detail, 'the session has expired or was ended; sign in again');
      assert.equal(res.headers.getSetCookie().length, 1);
    });

    test('the login needs no token: it ignores the cookie it replaces', async () => {
      const again = await server.fetch('/v1/auth/session', { method: 'POST', json: { login: 'ada@example.com', password: PASSWORD }, headers: { cookie } });
      assert.equal(again.status, 200);
      const stale = await server.fetch('/v1/auth/session', {
        method: 'POST',
        json: { login: 'ada@example.com', password: PASSWORD },
        headers: { cookie: '__Host-kiln_session=long-gone' },
      });
      assert.equal(stale.status, 200);
    });
  });
}
