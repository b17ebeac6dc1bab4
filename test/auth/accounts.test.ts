/**
 * Password accounts over HTTP: sign up, sign in, the signed-in account, password change, sign out
 * everywhere, disabled accounts, rehashing with new costs, and no enumeration (an existing and a new
 * login get the same sign-up answer; an unknown login and a wrong password the same sign-in answer).
 * Every refusal is asserted with its exact status and problem body.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseOptions } from '@node-rs/argon2';
import { decodeJwt } from 'jose';
import { AccountStore } from '../../src/auth/account-store.js';
import { Passwords } from '../../src/auth/passwords.js';
import type { Model } from '../../src/model/ir.js';
import type { Authenticator } from '../../src/pipeline/authenticate.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import {
  accountsModel,
  bearer,
  expectExactProblem,
  FAST_HASHING,
  INVALID_CREDENTIALS,
  login,
  PASSWORD,
  REFRESH_INVALID,
  refresh,
  signedUp,
  signup,
  tokensOf,
} from './accounts-helpers.js';

const ACCEPTED = { data: { message: 'unless this login is already registered, the account is created and can sign in' } };
const GONE = 'the account of this credential no longer exists';
const NOT_OWN = 'only the account itself may do this: sign in with its password, not an API key';

/** A caller acting for an account without being it (as an API key does): `x-test-key: <account id>`. */
const actingAsKey: Authenticator = ({ headers }) => {
  const id = headers['x-test-key'];
  return typeof id === 'string' ? { kind: 'apiKey', id, roles: ['authenticated'] } : undefined;
};

