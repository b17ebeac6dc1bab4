/**
 * Sign-up as the model configures it: the resource's hooks run on the new account, the signup roles
 * are given, a model that requires verification refuses the right password of an unverified account
 * (and only the right one), mail goes to a new account and to the owner of a login signed up with
 * again (under `kiln dev`, to the log), and a model with sign-up disabled does not serve the route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { AccountStore } from '../../src/auth/account-store.js';
import type { Model } from '../../src/model/ir.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { accountsModel, bearer, expectExactProblem, FAST_HASHING, INVALID_CREDENTIALS, login, signup, tokensOf } from './accounts-helpers.js';

const MAIL_ACCEPTED = { data: { message: 'unless this login is already registered, the account is created; a mail to it says what to do next' } };

/** The subjects of the mail the log mailer printed to `to`, once `count` arrived (mail is sent after the answer). */
async function mailTo(server: TestServer, to: string, count: number): Promise<string[]> {
  const subjects = () =>
    server.logs.flatMap((line) => {
      const mail = line.mail as { to?: string; subject?: string } | undefined;
      return mail?.to === to ? [String(mail.subject)] : [];
    });
  for (let waited = 0; subjects().length < count && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  return subjects();
}

for (const backend of BACKENDS) {
  describe(`sign-up with verification required and signup roles (${backend})`, () => {
    let server: TestServer;
    let store: AccountStore;

    before(async () => {
      const model: Model = accountsModel({
        verification: 'required',
        signup: { roles: ['reader'] },
        hooks: { beforeCreate: ({ input }: { input: { name: string } }) => ({ ...input, name: input.name.trim().toUpperCase() }) },
      });
      // `dev`: mail goes to the log, where the test reads it.
      server = await startTestServer(model, backend, { ...FAST_HASHING, authRateLimitIp: 10000 }, undefined, { dev: true });
      const accounts = model.auth?.accounts;
      const resource = model.resourcesByName.get('members');
      assert.ok(accounts && resource);
      store = new AccountStore(server.db, resource, accounts);
    });
    after(() => server.close());

    test('a new account gets the signup roles, goes through the resource’s hooks, and is sent a verification mail', async () => {
      const res = await signup(server, 'new@example.com', 'correct horse battery', '  Ada ');
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), MAIL_ACCEPTED);
      const account = await store.findByLogin('new@example.com');
      assert.ok(account);
      assert.deepEqual(account.roles, ['reader']);
      assert.equal(account.verified, false);
      const [member] = (await (await server.fetch('/v1/members')).json()).data;
      assert.equal(member.name, 'ADA', 'the beforeCreate hook ran');
      assert.deepEqual(await mailTo(server, 'new@example.com', 1), ['Kiln API: confirm your email address']);
    });

    test('signing up again with a registered login answers the same, creates nothing, and tells the owner by mail', async () => {
      const res = await signup(server, 'NEW@example.com', 'another password here', 'Mallory');
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), MAIL_ACCEPTED);
      assert.equal((await (await server.fetch('/v1/members')).json()).data.length, 1);
      const subjects = await mailTo(server, 'new@example.com', 2);
      assert.deepEqual(subjects.sort(), ['Kiln API: confirm your email address', 'Kiln API: someone tried to sign up with your address']);
    });

    test('an unverified account is refused with the right password only; once verified it signs in with its roles', async () => {
      await expectExactProblem(
        await login(server, 'new@example.com'),
        403,
        'KILN_AUTH_NOT_VERIFIED',
        'this account must verify its email address before signing in: follow the link in the verification mail',
      );
      await expectExactProblem(await login(server, 'new@example.com', 'not the password'), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      const account = await store.findByLogin('new@example.com');
      assert.ok(account);
      await store.setVerified(account.id, true);
      const tokens = await tokensOf(await login(server, 'new@example.com'));
      assert.deepEqual(decodeJwt(tokens.accessToken).roles, ['reader']);
      const me = await (await server.fetch('/v1/auth/me', { headers: bearer(tokens.accessToken) })).json();
      assert.equal(me.data.verified, true);
      assert.deepEqual(me.data.roles, ['reader']);
    });
  });
}

describe('sign-up disabled', () => {
  let server: TestServer;
  before(async () => {
    // One backend is enough: nothing here depends on the database, and PostgreSQL starts faster.
    const backend = BACKENDS.includes('postgres') ? 'postgres' : 'pglite';
    server = await startTestServer(accountsModel({ signup: { enabled: false } }), backend, FAST_HASHING);
  });
  after(() => server.close());

  test('POST /auth/signup is not served, and not in the OpenAPI document; sign-in is', async () => {
    await expectExactProblem(
      await server.fetch('/v1/auth/signup', { method: 'POST', json: { email: 'a@example.com', password: 'correct horse battery', name: 'A' } }),
      404,
      'KILN_ROUTE_NOT_FOUND',
      'no route for POST /v1/auth/signup',
    );
    const document = await (await server.fetch('/openapi.json')).json();
    assert.equal(document.paths['/v1/auth/signup'], undefined);
    assert.ok(document.paths['/v1/auth/login']?.post);
    await expectExactProblem(await login(server, 'a@example.com'), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
  });
});
