/**
 * API keys over HTTP, on the blog (seeded: Ada is an admin, Alan has no role; both sign in with the
 * demo password): created by a signed-in account, shown once, used as a bearer token or in their own
 * header, listed without secrets, revoked, expired, stopped by a disabled account, narrowed to the
 * roles the account still holds, and unable to create more keys.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defineRoute } from '../../src/extensions/define.js';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestResponse, type TestServer } from '../helpers/server.js';
import { bearer, expectExactProblem, FAST_HASHING, login, tokensOf } from './accounts-helpers.js';

const DEMO_PASSWORD = 'kiln-demo-password';
const KEY = /^kiln_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/;
const INVALID_KEY = 'the API key is not valid: it is unknown, revoked or expired, or its account is disabled';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const SIGN_IN_NEEDED = 'this route needs a signed-in caller: send Authorization: Bearer <access token>, an API key or the session cookie';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Who the caller is, as the operations see it. */
const whoami = defineRoute({
  method: 'GET',
  path: '/whoami',
  response: {
    type: 'object',
    properties: { kind: { type: 'string' }, id: { type: ['string', 'null'] }, roles: { type: 'array', items: { type: 'string' } } },
  },
  handler: ({ ctx }) => ({ kind: ctx.principal.kind, id: ctx.principal.id === null ? null : String(ctx.principal.id), roles: ctx.principal.roles }),
});

/** The two ways to send a key. */
const keyHeaders = (key: string): Record<string, string>[] => [{ authorization: `Bearer ${key}` }, { 'x-api-key': key }];

async function json(res: TestResponse, status: number): Promise<any> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return text === '' ? undefined : JSON.parse(text);
}