for (const backend of BACKENDS) {
  describe(`password accounts (${backend})`, () => {
    let server: TestServer;
    let model: Model;
    let store: AccountStore;
    /** Every secret sent or received, to be searched for in the log at the end. */
    const secrets: string[] = [];

    before(async () => {
      model = accountsModel();
      // Far more sign-ins than the default per-IP limit: rate-limits.test.ts is about the limits.
      server = await startTestServer(model, backend, { ...FAST_HASHING, authRateLimitIp: 10000 }, undefined, { authenticators: [actingAsKey] });
      const accounts = model.auth?.accounts;
      const resource = model.resourcesByName.get('members');
      assert.ok(accounts && resource);
      store = new AccountStore(server.db, resource, accounts);
    });
    after(() => server.close());

    const members = async () => (await (await server.fetch('/v1/members')).json()).data as Record<string, unknown>[];

    test('sign-up answers 202 alike for a new and an already registered login, and creates one account', async () => {
      const first = await signup(server, 'Ada@Example.com', PASSWORD, 'Ada');
      assert.equal(first.status, 202);
      assert.deepEqual(await first.json(), ACCEPTED);
      const again = await signup(server, 'ada@example.com', 'another good password', 'Impostor');
      assert.equal(again.status, 202);
      assert.deepEqual(await again.json(), ACCEPTED);
      const rows = (await members()).filter((m) => m.email === 'ada@example.com');
      assert.equal(rows.length, 1, 'the second sign-up created nothing');
      assert.equal(rows[0]?.name, 'Ada', 'nor changed the account');
      assert.deepEqual(
        Object.keys(rows[0] ?? {}).sort(),
        ['createdAt', 'disabled', 'email', 'id', 'name', 'roles', 'updatedAt', 'verified'],
        'the hash is never answered',
      );
      assert.match((await store.findByLogin('ada@example.com'))?.passwordHash ?? '', /^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
      await tokensOf(await login(server, 'ADA@example.com'));
      const impostor = await login(server, 'ada@example.com', 'another good password');
      await expectExactProblem(impostor, 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
    });

    test('two concurrent sign-ups with one login both answer 202 and create one account', async () => {
      const answers = await Promise.all([signup(server, 'twice@example.com'), signup(server, 'Twice@example.com', 'another good password')]);
      for (const res of answers) {
        assert.equal(res.status, 202);
        assert.deepEqual(await res.json(), ACCEPTED);
      }
      assert.equal((await members()).filter((m) => m.email === 'twice@example.com').length, 1);
    });

    test('sign-up refuses a password outside the policy, with the path /password', async () => {
      const cases: [string, string, { path: string; code: string; message: string }][] = [
        ['short', 'short@example.com', { path: '/password', code: 'minLength', message: 'must be at least 10 characters (this one has 5)' }],
        ['same@example.com', 'same@example.com', { path: '/password', code: 'sameAsLogin', message: 'must not be the same as the login' }],
        ['SAME@EXAMPLE.COM', 'Same@example.com', { path: '/password', code: 'sameAsLogin', message: 'must not be the same as the login' }],
      ];
      for (const [password, email, error] of cases) {
        const res = await signup(server, email, password);
        await expectExactProblem(res, 400, 'KILN_VALIDATION_FAILED', `${error.path}: ${error.message}`, [error]);
      }
      const long = await signup(server, 'long@example.com', 'x'.repeat(129));
      await expectExactProblem(long, 400, 'KILN_VALIDATION_FAILED', '/password: must have at most 128 characters', [
        { path: '/password', code: 'maxLength', message: 'must have at most 128 characters' },
      ]);
      assert.equal((await members()).filter((m) => String(m.email).match(/short|same|long/)).length, 0);
    });

    test('sign-up checks its body like a create: required, unknown and malformed fields', async () => {
      const missing = await server.fetch('/v1/auth/signup', { method: 'POST', json: { email: 'x@example.com', password: PASSWORD } });
      await expectExactProblem(missing, 400, 'KILN_VALIDATION_FAILED', '/name: "name" is required', [
        { path: '/name', code: 'required', message: '"name" is required' },
      ]);
      const unknown = await server.fetch('/v1/auth/signup', {
        method: 'POST',
        json: { email: 'x@example.com', password: PASSWORD, name: 'X', roles: ['admin'] },
      });
      await expectExactProblem(unknown, 400, 'KILN_VALIDATION_FAILED', '/roles: "roles" is not accepted here', [
        { path: '/roles', code: 'unknown', message: '"roles" is not accepted here' },
      ]);
      const malformed = await signup(server, 'not an address');
      const body = await malformed.json();
      assert.equal(malformed.status, 400);
      assert.deepEqual(
        body.errors.map((e: { path: string; code: string }) => [e.path, e.code]),
        [['/email', 'format']],
      );
      const none = await server.fetch('/v1/auth/signup', { method: 'POST' });
      await expectExactProblem(none, 400, 'KILN_BODY_MISSING', 'this request needs a JSON body');
    });

    test('an unknown login and a wrong password get the same answer', async () => {
      await signedUp(server, 'grace@example.com');
      const wrong = await login(server, 'grace@example.com', 'not the password');
      await expectExactProblem(wrong, 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      const unknown = await login(server, 'nobody@example.com', 'not the password');
      await expectExactProblem(unknown, 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      const missing = await server.fetch('/v1/auth/login', { method: 'POST', json: { login: 'grace@example.com' } });
      await expectExactProblem(missing, 400, 'KILN_VALIDATION_FAILED', '/password: "password" is required', [
        { path: '/password', code: 'required', message: '"password" is required' },
      ]);
    });

    test('GET /auth/me answers the signed-in account as the resource writes it; 401 without one, or once it is deleted', async () => {
      const { accessToken } = await signedUp(server, 'me@example.com');
      const res = await server.fetch('/v1/auth/me', { headers: bearer(accessToken) });
      assert.equal(res.status, 200);
      const { data } = await res.json();
      assert.equal(data.email, 'me@example.com');
      assert.equal(data.name, 'Ada');
      assert.deepEqual(data.roles, []);
      assert.equal(data.passwordHash, undefined);
      const anonymous = await server.fetch('/v1/auth/me');
      await expectExactProblem(
        anonymous,
        401,
        'KILN_UNAUTHENTICATED',
        'this route needs a signed-in caller: send Authorization: Bearer <access token>, an API key or the session cookie',
      );
      assert.equal((await server.fetch(`/v1/members/${data.id}`, { method: 'DELETE' })).status, 204);
      await expectExactProblem(await server.fetch('/v1/auth/me', { headers: bearer(accessToken) }), 401, 'KILN_UNAUTHENTICATED', GONE);
      await expectExactProblem(await server.fetch('/v1/auth/logout/all', { method: 'POST', headers: bearer(accessToken) }), 401, 'KILN_UNAUTHENTICATED', GONE);
    });

    test('a disabled account cannot sign in or refresh; a wrong password tells nothing about it', async () => {
      const tokens = await signedUp(server, 'off@example.com');
      const account = await store.findByLogin('off@example.com');
      assert.ok(account);
      await store.setDisabled(account.id, true);
      await expectExactProblem(
        await login(server, 'off@example.com'),
        403,
        'KILN_AUTH_ACCOUNT_DISABLED',
        'this account is disabled; ask an operator to enable it',
      );
      await expectExactProblem(await login(server, 'off@example.com', 'not the password'), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      await expectExactProblem(await refresh(server, tokens.refreshToken), 401, 'KILN_AUTH_REFRESH_INVALID', REFRESH_INVALID);
      const change = (currentPassword: string) =>
        server.fetch('/v1/auth/password', {
          method: 'POST',
          headers: bearer(tokens.accessToken),
          json: { currentPassword, newPassword: 'a brand new password' },
        });
      await expectExactProblem(await change(PASSWORD), 403, 'KILN_AUTH_ACCOUNT_DISABLED', 'this account is disabled; ask an operator to enable it');
      await expectExactProblem(await change('not the password'), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      await store.setDisabled(account.id, false);
      await tokensOf(await login(server, 'off@example.com'));
    });

    test('changing the password needs the current one, follows the policy, and signs out every other client', async () => {
      const first = await signedUp(server, 'change@example.com');
      const second = await tokensOf(await login(server, 'change@example.com'));
      const change = (accessToken: string, json: unknown) => server.fetch('/v1/auth/password', { method: 'POST', headers: bearer(accessToken), json });
      await expectExactProblem(
        await change(first.accessToken, { currentPassword: 'not the password', newPassword: 'a brand new password' }),
        401,
        'KILN_AUTH_INVALID_CREDENTIALS',
        INVALID_CREDENTIALS,
      );
      await expectExactProblem(
        await change(first.accessToken, { currentPassword: PASSWORD, newPassword: 'tiny' }),
        400,
        'KILN_VALIDATION_FAILED',
        '/newPassword: must be at least 10 characters (this one has 4)',
        [{ path: '/newPassword', code: 'minLength', message: 'must be at least 10 characters (this one has 4)' }],
      );
      await expectExactProblem(
        await change(first.accessToken, { currentPassword: PASSWORD, newPassword: 'Change@Example.com' }),
        400,
        'KILN_VALIDATION_FAILED',
        '/newPassword: must not be the same as the login',
        [{ path: '/newPassword', code: 'sameAsLogin', message: 'must not be the same as the login' }],
      );
      await expectExactProblem(
        await server.fetch('/v1/auth/password', { method: 'POST', json: { currentPassword: PASSWORD, newPassword: 'a brand new password' } }),
        401,
        'KILN_UNAUTHENTICATED',
        'this route needs a signed-in caller: send Authorization: Bearer <access token>, an API key or the session cookie',
      );
      const changed = await tokensOf(await change(first.accessToken, { currentPassword: PASSWORD, newPassword: 'a brand new password' }));
      secrets.push(first.refreshToken, second.refreshToken, changed.refreshToken);
      for (const old of [first.refreshToken, second.refreshToken]) {
        await expectExactProblem(await refresh(server, old), 401, 'KILN_AUTH_REFRESH_INVALID', REFRESH_INVALID);
      }
      await tokensOf(await refresh(server, changed.refreshToken));
      await expectExactProblem(await login(server, 'change@example.com'), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      await tokensOf(await login(server, 'change@example.com', 'a brand new password'));
    });

    test('signing out everywhere revokes every refresh token of the account, and no other', async () => {
      const a = await signedUp(server, 'everywhere@example.com');
      const b = await tokensOf(await login(server, 'everywhere@example.com'));
      const other = await signedUp(server, 'bystander@example.com');
      const res = await server.fetch('/v1/auth/logout/all', { method: 'POST', headers: bearer(a.accessToken) });
      assert.equal(res.status, 204);
      assert.equal(await res.text(), '');
      for (const token of [a.refreshToken, b.refreshToken]) {
        await expectExactProblem(await refresh(server, token), 401, 'KILN_AUTH_REFRESH_INVALID', REFRESH_INVALID);
      }
      await tokensOf(await refresh(server, other.refreshToken));
      await expectExactProblem(
        await server.fetch('/v1/auth/logout/all', { method: 'POST' }),
        401,
        'KILN_UNAUTHENTICATED',
        'this route needs a signed-in caller: send Authorization: Bearer <access token>, an API key or the session cookie',
      );
    });

    test('a caller acting for an account (an API key) may read it, but not change its password or sign it out everywhere', async () => {
      await signedUp(server, 'keyed@example.com');
      const account = await store.findByLogin('keyed@example.com');
      assert.ok(account);
      const headers = { 'x-test-key': account.id };
      const me = await server.fetch('/v1/auth/me', { headers });
      assert.equal(me.status, 200);
      assert.equal((await me.json()).data.email, 'keyed@example.com');
      await expectExactProblem(
        await server.fetch('/v1/auth/password', { method: 'POST', headers, json: { currentPassword: PASSWORD, newPassword: 'a brand new password' } }),
        403,
        'KILN_FORBIDDEN',
        NOT_OWN,
      );
      await expectExactProblem(await server.fetch('/v1/auth/logout/all', { method: 'POST', headers }), 403, 'KILN_FORBIDDEN', NOT_OWN);
      await tokensOf(await login(server, 'keyed@example.com'));
    });

    test('a password change and signing out everywhere end the browser sessions of the account too', async () => {
      const tokens = await signedUp(server, 'browser@example.com');
      const startSession = async (password = PASSWORD) => {
        const res = await server.fetch('/v1/auth/session', { method: 'POST', json: { login: 'browser@example.com', password } });
        assert.equal(res.status, 200, await res.clone().text());
        const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
        assert.ok(cookie);
        return { cookie };
      };
      const sessionOf = (headers: { cookie: string }) => server.fetch('/v1/auth/session', { headers });
      const first = await startSession();
      assert.equal((await sessionOf(first)).status, 200);
      const changed = await tokensOf(
        await server.fetch('/v1/auth/password', {
          method: 'POST',
          headers: bearer(tokens.accessToken),
          json: { currentPassword: PASSWORD, newPassword: 'a brand new password' },
        }),
      );
      await expectProblem(await sessionOf(first), 401, 'KILN_UNAUTHENTICATED');
      const again = await startSession('a brand new password');
      assert.equal((await sessionOf(again)).status, 200);
      assert.equal((await server.fetch('/v1/auth/logout/all', { method: 'POST', headers: bearer(changed.accessToken) })).status, 204);
      await expectProblem(await sessionOf(again), 401, 'KILN_UNAUTHENTICATED');
    });

    test('roles set by an administrator are in the access tokens of the next sign-in and refresh', async () => {
      const tokens = await signedUp(server, 'editor@example.com');
      assert.deepEqual(decodeJwt(tokens.accessToken).roles, []);
      const account = await store.findByLogin('editor@example.com');
      assert.ok(account);
      await store.setRoles(account.id, ['editor']);
      const refreshed = await tokensOf(await refresh(server, tokens.refreshToken));
      assert.deepEqual(decodeJwt(refreshed.accessToken).roles, ['editor']);
      const me = await (await server.fetch('/v1/auth/me', { headers: bearer(refreshed.accessToken) })).json();
      assert.deepEqual(me.data.roles, ['editor']);
    });

    test('a hash made with other costs is replaced at the next successful sign-in', async () => {
      await signedUp(server, 'old@example.com');
      const account = await store.findByLogin('old@example.com');
      assert.ok(account);
      const policy = { minLength: 10, maxLength: 128 };
      const costlier = new Passwords({ passwordMemoryKib: 9216, passwordTimeCost: 2 }, policy);
      await store.setPasswordHash(account.id, await costlier.hash(PASSWORD));
      await expectExactProblem(await login(server, 'old@example.com', 'not the password'), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      assert.deepEqual(parseOptions((await store.findById(account.id))?.passwordHash ?? ''), parseOptions(await costlier.hash('x')), 'a failure keeps it');
      await tokensOf(await login(server, 'old@example.com'));
      const rehashed = parseOptions((await store.findById(account.id))?.passwordHash ?? '');
      assert.equal(rehashed.memoryCost, 8192);
      assert.equal(rehashed.timeCost, 1);
      await tokensOf(await login(server, 'old@example.com'));
    });

    test('the auth routes are in the OpenAPI document under the tag auth', async () => {
      const document = await (await server.fetch('/openapi.json')).json();
      const expected: [string, string][] = [
        ['/v1/auth/signup', 'post'],
        ['/v1/auth/login', 'post'],
        ['/v1/auth/refresh', 'post'],
        ['/v1/auth/logout', 'post'],
        ['/v1/auth/logout/all', 'post'],
        ['/v1/auth/me', 'get'],
        ['/v1/auth/password', 'post'],
      ];
      for (const [path, method] of expected) {
        const operation = document.paths[path]?.[method];
        assert.ok(operation, `${method} ${path}`);
        assert.deepEqual(operation.tags, ['auth']);
        assert.equal(typeof operation.summary, 'string');
      }
    });

    test('no password, hash or refresh token reaches the log', () => {
      const log = JSON.stringify(server.logs);
      for (const secret of [PASSWORD, 'a brand new password', 'not the password', '$argon2id$', ...secrets]) {
        assert.ok(!log.includes(secret), `the log holds ${secret.slice(0, 12)}…`);
      }
    });
  });
}
