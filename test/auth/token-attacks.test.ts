/**
 * The access token attack suite, black-box over HTTP: forged, tampered, mis-addressed and
 * out-of-date tokens on a generated route and on an `authenticated` custom route. Every refusal is the
 * same 401 (one problem body, `WWW-Authenticate: Bearer … invalid_token`), no URL a token names is
 * ever fetched, and no token reaches the log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportSPKI } from 'jose';
import { blogModel } from '../helpers/blog.js';
import {
  accessClaims,
  b64url,
  type Claims,
  type GeneratedKey,
  generateKey,
  type Header,
  signHs256,
  signWith,
  withPayload,
  writeKeySet,
} from '../helpers/jwt-forge.js';
import { BACKENDS, startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/server.js';
import { WHOAMI } from '../helpers/whoami.js';

const ISSUER = 'https://kiln.test';
const AUDIENCE = 'kiln-test-api';
const SKEW_S = 30;
const SETTINGS = { authIssuer: ISSUER, authAudience: AUDIENCE, authClockSkewS: SKEW_S, passwordMemoryKib: 8192, passwordTimeCost: 1 };
const TYP = { typ: 'at+jwt' };
const HS256 = { alg: 'HS256', ...TYP };
const REFUSED = {
  type: 'https://kiln.dev/errors/KILN_UNAUTHENTICATED',
  title: 'Authentication required',
  status: 401,
  code: 'KILN_UNAUTHENTICATED',
  detail: 'the access token is invalid or expired; refresh it or sign in again',
};
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="kiln", error="invalid_token"';

const now = () => Math.floor(Date.now() / 1000);
const claims = (overrides: Claims = {}) => accessClaims(ISSUER, AUDIENCE, overrides);
const hs = (header: Header, overrides: Claims = {}) => signHs256(TEST_JWT_SECRET, header, claims(overrides));

/** Sends a token to both kinds of route; remembers it, so the log can be searched for it at the end. */
class TokenProbe {
  readonly sent: string[] = [];
  constructor(readonly server: TestServer) {}

  async #get(path: string, token: string) {
    this.sent.push(token);
    return this.server.fetch(path, { headers: { authorization: `Bearer ${token}` } });
  }

  async accepted(token: string, label: string): Promise<void> {
    const list = await this.#get('/v1/posts', token);
    const text = await list.text();
    assert.equal(list.status, 200, `${label}: ${text}`);
    const me = await this.#get('/v1/whoami', token);
    assert.equal(me.status, 200, label);
    assert.deepEqual(await me.json(), { kind: 'account', id: '1', roles: ['authenticated'] }, label);
  }

  async refused(token: string, label: string): Promise<void> {
    for (const path of ['/v1/posts', '/v1/whoami']) {
      const res = await this.#get(path, token);
      const text = await res.text();
      assert.equal(res.status, 401, `${label} on ${path} was not refused: ${text}`);
      assert.equal(res.headers.get('www-authenticate'), INVALID_TOKEN_CHALLENGE, label);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
      const { instance, ...body } = JSON.parse(text);
      assert.equal(instance, res.headers.get('x-request-id'), label);
      assert.deepEqual(body, REFUSED, `${label} on ${path}`);
    }
  }

  /** No log line holds a token sent, nor its signature alone; and every request was logged (so the search means something). */
  async assertLogClean(): Promise<void> {
    const requests = () => this.server.logs.filter((l) => l.msg === 'request').length;
    for (let i = 0; i < 100 && requests() < this.sent.length; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(requests() >= this.sent.length, 'every request was logged');
    const log = JSON.stringify(this.server.logs);
    for (const token of this.sent) {
      const signature = token.split('.')[2];
      assert.equal(log.includes(token), false, 'a token leaked into the log');
      if (signature && signature.length > 16) assert.equal(log.includes(signature), false, 'a token signature leaked into the log');
    }
  }
}

