/**
 * Access tokens of other issuers (`auth.bearer`), over real sockets: client-credentials tokens of a
 * real OpenID Provider (keys found through its discovery document), and tokens signed with a test key
 * served from a configured jwksUrl, which lets the test forge what a provider would never issue
 * (expired, not yet valid, another key, a symmetric algorithm, no subject). The caller is a service
 * with the roles of the configured claim; anything else is 401 with WWW-Authenticate.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { compileOrThrow } from '../../src/model/load.js';
import { API_AUDIENCE, freePort, SERVICE_ROLES, SHORT_LIVED_CLIENT_ID, startTestProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { WHOAMI } from '../helpers/whoami.js';

/** A JWKS endpoint of one test key: the issuer the test signs for itself. */
async function startKeyServer(): Promise<{
  issuer: string;
  jwksUrl: string;
  sign(claims: JWTPayload, audience?: string): Promise<string>;
  close(): Promise<void>;
}> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const server: Server = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    sign: (claims, audience = 'reports-api') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// Nothing here is stored: one backend is enough, the quicker one to start.
const backend = BACKENDS.includes('postgres') ? 'postgres' : 'pglite';

describe(`external bearer tokens (${backend})`, () => {
  let provider: TestProvider;
  let keys: Awaited<ReturnType<typeof startKeyServer>>;
  let server: TestServer;
  let unreachableIssuer: string;

  before(async () => {
    provider = await startTestProvider([]);
    keys = await startKeyServer();
    unreachableIssuer = `http://127.0.0.1:${await freePort()}`;
    const model = compileOrThrow('notes with external issuers', {
      auth: {
        bearer: [
          { issuer: provider.issuer, audience: API_AUDIENCE },
          { issuer: keys.issuer, audience: 'reports-api', jwksUrl: keys.jwksUrl, rolesClaim: 'scope' },
          { issuer: unreachableIssuer, audience: 'reports-api', jwksUrl: `${unreachableIssuer}/jwks` },
        ],
      },
      resources: { notes: { fields: { title: { type: 'string' } } } },
    });
    // No clock skew: the one-second token of the expiry test is expired a second later.
    server = await startTestServer(model, backend, { authClockSkewS: 0 }, undefined, { routes: [WHOAMI] });
  });
  after(async () => {
    await server?.close();
    await provider?.close();
    await keys?.close();
  });

  const whoamiWith = (token: string) => server.fetch('/v1/whoami', { headers: { authorization: `Bearer ${token}` } });

  /** Every refused token gets the same answer, whichever check failed: it tells a prober nothing. */
  async function refused(token: string): Promise<void> {
    const res = await whoamiWith(token);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln", error="invalid_token"');
    const body = await expectProblem(res, 401, 'KILN_UNAUTHENTICATED');
    assert.equal(body.detail, 'the access token is invalid or expired; refresh it or sign in again');
  }

  test("a client-credentials token of the provider is a service caller with the token's roles", async () => {
    const res = await whoamiWith(await provider.clientCredentials(API_AUDIENCE));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { kind: 'service', id: 'service', roles: ['authenticated', ...SERVICE_ROLES] });
  });

  test('a token of the provider for another audience is refused', async () => {
    await refused(await provider.clientCredentials('https://other-api.example.com'));
  });

  test('an expired token of the provider is refused', async () => {
    const token = await provider.clientCredentials(API_AUDIENCE, SHORT_LIVED_CLIENT_ID);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await refused(token);
  });

  test('roles may be a space-separated claim; names that are not role names are dropped', async () => {
    const res = await whoamiWith(await keys.sign({ sub: 'reporting-job', scope: 'reports:read editor  ops' }));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { kind: 'service', id: 'reporting-job', roles: ['authenticated', 'editor', 'ops'] });
  });

  test('tokens not yet valid, without a subject, for another audience, or with a tampered signature are refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(await keys.sign({ sub: 'job', nbf: now + 120 }));
    await refused(await keys.sign({ scope: 'editor' }));
    await refused(await keys.sign({ sub: 'job' }, 'another-api'));
    const token = await keys.sign({ sub: 'job', scope: 'editor' });
    const [header, payload] = token.split('.');
    const elevated = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()), scope: 'admin' })).toString(
      'base64url',
    );
    await refused(`${header}.${elevated}.${token.split('.')[2]}`);
  });

  test('an unsigned token or one with a symmetric algorithm is refused, whatever it claims', async () => {
    const claims = { iss: keys.issuer, aud: 'reports-api', sub: 'job', scope: 'admin', exp: Math.floor(Date.now() / 1000) + 300 };
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    await refused(unsigned);
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(new TextEncoder().encode('a-secret-the-attacker-chose-0123456789'));
    await refused(hs256);
  });

  test('a token signed with another key under the same key id is refused', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ sub: 'job' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(keys.issuer)
      .setAudience('reports-api')
      .setExpirationTime('5m')
      .sign(privateKey);
    await refused(forged);
  });

  test("a token of an issuer whose keys cannot be fetched is 503, not the token's fault", async () => {
    const token = await new SignJWT({ sub: 'job' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(unreachableIssuer)
      .setAudience('reports-api')
      .setExpirationTime('5m')
      .sign((await generateKeyPair('ES256')).privateKey);
    const res = await whoamiWith(token);
    const body = await expectProblem(res, 503, 'KILN_AUTH_OIDC_UNAVAILABLE');
    assert.equal(body.detail, `the keys of the token's issuer ${unreachableIssuer} cannot be fetched; try again later`);
    assert.equal(res.headers.get('retry-after'), '5');
  });

  test('a token of an issuer not configured is refused', async () => {
    const res = await whoamiWith(
      await new SignJWT({ sub: 'job' })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer('https://elsewhere.example.com')
        .setAudience(API_AUDIENCE)
        .setExpirationTime('5m')
        .sign((await generateKeyPair('ES256')).privateKey),
    );
    const body = await expectProblem(res, 401, 'KILN_UNAUTHENTICATED');
    assert.equal(body.detail, 'the access token is invalid or expired; refresh it or sign in again');
  });

  test('no token reaches the log', async () => {
    const log = JSON.stringify(server.logs);
    assert.doesNotMatch(log, /eyJ[\w-]+\.eyJ/);
  });
});
