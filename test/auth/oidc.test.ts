/**
 * Signing in with an identity provider, against a real OpenID Provider (test/helpers/oidc-provider.ts)
 * over real sockets: the code flow with PKCE ending in a session cookie or a token pair, accounts
 * created on the first login and found again through the linked identity, linking by verified email
 * only, and every way the callback can be abused (tampered, replayed or foreign state, a code from
 * another flow with another nonce, a provider error, an open redirect). Then the start-up decisions:
 * a missing client secret or an account field no claim can fill stops the start, an unreachable
 * provider does not (503 until it answers).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { resolveSettings, type Settings } from '../../src/config/settings.js';
import { StartupError } from '../../src/config/startup-error.js';
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow } from '../../src/model/load.js';
import { startKiln } from '../../src/start.js';
import { blogDeclaration } from '../helpers/blog.js';
import { CookieAgent, freePort, KILN_CLIENT_ID, KILN_CLIENT_SECRET, startTestProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, type Backend, createTestDatabase, startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/server.js';

const FRONT_END = 'http://app.example.com';
const FAST_HASHING: Partial<Settings> = { passwordMemoryKib: 8192, passwordTimeCost: 1 };

process.env.KILN_OIDC_TEST_CLIENT_SECRET = KILN_CLIENT_SECRET;
process.env.KILN_OIDC_STRICT_CLIENT_SECRET = KILN_CLIENT_SECRET;
process.env.KILN_OIDC_DOWN_CLIENT_SECRET = KILN_CLIENT_SECRET;

/**
 * The blog (its data model with open access: this suite is about signing in), its users signing in
 * with `test` (creates and links accounts), `strict` (neither), and `down`, whose issuer does not
 * answer until the test starts a provider there.
 */
async function blogWithProviders(issuer: string, downIssuer: string): Promise<Model> {
  const declaration = await blogDeclaration();
  return compileOrThrow('the blog with identity providers', {
    ...declaration,
    auth: {
      ...(declaration.auth as Record<string, unknown>),
      oidc: {
        test: { issuer, clientId: KILN_CLIENT_ID },
        strict: { issuer, clientId: KILN_CLIENT_ID, createAccounts: false, linkByEmail: false },
        down: { issuer: downIssuer, clientId: KILN_CLIENT_ID },
      },
    },
  });
}

/** Kiln on a port known in advance: the provider must know Kiln's callback before either starts. */
async function startKilnFor(model: Model, backend: Backend, port: number, overrides: Partial<Settings> = {}): Promise<TestServer> {
  return startTestServer(model, backend, {
    ...FAST_HASHING,
    port,
    publicUrl: `http://127.0.0.1:${port}`,
    authCookieSecure: false,
    corsOrigins: [FRONT_END],
    ...overrides,
  });
}

const callbacksOf = (port: number) => ['test', 'strict', 'down'].map((name) => `http://127.0.0.1:${port}/v1/auth/oidc/${name}/callback`);

