/**
 * /.well-known/jwks.json and key rotation: the endpoint shows exactly the public halves of the key
 * set (nothing with HS256), cacheable, and is in the OpenAPI document; a set [k2, k1] signs with k2
 * and still accepts k1's tokens until k1 leaves the set; a doubtful key set stops the start with a
 * message naming the key and the fix.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import { AccessTokens } from '../../src/auth/jwt.js';
import { resolveSettings } from '../../src/config/settings.js';
import { StartupError } from '../../src/config/startup-error.js';
import { startKiln } from '../../src/start.js';
import { blogModel } from '../helpers/blog.js';
import { type GeneratedKey, generateKey, writeKeySet } from '../helpers/jwt-forge.js';
import { BACKENDS, createTestDatabase, startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/server.js';
import { WHOAMI } from '../helpers/whoami.js';

/** Servers start on PostgreSQL when the run has it (a faster start than PGlite's); what is tested does not touch the data. */
const BACKEND = BACKENDS.includes('postgres') ? 'postgres' : 'pglite';
const SETTINGS = { passwordMemoryKib: 8192, passwordTimeCost: 1 };
const REFUSED = {
  type: 'https://kiln.dev/errors/KILN_UNAUTHENTICATED',
  title: 'Authentication required',
  status: 401,
  code: 'KILN_UNAUTHENTICATED',
  detail: 'the access token is invalid or expired; refresh it or sign in again',
};
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-jwks-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const tokensOf = (authJwtKeys: string) => AccessTokens.fromSettings({ ...resolveSettings({}), authJwtKeys });
const publicMembers = (key: GeneratedKey) => {
  const { kty, crv, x, y, n, e } = key.publicJwk as Record<string, string | undefined>;
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e, kid: key.kid, alg: key.alg, use: 'sig' }).filter(([, v]) => v !== undefined));
};

async function whoamiStatus(server: TestServer, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await server.fetch('/v1/whoami', { headers: { authorization: `Bearer ${token}` } });
  const { instance: _instance, ...body } = await res.json();
  return { status: res.status, body };
}