for (const backend of BACKENDS) {
  describe(`API keys (${backend})`, () => {
    let server: TestServer;
    let ada: string;
    let alan: string;

    const createKey = (token: string, body: unknown) => server.fetch('/v1/auth/api-keys', { method: 'POST', headers: bearer(token), json: body });
    const whoamiWith = (headers: Record<string, string>) => server.fetch('/v1/whoami', { headers });
    const setAccount = (id: number, column: 'roles' | 'disabled', value: unknown) =>
      server.db.query(`UPDATE "users" SET "${column}" = $2 WHERE "id" = $1`, [id, column === 'roles' ? JSON.stringify(value) : value]);

    before(async () => {
      server = await startTestServer(await blogModel(), backend, FAST_HASHING, BLOG_SEED_PATH, { routes: [whoami] });
      ada = (await tokensOf(await login(server, 'ada@example.com', DEMO_PASSWORD))).accessToken;
      alan = (await tokensOf(await login(server, 'alan@example.com', DEMO_PASSWORD))).accessToken;
    });
    after(() => server.close());

    test('a signed-in account creates a key, shown once, that acts as it as a bearer token and in X-API-Key', async () => {
      const res = await createKey(ada, { name: 'deploy bot' });
      const { data } = await json(res, 201);
      assert.deepEqual(Object.keys(data).sort(), ['createdAt', 'expiresAt', 'id', 'key', 'name', 'roles']);
      assert.match(data.id, UUID);
      assert.match(data.key, KEY);
      assert.match(data.createdAt, ISO);
      assert.deepEqual({ name: data.name, roles: data.roles, expiresAt: data.expiresAt }, { name: 'deploy bot', roles: ['admin'], expiresAt: null });
      const expected = { kind: 'apiKey', id: '1', roles: ['authenticated', 'admin'] };
      assert.deepEqual(await json(await whoamiWith({ authorization: `Bearer ${data.key}` }), 200), expected);
      assert.deepEqual(await json(await whoamiWith({ 'x-api-key': data.key }), 200), expected);
      // Stored as a hash only: the secret is nowhere in the table, nor in the logs.
      const [row] = await server.db.query<Record<string, unknown>>('SELECT * FROM "kiln_auth_api_keys" WHERE "id" = $1', [data.id]);
      const secret = (data.key as string).slice(18);
      assert.doesNotMatch(JSON.stringify(row), new RegExp(secret.replace(/[-_]/g, '.')));
      assert.equal(JSON.stringify(server.logs).includes(secret), false);
    });

    test('the list shows the caller’s keys without their secrets, with the last use to the minute', async () => {
      const { data: created } = await json(await createKey(alan, { name: 'alan laptop', expiresInDays: 30 }), 201);
      const expires = Date.parse(created.expiresAt) - Date.now();
      assert.ok(Math.abs(expires - 30 * 86_400_000) < 60_000, `expires in 30 days, not ${expires} ms`);
      const listed = async () => (await json(await server.fetch('/v1/auth/api-keys', { headers: bearer(alan) }), 200)).data;
      const before = await listed();
      assert.deepEqual(before, [
        { id: created.id, name: 'alan laptop', roles: [], createdAt: created.createdAt, expiresAt: created.expiresAt, lastUsedAt: null },
      ]);
      assert.equal(JSON.stringify(before).includes(created.key), false);
      await json(await whoamiWith({ authorization: `Bearer ${created.key}` }), 200);
      const [used] = await listed();
      assert.match(used.lastUsedAt, ISO);
      // Within the minute, another use writes nothing.
      await json(await whoamiWith({ authorization: `Bearer ${created.key}` }), 200);
      assert.equal((await listed())[0].lastUsedAt, used.lastUsedAt);
      // Another account's keys are not listed; a key lists the keys of its own account.
      const adaKeys = (await json(await server.fetch('/v1/auth/api-keys', { headers: bearer(ada) }), 200)).data;
      assert.equal(
        adaKeys.some((k: { id: string }) => k.id === created.id),
        false,
      );
      assert.deepEqual(await json(await server.fetch('/v1/auth/api-keys', { headers: { 'x-api-key': created.key } }), 200), { data: [used] });
    });

    test('an account holds at most 100 keys that are not revoked: the next is 409 until one is revoked', async () => {
      const grace = (await tokensOf(await login(server, 'grace@example.com', DEMO_PASSWORD))).accessToken;
      const [grace0] = await server.db.query<{ id: string }>(`SELECT "id"::text AS "id" FROM "users" WHERE "email" = 'grace@example.com'`);
      const graceId = grace0?.id;
      await server.db.query(
        `INSERT INTO "kiln_auth_api_keys" ("id", "lookup", "secret_hash", "name", "account_id")
         SELECT gen_random_uuid(), 'limit' || n, 'x', 'filler', $1 FROM generate_series(1, 100) AS n`,
        [graceId],
      );
      await expectExactProblem(
        await createKey(grace, { name: 'one too many' }),
        409,
        'KILN_AUTH_KEY_LIMIT',
        'an account holds at most 100 API keys that are not revoked; revoke unused ones first',
      );
      const listed = (await json(await server.fetch('/v1/auth/api-keys', { headers: bearer(grace) }), 200)).data;
      assert.equal(listed.length, 100);
      assert.equal((await server.fetch(`/v1/auth/api-keys/${listed[0].id}`, { method: 'DELETE', headers: bearer(grace) })).status, 204);
      await json(await createKey(grace, { name: 'room again' }), 201);
    });

    test('a revoked key stops working at once; revoking it again, or another account’s key, is 404', async () => {
      const { data: key } = await json(await createKey(ada, { name: 'to revoke' }), 201);
      const { data: alanKey } = await json(await createKey(alan, { name: 'not yours' }), 201);
      await expectExactProblem(
        await server.fetch(`/v1/auth/api-keys/${alanKey.id}`, { method: 'DELETE', headers: bearer(ada) }),
        404,
        'KILN_NOT_FOUND',
        `you have no API key ${alanKey.id} (or it is revoked already)`,
      );
      await json(await whoamiWith({ authorization: `Bearer ${alanKey.key}` }), 200);
      assert.equal((await server.fetch(`/v1/auth/api-keys/${key.id}`, { method: 'DELETE', headers: bearer(ada) })).status, 204);
      const refused = await whoamiWith({ authorization: `Bearer ${key.key}` });
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="kiln", error="invalid_token"');
      await expectExactProblem(refused, 401, 'KILN_UNAUTHENTICATED', INVALID_KEY);
      await expectExactProblem(await whoamiWith({ 'x-api-key': key.key }), 401, 'KILN_UNAUTHENTICATED', INVALID_KEY);
      await expectExactProblem(
        await server.fetch(`/v1/auth/api-keys/${key.id}`, { method: 'DELETE', headers: bearer(ada) }),
        404,
        'KILN_NOT_FOUND',
        `you have no API key ${key.id} (or it is revoked already)`,
      );
      await expectExactProblem(
        await server.fetch('/v1/auth/api-keys/not-a-uuid', { method: 'DELETE', headers: bearer(ada) }),
        400,
        'KILN_PATH_INVALID',
        'path parameter "id": must be a uuid',
        [{ path: 'id', code: 'format', message: 'must be a uuid' }],
      );
      const revokedLater = (await json(await server.fetch('/v1/auth/api-keys', { headers: bearer(ada) }), 200)).data;
      assert.equal(
        revokedLater.some((k: { id: string }) => k.id === key.id),
        false,
      );
    });

    test('an expired key, an unknown one, a wrong secret and a malformed kiln_ token get the same 401', async () => {
      const { data: key } = await json(await createKey(ada, { name: 'short-lived', expiresInDays: 1 }), 201);
      await json(await whoamiWith({ authorization: `Bearer ${key.key}` }), 200);
      await server.db.query(`UPDATE "kiln_auth_api_keys" SET "expires_at" = now() - interval '1 second' WHERE "id" = $1`, [key.id]);
      const wrongSecret = `${(key.key as string).slice(0, 18)}${'A'.repeat(43)}`;
      const unknown = `kiln_${'a'.repeat(12)}_${'B'.repeat(43)}`;
      for (const credential of [key.key, wrongSecret, unknown, 'kiln_short']) {
        for (const headers of keyHeaders(credential)) {
          const res = await whoamiWith(headers);
          assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln", error="invalid_token"');
          await expectExactProblem(res, 401, 'KILN_UNAUTHENTICATED', INVALID_KEY);
        }
      }
      // The header carries keys only: anything else in it is refused, not ignored.
      await expectExactProblem(await whoamiWith({ 'x-api-key': 'not a key' }), 401, 'KILN_UNAUTHENTICATED', INVALID_KEY);
    });

    test('a disabled account’s keys stop working at once, and work again when it is enabled', async () => {
      const { data: key } = await json(await createKey(alan, { name: 'ci' }), 201);
      await setAccount(2, 'disabled', true);
      try {
        await expectExactProblem(await whoamiWith({ authorization: `Bearer ${key.key}` }), 401, 'KILN_UNAUTHENTICATED', INVALID_KEY);
        await expectExactProblem(await whoamiWith({ 'x-api-key': key.key }), 401, 'KILN_UNAUTHENTICATED', INVALID_KEY);
        // Its access token still verifies until it expires, but it cannot mint a key that would outlive it.
        await expectExactProblem(await createKey(alan, { name: 'escape' }), 403, 'KILN_FORBIDDEN', 'this account is disabled or no longer exists');
      } finally {
        await setAccount(2, 'disabled', false);
      }
      assert.deepEqual(await json(await whoamiWith({ 'x-api-key': key.key }), 200), { kind: 'apiKey', id: '2', roles: ['authenticated'] });
    });

    test('a key carries only roles its account holds, when created and whenever used', async () => {
      await setAccount(1, 'roles', ['admin', 'editor']);
      try {
        const { data: key } = await json(await createKey(ada, { name: 'editor only', roles: ['editor'] }), 201);
        assert.deepEqual(key.roles, ['editor']);
        assert.deepEqual((await json(await whoamiWith({ 'x-api-key': key.key }), 200)).roles, ['authenticated', 'editor']);
        await expectExactProblem(
          await createKey(ada, { name: 'too much', roles: ['editor', 'owner', 'root'] }),
          403,
          'KILN_FORBIDDEN',
          'an API key may carry only roles your account holds; it does not hold "owner", "root"',
        );
        // Taking the role from the account takes it from its keys at once.
        await setAccount(1, 'roles', ['admin']);
        assert.deepEqual((await json(await whoamiWith({ 'x-api-key': key.key }), 200)).roles, ['authenticated']);
        const { data: none } = await json(await createKey(ada, { name: 'no roles', roles: [] }), 201);
        assert.deepEqual(none.roles, []);
      } finally {
        await setAccount(1, 'roles', ['admin']);
      }
    });

    test('a key cannot create keys; an anonymous caller is 401; a bad body is 400', async () => {
      const { data: key } = await json(await createKey(ada, { name: 'no minting' }), 201);
      for (const headers of keyHeaders(key.key)) {
        await expectExactProblem(
          await server.fetch('/v1/auth/api-keys', { method: 'POST', headers, json: { name: 'child' } }),
          403,
          'KILN_FORBIDDEN',
          'an API key cannot create API keys: sign in as the account (access token or session) to create one',
        );
      }
      const anonymous = await server.fetch('/v1/auth/api-keys', { method: 'POST', json: { name: 'x' } });
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="kiln"');
      await expectExactProblem(anonymous, 401, 'KILN_UNAUTHENTICATED', SIGN_IN_NEEDED);
      await expectExactProblem(await server.fetch('/v1/auth/api-keys'), 401, 'KILN_UNAUTHENTICATED', SIGN_IN_NEEDED);
      await expectExactProblem(
        await createKey(ada, { name: '', roles: ['Admin'], expiresInDays: 0, extra: 1 }),
        400,
        'KILN_VALIDATION_FAILED',
        '4 problems in the request body',
        [
          { path: '/extra', code: 'unknown', message: '"extra" is not accepted here' },
          { path: '/name', code: 'minLength', message: 'must have at least 1 character' },
          { path: '/roles/0', code: 'pattern', message: 'must match the pattern ^[a-z][a-z0-9_-]{0,62}$' },
          { path: '/expiresInDays', code: 'minimum', message: 'must be at least 1' },
        ],
      );
    });
  });
}