for (const backend of BACKENDS) {
  describe(`signing in with an identity provider (${backend})`, () => {
    let provider: TestProvider;
    let server: TestServer;
    let callbackBase: string;
    let downPort: number;

    before(async () => {
      const port = await freePort();
      provider = await startTestProvider(callbacksOf(port));
      downPort = await freePort();
      server = await startKilnFor(await blogWithProviders(provider.issuer, `http://127.0.0.1:${downPort}`), backend, port);
      callbackBase = `${server.url}/v1/auth/oidc/test/callback`;
      provider.identities.set('bob', { email: 'Bob@Example.com', email_verified: true, name: 'Bob' });
      provider.identities.set('carol', { email: 'carol@example.com', email_verified: false, name: 'Carol' });
      provider.identities.set('dave', { email: 'dave@example.com', email_verified: true });
    });
    after(async () => {
      await server?.close();
      await provider?.close();
    });

    /** Starts a login at Kiln as `subject` and walks it through the provider; the callback URL, not yet requested. */
    async function throughProvider(agent: CookieAgent, subject: string, query = '', name = 'test'): Promise<string> {
      provider.signInAs = subject;
      const start = await agent.fetch(`${server.url}/v1/auth/oidc/${name}${query}`);
      assert.equal(start.status, 302, await start.text());
      return agent.followUntil(start.headers.get('location') as string, `${server.url}/v1/auth/oidc/${name}/callback`);
    }

    async function usersWithEmail(email: string): Promise<{ id: number; name: string; verified: boolean }[]> {
      const res = await server.fetch(`/v1/users?email=${encodeURIComponent(email)}`);
      assert.equal(res.status, 200);
      return (await res.json()).data;
    }

    test('the start redirects to the provider with PKCE S256, state and nonce, and binds the sign-in to the browser', async () => {
      const res = await server.fetch('/v1/auth/oidc/test', { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const location = new URL(res.headers.get('location') as string);
      assert.equal(location.origin, provider.issuer);
      const params = location.searchParams;
      assert.equal(params.get('client_id'), KILN_CLIENT_ID);
      assert.equal(params.get('redirect_uri'), callbackBase);
      assert.equal(params.get('response_type'), 'code');
      assert.equal(params.get('scope'), 'openid email profile');
      assert.equal(params.get('code_challenge_method'), 'S256');
      assert.match(params.get('code_challenge') ?? '', /^[\w-]{43}$/);
      assert.match(params.get('state') ?? '', /^[\w-]{43}$/);
      assert.match(params.get('nonce') ?? '', /^[\w-]{43}$/);
      assert.match(res.headers.get('set-cookie') ?? '', /^kiln_oidc_flow=[\w-]{43}; Path=\/v1\/auth\/oidc; Max-Age=600; HttpOnly; SameSite=Lax$/);
    });

    test('the first login creates the account from the claims, verified; the session cookie signs it in', async () => {
      const agent = new CookieAgent();
      const res = await agent.fetch(await throughProvider(agent, 'alice'));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      const { data } = await res.json();
      assert.equal(typeof data.csrfToken, 'string');
      assert.ok(agent.cookie(server.url, 'kiln_session'), 'the session cookie is set');
      assert.equal(agent.cookie(server.url, 'kiln_oidc_flow'), undefined, 'the flow cookie is cleared');
      const me = await agent.fetch(`${server.url}/v1/auth/me`);
      assert.equal(me.status, 200);
      const account = (await me.json()).data;
      assert.equal(account.email, 'alice@example.com');
      assert.equal(account.name, 'Alice Example', 'filled from the name claim');
      assert.equal(account.verified, true, 'the provider verified the email');
    });

    test('the second login finds the same account through the linked identity; tokens mode answers a working pair', async () => {
      const [alice] = await usersWithEmail('alice@example.com');
      assert.ok(alice);
      const agent = new CookieAgent();
      const res = await agent.fetch(await throughProvider(agent, 'alice', '?mode=tokens'));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const { data } = await res.json();
      assert.deepEqual(Object.keys(data).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
      assert.equal(data.tokenType, 'Bearer');
      assert.equal(agent.cookie(server.url, 'kiln_session'), undefined, 'tokens mode starts no session');
      const me = await server.fetch('/v1/auth/me', { headers: { authorization: `Bearer ${data.accessToken}` } });
      assert.equal(me.status, 200);
      assert.equal((await me.json()).data.id, alice.id);
      const refreshed = await server.fetch('/v1/auth/refresh', { method: 'POST', json: { refreshToken: data.refreshToken } });
      assert.equal(refreshed.status, 200);
      assert.equal((await usersWithEmail('alice@example.com')).length, 1);
      // The identity stays linked after the email changes at the provider.
      provider.identities.set('alice', { email: 'alice@new.example.com', email_verified: true, name: 'Alice' });
      const again = new CookieAgent();
      await again.fetch(await throughProvider(again, 'alice'));
      assert.equal((await (await again.fetch(`${server.url}/v1/auth/me`)).json()).data.id, alice.id);
      provider.identities.set('alice', { email: 'alice@example.com', email_verified: true, name: 'Alice Example' });
    });

    test('session mode redirects to an allowed front end once signed in', async () => {
      const agent = new CookieAgent();
      const res = await agent.fetch(await throughProvider(agent, 'alice', `?redirect=${encodeURIComponent(`${FRONT_END}/welcome?x=1`)}`));
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), `${FRONT_END}/welcome?x=1`);
      assert.ok(agent.cookie(server.url, 'kiln_session'));
    });

    test('an account with the verified email is linked (the email compared in lower case)', async () => {
      const created = await server.fetch('/v1/users', { method: 'POST', json: { email: 'bob@example.com', name: 'Bob Before' } });
      assert.equal(created.status, 201);
      const bob = (await created.json()).data;
      const agent = new CookieAgent();
      assert.equal((await agent.fetch(await throughProvider(agent, 'bob'))).status, 200);
      const me = (await (await agent.fetch(`${server.url}/v1/auth/me`)).json()).data;
      assert.equal(me.id, bob.id);
      assert.equal(me.name, 'Bob Before', 'a linked account keeps its fields');
    });

    test('an unverified email links nothing and creates nothing: 403', async () => {
      await server.fetch('/v1/users', { method: 'POST', json: { email: 'carol@example.com', name: 'Carol' } });
      const agent = new CookieAgent();
      const body = await expectProblem(await agent.fetch(await throughProvider(agent, 'carol')), 403, 'KILN_AUTH_NO_ACCOUNT');
      assert.equal(body.detail, 'no account is linked to this test identity');
      assert.equal(agent.cookie(server.url, 'kiln_session'), undefined);
      assert.equal((await usersWithEmail('carol@example.com')).length, 1);
    });

    test('a provider that neither creates nor links answers 403 for an unknown identity', async () => {
      const agent = new CookieAgent();
      const body = await expectProblem(await agent.fetch(await throughProvider(agent, 'dave', '', 'strict')), 403, 'KILN_AUTH_NO_ACCOUNT');
      assert.equal(body.detail, 'no account is linked to this strict identity');
      assert.equal((await usersWithEmail('dave@example.com')).length, 0);
    });

    test('a new account needs the claims its required fields come from: 403 without them', async () => {
      const agent = new CookieAgent();
      const body = await expectProblem(await agent.fetch(await throughProvider(agent, 'dave')), 403, 'KILN_AUTH_NO_ACCOUNT');
      assert.equal(body.detail, 'test did not share "name", which a new account needs');
      assert.equal((await usersWithEmail('dave@example.com')).length, 0);
    });

    test('a disabled account does not sign in', async () => {
      provider.identities.set('erin', { email: 'erin@example.com', email_verified: true, name: 'Erin' });
      const first = new CookieAgent();
      assert.equal((await first.fetch(await throughProvider(first, 'erin'))).status, 200);
      await server.db.query(`UPDATE "users" SET "disabled" = true WHERE "email" = $1`, ['erin@example.com']);
      const agent = new CookieAgent();
      const body = await expectProblem(await agent.fetch(await throughProvider(agent, 'erin', '?mode=tokens')), 403, 'KILN_AUTH_ACCOUNT_DISABLED');
      assert.equal(body.detail, 'this account is disabled');
    });

    test('a tampered, missing or replayed state, or one from another browser, is refused', async () => {
      const stateInvalid = 'this sign-in is unknown, expired, already used or was started in another browser: start it again';
      const agent = new CookieAgent();
      const callback = new URL(await throughProvider(agent, 'alice'));
      const tampered = new URL(callback);
      tampered.searchParams.set('state', `${callback.searchParams.get('state')?.slice(0, -2)}xx`);
      assert.equal((await expectProblem(await agent.fetch(tampered.href), 400, 'KILN_AUTH_OIDC_STATE_INVALID')).detail, stateInvalid);
      const missing = new URL(callback);
      missing.searchParams.delete('state');
      await expectProblem(await agent.fetch(missing.href), 400, 'KILN_AUTH_OIDC_STATE_INVALID');

      const other = new CookieAgent();
      const foreign = await throughProvider(other, 'alice');
      await expectProblem(await agent.fetch(foreign), 400, 'KILN_AUTH_OIDC_STATE_INVALID'); // login CSRF: not this browser's sign-in

      const once = new CookieAgent();
      const url = await throughProvider(once, 'alice');
      const cookie = once.cookie(server.url, 'kiln_oidc_flow');
      assert.equal((await once.fetch(url)).status, 200);
      const replay = await fetch(url, { headers: { cookie: `kiln_oidc_flow=${cookie}` }, redirect: 'manual' });
      await expectProblem(replay, 400, 'KILN_AUTH_OIDC_STATE_INVALID');
    });

    test('a code issued with another nonce is refused (the ID token must carry the flow’s nonce)', async () => {
      const agent = new CookieAgent();
      provider.signInAs = 'alice';
      const start = await agent.fetch(`${server.url}/v1/auth/oidc/test`);
      const authorization = new URL(start.headers.get('location') as string);
      const state = authorization.searchParams.get('state') as string;
      // A second authorization for the same PKCE challenge but another nonce, as an attacker holding a code would have.
      const forged = new URL(authorization);
      forged.searchParams.set('nonce', 'another-nonce');
      forged.searchParams.set('state', 'another-state');
      const forgedCallback = new URL(await agent.followUntil(forged.href, callbackBase));
      forgedCallback.searchParams.set('state', state);
      const body = await expectProblem(await agent.fetch(forgedCallback.href), 401, 'KILN_AUTH_OIDC_FAILED');
      assert.equal(body.detail, 'the answer of test could not be verified (state, nonce, issuer, audience or expiry of the ID token)');
      assert.equal(agent.cookie(server.url, 'kiln_session'), undefined);
    });

    test('a code from another flow is refused (PKCE), and so is a provider error', async () => {
      const agent = new CookieAgent();
      const first = new URL(await throughProvider(agent, 'alice'));
      const second = new URL(await throughProvider(agent, 'alice'));
      second.searchParams.set('code', first.searchParams.get('code') as string);
      const swapped = await expectProblem(await agent.fetch(second.href), 401, 'KILN_AUTH_OIDC_FAILED');
      assert.equal(swapped.detail, 'test refused the authorization code (invalid_grant)');

      provider.signInAs = 'alice';
      const start = await agent.fetch(`${server.url}/v1/auth/oidc/test`);
      const state = new URL(start.headers.get('location') as string).searchParams.get('state') as string;
      const denied = new URL(callbackBase);
      denied.search = new URLSearchParams({ error: 'access_denied', error_description: 'secret <b>html</b>', state, iss: provider.issuer }).toString();
      const body = await expectProblem(await agent.fetch(denied.href), 401, 'KILN_AUTH_OIDC_FAILED');
      assert.equal(body.detail, 'test refused the sign-in (access_denied)');
    });

    test('redirects off the allowed origins, redirects in tokens mode and unknown modes are refused', async () => {
      for (const target of [
        'https://evil.example/',
        'http://app.example.com.evil.example/',
        '//evil.example/',
        'javascript:alert(1)',
        'http://user@app.example.com/',
      ]) {
        const body = await expectProblem(
          await server.fetch(`/v1/auth/oidc/test?redirect=${encodeURIComponent(target)}`),
          400,
          'KILN_AUTH_REDIRECT_NOT_ALLOWED',
        );
        assert.equal(body.detail, 'redirect must be a URL on an origin of KILN_CORS_ORIGINS or of KILN_AUTH_LINK_BASE');
      }
      const tokens = await expectProblem(
        await server.fetch(`/v1/auth/oidc/test?mode=tokens&redirect=${encodeURIComponent(FRONT_END)}`),
        400,
        'KILN_QUERY_INVALID',
      );
      assert.equal(tokens.detail, 'query parameter "redirect": is only for mode=session: tokens are answered as JSON, never put in a URL');
      const mode = await expectProblem(await server.fetch('/v1/auth/oidc/test?mode=cookies'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(mode.errors, [{ path: 'mode', code: 'invalid', message: 'must be "session" or "tokens"' }]);
      await expectProblem(await server.fetch('/v1/auth/oidc/unknown'), 404, 'KILN_ROUTE_NOT_FOUND');
    });

    test('an unreachable provider did not stop the start: its logins answer 503 until it answers', async () => {
      const res = await server.fetch('/v1/auth/oidc/down', { redirect: 'manual' });
      const body = await expectProblem(res, 503, 'KILN_AUTH_OIDC_UNAVAILABLE');
      assert.equal(body.detail, 'the identity provider down cannot be reached; try again later');
      assert.equal(res.headers.get('retry-after'), '5');
      const warning = server.logs.find((l) => l.provider === 'down' && l.msg === 'identity provider discovery failed; retrying on the next login');
      assert.match(String((warning?.err as { message?: unknown } | undefined)?.message), /ECONNREFUSED/, 'the operator learns the cause');
      const late = await startTestProvider(callbacksOf(Number(new URL(server.url).port)), downPort);
      try {
        const retried = await server.fetch('/v1/auth/oidc/down', { redirect: 'manual' });
        assert.equal(retried.status, 302);
        assert.ok(retried.headers.get('location')?.startsWith(`${late.issuer}/auth?`));
      } finally {
        await late.close();
      }
    });

    test('no secret, code or token reaches the log', () => {
      const log = JSON.stringify(server.logs);
      assert.doesNotMatch(log, /code=|state=|nonce=|access_token|refreshToken|kiln_oidc_flow=|kiln_session=/);
      assert.ok(!log.includes(KILN_CLIENT_SECRET));
    });

    test('the routes are in the OpenAPI document', async () => {
      const { paths } = await (await server.fetch('/openapi.json')).json();
      assert.ok(paths['/v1/auth/oidc/test']?.get);
      assert.ok(paths['/v1/auth/oidc/test/callback']?.get);
      assert.ok(paths['/v1/auth/oidc/strict']?.get);
      assert.ok(paths['/v1/auth/oidc/down/callback']?.get);
    });
  });
}

// Stores accounts, but one backend shows the rule: the quicker one to start.
describe('identity providers when accounts must be verified', () => {
  let provider: TestProvider;
  let server: TestServer;

  before(async () => {
    const port = await freePort();
    provider = await startTestProvider(callbacksOf(port));
    provider.identities.set('frank', { email: 'frank@example.com', email_verified: false, name: 'Frank' });
    const verifiedOnly = compileOrThrow('verified accounts only', {
      ...(await blogDeclaration()),
      auth: {
        accounts: { resource: 'users', login: 'email', verification: 'required' },
        oidc: { test: { issuer: provider.issuer, clientId: KILN_CLIENT_ID } },
      },
    });
    server = await startKilnFor(verifiedOnly, BACKENDS.includes('postgres') ? 'postgres' : 'pglite', port);
  });
  after(async () => {
    await server?.close();
    await provider?.close();
  });

  test('an email the provider did not verify does not sign in; one it verified does', async () => {
    const agent = new CookieAgent();
    provider.signInAs = 'frank';
    const start = await agent.fetch(`${server.url}/v1/auth/oidc/test`);
    const callback = await agent.followUntil(start.headers.get('location') as string, `${server.url}/v1/auth/oidc/test/callback`);
    const body = await expectProblem(await agent.fetch(callback), 403, 'KILN_AUTH_NOT_VERIFIED');
    assert.equal(body.detail, 'verify the email address of this account before signing in');
    provider.signInAs = 'alice';
    const other = new CookieAgent(); // the provider remembers who signed in through a browser
    const again = await other.fetch(`${server.url}/v1/auth/oidc/test`);
    const verified = await other.followUntil(again.headers.get('location') as string, `${server.url}/v1/auth/oidc/test/callback`);
    const signedIn = await other.fetch(verified);
    assert.equal(signedIn.status, 200, await signedIn.text());
  });
});

/** The error that refused the start of `model` (on PostgreSQL when available: a schema is quicker to make than an embedded database). */
async function startRefusal(model: Model): Promise<unknown> {
  const database = await createTestDatabase(BACKENDS.includes('postgres') ? 'postgres' : 'pglite');
  const settings = {
    ...resolveSettings({}),
    host: '127.0.0.1',
    port: 0,
    authJwtSecret: TEST_JWT_SECRET,
    dbSchema: database.schema,
    publicUrl: 'http://127.0.0.1:1',
  };
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  try {
    const kiln = await startKiln({ model, settings: { ...settings, ...FAST_HASHING }, db: database.db, logStream: quiet });
    await kiln.close({ keepDatabase: true });
  } catch (error) {
    return error;
  } finally {
    await database.dispose();
  }
  assert.fail('the start should have been refused');
}

describe('identity providers at start-up', () => {
  test('a provider without its client secret stops the start', async () => {
    const model = compileOrThrow('one provider', {
      auth: { accounts: { resource: 'users' }, oidc: { 'no-secret': { issuer: 'http://127.0.0.1:9', clientId: 'kiln' } } },
      resources: { users: { fields: { email: { type: 'string', format: 'email', unique: true } } } },
    });
    const error = await startRefusal(model);
    assert.ok(error instanceof StartupError);
    assert.equal(
      error.message,
      'the identity provider no-secret needs its client secret: set KILN_OIDC_NO_SECRET_CLIENT_SECRET to the secret the provider issued for kiln',
    );
  });

  test('creating accounts with a required field no claim fills stops the start', async () => {
    const model = compileOrThrow('a required team', {
      auth: { accounts: { resource: 'users' }, oidc: { test: { issuer: 'http://127.0.0.1:9', clientId: 'kiln' } } },
      resources: {
        users: { fields: { email: { type: 'string', format: 'email', unique: true }, team: { type: 'string' }, nickname: { type: 'string' } } },
      },
    });
    const error = await startRefusal(model);
    assert.ok(error instanceof StartupError);
    assert.equal(
      error.message,
      'auth.oidc.test creates accounts, but users requires team, which no OpenID claim fills: give it a default or make it nullable, or set createAccounts: false',
    );
  });
});