for (const backend of BACKENDS) {
  describe(`access token attacks, HS256 (${backend})`, () => {
    let server: TestServer;
    let probe: TokenProbe;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, SETTINGS, undefined, { routes: [WHOAMI] });
      probe = new TokenProbe(server);
    });
    after(() => server.close());

    test('a valid token is accepted, on a generated route and on an authenticated one', async () => {
      await probe.accepted(hs(HS256), 'valid');
      await probe.accepted(hs(HS256, { exp: now() - SKEW_S + 10 }), 'expired within the clock skew');
      await probe.accepted(hs(HS256, { nbf: now() + SKEW_S - 10 }), 'not yet valid within the clock skew');
      await probe.accepted(hs(HS256, { iat: now() + SKEW_S - 10 }), 'issued in the future within the clock skew');
    });

    test('alg none in every spelling, with and without a signature, is refused', async () => {
      const valid = hs(HS256);
      const signature = valid.split('.')[2];
      for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
        const unsigned = `${b64url({ alg, ...TYP })}.${b64url(claims())}`;
        await probe.refused(`${unsigned}.`, `alg ${alg}, no signature`);
        await probe.refused(`${unsigned}.${signature}`, `alg ${alg}, with a signature`);
      }
    });

    test('a stripped, altered or reused signature is refused', async () => {
      const valid = hs(HS256);
      const [header, payload, signature = ''] = valid.split('.');
      await probe.refused(`${header}.${payload}.`, 'stripped signature');
      await probe.refused(`${header}.${payload}`, 'signature part removed');
      const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
      await probe.refused(`${header}.${payload}.${flipped}`, 'altered signature');
      await probe.refused(withPayload(valid, claims({ roles: ['admin'] })), 'roles escalated under the original signature');
      await probe.refused(withPayload(valid, claims({ sub: '2' })), 'another subject under the original signature');
    });

    test('keys the token names are never used: kid injection, an embedded jwk, crit', async () => {
      for (const kid of ['../../dev/null', "' OR 1=1 --", 'default', '']) {
        await probe.refused(hs({ ...HS256, kid }), `kid ${JSON.stringify(kid)} with the real secret`);
        await probe.refused(signHs256(new Uint8Array(0), { ...HS256, kid }, claims()), `kid ${JSON.stringify(kid)} with an empty key`);
      }
      const attacker = await generateKey('ES256', 'attacker');
      await probe.refused(await signWith(attacker.privateKey, { alg: 'ES256', ...TYP, jwk: attacker.publicJwk }, claims()), 'embedded jwk');
      await probe.refused(hs({ ...HS256, crit: ['exp'], exp: 1 }), 'crit header');
      await probe.refused(hs({ ...HS256, b64: true, crit: ['b64'] }), 'crit b64');
    });

    test('out-of-date tokens are refused: expired, not yet valid, issued in the future (beyond the skew)', async () => {
      await probe.refused(hs(HS256, { exp: now() - SKEW_S - 60 }), 'expired');
      await probe.refused(hs(HS256, { nbf: now() + SKEW_S + 60 }), 'not yet valid');
      await probe.refused(hs(HS256, { iat: now() + SKEW_S + 60 }), 'issued in the future');
    });

    test('tokens for someone else, or missing what Kiln requires, are refused', async () => {
      await probe.refused(hs(HS256, { iss: 'https://evil.test' }), 'wrong issuer');
      await probe.refused(hs(HS256, { aud: 'another-api' }), 'wrong audience');
      await probe.refused(hs(HS256, { iss: undefined }), 'missing issuer');
      await probe.refused(hs(HS256, { aud: undefined }), 'missing audience');
      await probe.refused(hs({ alg: 'HS256' }), 'missing typ');
      await probe.refused(hs({ alg: 'HS256', typ: 'JWT' }), 'typ JWT');
      await probe.refused(hs(HS256, { sub: undefined }), 'missing sub');
      await probe.refused(hs(HS256, { sub: '' }), 'empty sub');
      await probe.refused(hs(HS256, { exp: undefined }), 'missing exp');
      await probe.refused(hs(HS256, { iat: undefined }), 'missing iat');
      await probe.refused('not-a-jwt', 'not a token at all');
    });

    test('a token over the length bound, or a malformed header, is refused with what is wrong', async () => {
      const long = await server.fetch('/v1/posts', { headers: { authorization: `Bearer ${'a'.repeat(8193)}` } });
      assert.equal(long.status, 401);
      assert.equal(long.headers.get('www-authenticate'), INVALID_TOKEN_CHALLENGE);
      const { instance: _i, ...body } = await long.json();
      assert.deepEqual(body, { ...REFUSED, detail: 'the bearer token is longer than 8192 characters' });
      const basic = await server.fetch('/v1/whoami', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
      assert.equal(basic.status, 401);
      assert.equal(basic.headers.get('www-authenticate'), INVALID_TOKEN_CHALLENGE);
      const { instance: _j, ...basicBody } = await basic.json();
      assert.deepEqual(basicBody, { ...REFUSED, detail: 'the Authorization header must be "Bearer <token>"' });
    });

    test('no token sent reached the log', () => probe.assertLogClean());
  });
}

/** The key set suite runs once: on PostgreSQL when the run has it (a faster start than PGlite's). */
const KEY_SET_BACKEND = BACKENDS.includes('postgres') ? 'postgres' : 'pglite';