describe(`JWKS and key rotation (${BACKEND})`, () => {
  test('with HS256 the set is empty, cacheable for 5 minutes, and in the OpenAPI document', async () => {
    const server = await startTestServer(await blogModel(), BACKEND, SETTINGS);
    try {
      const res = await server.fetch('/.well-known/jwks.json');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await res.json(), { keys: [] });
      const operation = (server.kiln.openapi.paths as Record<string, any>)['/.well-known/jwks.json']?.get;
      assert.equal(operation?.operationId, 'getJwks');
      assert.ok(operation?.responses?.[200]?.content?.['application/json']?.schema);
    } finally {
      await server.close();
    }
  });

  test('rotation: [k2, k1] signs with k2 and accepts k1 until k1 is removed; the set shows only public halves', async () => {
    const [k1, k2] = await Promise.all([generateKey('ES256', 'k1'), generateKey('EdDSA', 'k2')]);
    const onlyK1 = writeKeySet(dir, 'a.json', [k1]);
    const rotated = writeKeySet(dir, 'b.json', [k2, k1]);
    const k1Removed = writeKeySet(dir, 'c.json', [k2]);
    const account = { id: '7', roles: [] };
    const tokenOfA = (await (await tokensOf(onlyK1)).issue(account)).accessToken;
    const tokenOfB = (await (await tokensOf(rotated)).issue(account)).accessToken;
    assert.deepEqual(decodeProtectedHeader(tokenOfA), { alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
    assert.deepEqual(decodeProtectedHeader(tokenOfB), { alg: 'EdDSA', typ: 'at+jwt', kid: 'k2' }, 'the first key of the set signs');

    const b = await startTestServer(await blogModel(), BACKEND, { ...SETTINGS, authJwtKeys: rotated }, undefined, { routes: [WHOAMI] });
    try {
      assert.deepEqual(await whoamiStatus(b, tokenOfA), { status: 200, body: { kind: 'account', id: '7', roles: ['authenticated'] } }, 'k1 still verifies');
      assert.deepEqual(await whoamiStatus(b, tokenOfB), { status: 200, body: { kind: 'account', id: '7', roles: ['authenticated'] } });
      const res = await b.fetch('/.well-known/jwks.json');
      const text = await res.text();
      assert.deepEqual(JSON.parse(text), { keys: [publicMembers(k2), publicMembers(k1)] });
      for (const secret of [k1.jwk.d, k2.jwk.d]) assert.equal(text.includes(secret as string), false, 'a private member was published');
      // What another service does with the set: jose's remote key set (it sends Accept: application/json, application/jwk-set+json).
      const remote = createRemoteJWKSet(new URL(`${b.url}/.well-known/jwks.json`));
      for (const token of [tokenOfA, tokenOfB]) assert.equal((await jwtVerify(token, remote, { typ: 'at+jwt' })).payload.sub, '7');
    } finally {
      await b.close();
    }

    const c = await startTestServer(await blogModel(), BACKEND, { ...SETTINGS, authJwtKeys: k1Removed }, undefined, { routes: [WHOAMI] });
    try {
      assert.deepEqual(await whoamiStatus(c, tokenOfA), { status: 401, body: REFUSED }, 'k1 no longer verifies');
      assert.deepEqual(await whoamiStatus(c, tokenOfB), { status: 200, body: { kind: 'account', id: '7', roles: ['authenticated'] } });
      assert.deepEqual(await (await c.fetch('/.well-known/jwks.json')).json(), { keys: [publicMembers(k2)] });
    } finally {
      await c.close();
    }
  });

  test('an RSA key publishes n and e only (never d, p, q, dp, dq, qi)', async () => {
    const rsa = await generateKey('RS256', 'r1');
    const file = writeKeySet(dir, 'rsa.json', [rsa]);
    const [published] = (await tokensOf(file)).jwks().keys;
    assert.deepEqual(published, publicMembers(rsa));
    assert.deepEqual(Object.keys(published ?? {}).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  test('a key set with a problem stops the start with what to fix', async () => {
    const [ec, other] = await Promise.all([generateKey('ES256', 'ec'), generateKey('ES256', 'other')]);
    const { kid: _kid, ...noKid } = ec.jwk;
    const weakRsa = { ...(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' }) as JWK), kid: 'weak', alg: 'RS256' };
    const write = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const cases: [string, string, string][] = [
      [
        'missing',
        join(dir, 'missing.json'),
        `KILN_AUTH_JWT_KEYS: cannot read ${join(dir, 'missing.json')}: ENOENT: no such file or directory, open '${join(dir, 'missing.json')}'`,
      ],
      [
        'not JSON',
        write('garbage.json', '{"keys":[{"kty":"EC","d":"c2VjcmV0LWtleS1tYXRlcmlhbA"'),
        `KILN_AUTH_JWT_KEYS: ${join(dir, 'garbage.json')} is not valid JSON (a JSON Web Key Set: { "keys": [ … ] })`,
      ],
      [
        'empty set',
        write('empty.json', '{"keys":[]}'),
        `KILN_AUTH_JWT_KEYS: ${join(dir, 'empty.json')} must be a JSON Web Key Set with at least one key: { "keys": [ … ] } (make one with \`kiln auth keygen\`)`,
      ],
      [
        'no kid',
        writeKeySet(dir, 'nokid.json', [noKid]),
        'KILN_AUTH_JWT_KEYS: key 0 has no "kid": give every key an id, so tokens name the key that signed them',
      ],
      [
        'symmetric',
        writeKeySet(dir, 'oct.json', [{ kty: 'oct', k: Buffer.from(TEST_JWT_SECRET).toString('base64url'), kid: 's', alg: 'HS256' }]),
        'KILN_AUTH_JWT_KEYS: key 0 (s): "alg" must be one of RS256, ES256, EdDSA, not "HS256" (a shared secret belongs in KILN_AUTH_JWT_SECRET, never in a published key set)',
      ],
      [
        'public only',
        writeKeySet(dir, 'public.json', [ec.publicJwk]),
        'KILN_AUTH_JWT_KEYS: key 0 (ec) is a public key: the set holds private keys (the public halves are published from them)',
      ],
      ['duplicate kid', writeKeySet(dir, 'twice.json', [ec, { ...other.jwk, kid: 'ec' }]), 'KILN_AUTH_JWT_KEYS: key 1: the kid ec is used twice'],
      [
        'halves of two keys',
        writeKeySet(dir, 'mixed.json', [{ ...ec.jwk, x: other.jwk.x, y: other.jwk.y }]),
        'KILN_AUTH_JWT_KEYS: key 0 (ec) is not a valid ES256 private key: Invalid keyData',
      ],
      [
        'RSA under 2048 bits',
        writeKeySet(dir, 'weak.json', [weakRsa]),
        'KILN_AUTH_JWT_KEYS: key 0 (weak) cannot sign: RS256 requires key modulusLength to be 2048 bits or larger',
      ],
    ];
    for (const [label, file, message] of cases) {
      await assert.rejects(tokensOf(file), (error: unknown) => {
        assert.ok(error instanceof StartupError, label);
        assert.equal(error.message, message, label);
        return true;
      });
    }
  });

  test('the server does not start on such a set', async () => {
    const test = await createTestDatabase(BACKEND);
    try {
      const settings = { ...resolveSettings({}), host: '127.0.0.1', port: 0, dbSchema: test.schema, ...SETTINGS, authJwtKeys: join(dir, 'missing.json') };
      await assert.rejects(startKiln({ model: await blogModel(), settings, db: test.db, logStream: process.stderr }), {
        name: 'StartupError',
        message: `KILN_AUTH_JWT_KEYS: cannot read ${settings.authJwtKeys}: ENOENT: no such file or directory, open '${settings.authJwtKeys}'`,
      });
    } finally {
      await test.dispose();
    }
  });
});