// One backend is enough for a header name; PostgreSQL starts faster than a fresh PGlite.
const HEADER_BACKEND = BACKENDS.includes('postgres') ? 'postgres' : 'pglite';

describe(`API keys in a header of the operator’s choice (${HEADER_BACKEND})`, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(await blogModel(), HEADER_BACKEND, { ...FAST_HASHING, authApiKeyHeader: 'X-Service-Key' }, BLOG_SEED_PATH, {
      routes: [whoami],
      // A machine caller that is no account (as an external identity provider's token may be).
      authenticators: [({ headers }) => (headers['x-test-service'] ? { kind: 'service', id: 'robot', roles: ['service'] } : undefined)],
    });
  });
  after(() => server.close());

  test('KILN_AUTH_API_KEY_HEADER names the header; x-api-key is then nothing special', async () => {
    const token = (await tokensOf(await login(server, 'ada@example.com', DEMO_PASSWORD))).accessToken;
    const { data } = await json(await server.fetch('/v1/auth/api-keys', { method: 'POST', headers: bearer(token), json: { name: 'svc' } }), 201);
    assert.deepEqual(await json(await server.fetch('/v1/whoami', { headers: { 'x-service-key': data.key } }), 200), {
      kind: 'apiKey',
      id: '1',
      roles: ['authenticated', 'admin'],
    });
    assert.deepEqual(await json(await server.fetch('/v1/whoami', { headers: { 'x-api-key': data.key } }), 200), {
      kind: 'anonymous',
      id: null,
      roles: ['anonymous'],
    });
  });
  test('a caller that is no account has no keys and cannot create one', async () => {
    const headers = { 'x-test-service': '1' };
    await expectExactProblem(
      await server.fetch('/v1/auth/api-keys', { method: 'POST', headers, json: { name: 'robot' } }),
      403,
      'KILN_FORBIDDEN',
      'only a signed-in account can create API keys',
    );
    await expectExactProblem(await server.fetch('/v1/auth/api-keys', { headers }), 403, 'KILN_FORBIDDEN', 'only an account has API keys');
  });
});