describe(`access token attacks, asymmetric key set (${KEY_SET_BACKEND})`, () => {
  let dir: string;
  let server: TestServer;
  let probe: TokenProbe;
  let signer: GeneratedKey;
  let rsa: GeneratedKey;
  let keyServer: Server;
  let keyServerUrl: string;
  const keyServerHits: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-token-attacks-'));
    [signer, rsa] = await Promise.all([generateKey('ES256', 'ec-1'), generateKey('RS256', 'rsa-1')]);
    const file = writeKeySet(dir, 'keys.json', [signer, rsa]);
    server = await startTestServer(await blogModel(), KEY_SET_BACKEND, { ...SETTINGS, authJwtKeys: file }, undefined, { routes: [WHOAMI] });
    probe = new TokenProbe(server);
    // The attacker's key server: a token naming it must never make Kiln call it.
    keyServer = createServer((req, res) => {
      keyServerHits.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [] }));
    });
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    keyServerUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`;
  });
  after(async () => {
    await server.close();
    await new Promise((resolve) => keyServer.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a token of any key of the set is accepted', async () => {
    await probe.accepted(await signWith(signer.privateKey, { alg: 'ES256', kid: 'ec-1', ...TYP }, claims()), 'ES256 key');
    await probe.accepted(await signWith(rsa.privateKey, { alg: 'RS256', kid: 'rsa-1', ...TYP }, claims()), 'RS256 key');
  });

  test('key confusion: HS256 signed with a public key of the set is refused', async () => {
    for (const key of [signer, rsa]) {
      const secrets = [await exportSPKI(key.publicKey), JSON.stringify(key.publicJwk), Buffer.from(String(key.publicJwk.x ?? key.publicJwk.n), 'base64url')];
      for (const secret of secrets) {
        await probe.refused(signHs256(secret, { alg: 'HS256', kid: key.kid, ...TYP }, claims()), `HS256 with the public key of ${key.kid}`);
        await probe.refused(signHs256(secret, HS256, claims()), `HS256 with the public key of ${key.kid}, no kid`);
      }
    }
  });

  test('the kid picks the key: another key of the set, an unknown or missing kid, an alg that is not the key’s', async () => {
    await probe.refused(await signWith(signer.privateKey, { alg: 'ES256', kid: 'rsa-1', ...TYP }, claims()), 'kid of another key');
    await probe.refused(await signWith(signer.privateKey, { alg: 'ES256', kid: 'ec-2', ...TYP }, claims()), 'unknown kid');
    await probe.refused(await signWith(signer.privateKey, { alg: 'ES256', ...TYP }, claims()), 'no kid');
    await probe.refused(await signWith(rsa.privateKey, { alg: 'RS256', kid: 'ec-1', ...TYP }, claims()), 'RS256 naming the ES256 key');
    for (const kid of ['../../dev/null', "' OR 1=1 --"]) {
      await probe.refused(await signWith(signer.privateKey, { alg: 'ES256', kid, ...TYP }, claims()), `kid ${kid}`);
    }
  });

  test('an embedded jwk, jku or x5u is never used, and the URLs are never fetched', async () => {
    const attacker = await generateKey('ES256', 'ec-1');
    const forged = (header: Header) => signWith(attacker.privateKey, { alg: 'ES256', ...TYP, ...header }, claims({ roles: ['admin'] }));
    await probe.refused(await forged({ kid: 'ec-1', jwk: attacker.publicJwk }), 'embedded jwk with the kid of the set');
    await probe.refused(await forged({ jwk: attacker.publicJwk }), 'embedded jwk');
    await probe.refused(await forged({ kid: 'attacker', jku: `${keyServerUrl}/jwks.json` }), 'jku');
    await probe.refused(await forged({ kid: 'ec-1', jku: `${keyServerUrl}/jwks.json` }), 'jku with the kid of the set');
    await probe.refused(await forged({ kid: 'attacker', x5u: `${keyServerUrl}/cert.pem` }), 'x5u');
    await probe.refused(await forged({ kid: 'ec-1', x5u: `${keyServerUrl}/cert.pem` }), 'x5u with the kid of the set');
    // Same header members on a token the set's own key signed: still refused, as Kiln never writes them.
    await probe.refused(
      await signWith(signer.privateKey, { alg: 'ES256', kid: 'ec-1', ...TYP, jku: `${keyServerUrl}/jwks.json` }, claims()),
      'jku, genuinely signed',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(keyServerHits, [], 'Kiln contacted the URL a token named');
  });

  test('no token sent reached the log', () => probe.assertLogClean());
});
