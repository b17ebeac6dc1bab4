import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { type ISpectralDiagnostic, type RulesetDefinition, Spectral } from '@stoplight/spectral-core';
import owasp from '@stoplight/spectral-owasp-ruleset';
import { resolveSettings } from '../../src/config/settings.js';
import { compileOrThrow } from '../../src/model/load.js';
import { buildOpenApi } from '../../src/openapi/document.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { documentOf, documentOptions } from './document-options.js';
import { METHODS, ResponseChecker } from './document-tools.js';

const FAST_HASHING = { passwordMemoryKib: 8192, passwordTimeCost: 1 };
const OWASP = ('default' in owasp ? owasp.default : owasp) as unknown as { rules: Record<string, unknown> };
/** Spectral's OWASP 2023 rules on authentication (API2) alone: the whole ruleset is test/openapi/owasp.test.ts's, and slow. */
const API2 = /^owasp:api2:2023-/;
const API2_RULESET = { ...OWASP, rules: Object.fromEntries(Object.entries(OWASP.rules).filter(([name]) => API2.test(name))) } as unknown as RulesetDefinition;

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly op: any;
}

function operationsOf(document: any): Operation[] {
  return Object.entries<any>(document.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m.toLowerCase()]).map((method) => ({ method, path, op: item[method.toLowerCase()] })),
  );
}

/** The documented response of a status, with a `$ref` resolved. */
function responseOf(document: any, op: any, status: string): any {
  const response = op.responses[status];
  const ref = response?.$ref as string | undefined;
  return ref ? document.components.responses[ref.split('/').pop() as string] : response;
}

/** Every credential-like example in the document: a property named like a password, token, secret or key, and its example values. */
function credentialExamples(node: unknown, at: string, out: { at: string; value: unknown }[] = []): typeof out {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) credentialExamples(item, `${at}/${i}`, out);
    return out;
  }
  if (!node || typeof node !== 'object') return out;
  const CREDENTIAL = /password|token|secret|(^|[^a-z])key|apikey|cookie/i;
  for (const [name, value] of Object.entries(node as Record<string, unknown>)) {
    // A schema property named like a credential: its `example` / `examples`.
    if (name === 'properties' && value && typeof value === 'object') {
      for (const [property, schema] of Object.entries(value as Record<string, any>)) {
        if (!CREDENTIAL.test(property) || !schema || typeof schema !== 'object') continue;
        for (const example of [schema.example, ...(Array.isArray(schema.examples) ? schema.examples : [])]) {
          if (example !== undefined) out.push({ at: `${at}/properties/${property}`, value: example });
        }
      }
    }
    // An example body or value: the values of its credential-named keys, at any depth.
    if ((name === 'example' || name === 'value') && value && typeof value === 'object') collectCredentialValues(value, `${at}/${name}`, out);
    credentialExamples(value, `${at}/${name}`, out);
  }
  return out;
}

function collectCredentialValues(node: unknown, at: string, out: { at: string; value: unknown }[]): void {
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (/password|token|secret|key|cookie/i.test(key) && typeof value === 'string') out.push({ at: `${at}/${key}`, value });
    else collectCredentialValues(value, `${at}/${key}`, out);
  }
}

/**
 * A value a reader could take for a real credential: a JWT, a long run of random-looking characters,
 * or a password that is not plainly a placeholder. Placeholders say what they stand for (`<access token>`,
 * `…`, "example", "placeholder").
 */
function looksReal(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (/^<[^>]+>$|…|\.\.\.|example|placeholder|redacted/i.test(value)) return false;
  if (/^eyJ[\w-]+\.[\w-]+\.[\w-]*$/.test(value)) return true;
  return /[A-Za-z0-9_+/=-]{16,}/.test(value) || value.length >= 8;
}

describe('OpenAPI security: the blog (accounts declared)', () => {
  let server: TestServer;
  let document: any;
  let operations: Operation[];

  before(async () => {
    server = await startTestServer(await blogModel(), BACKENDS[0] ?? 'pglite', { ...FAST_HASHING, authAccessTtlS: 600, authRefreshTtlS: 1_209_600 });
    document = await (await server.fetch('/openapi.json')).json();
    operations = operationsOf(document);
  });
  after(() => server.close());

  test('declares the bearer JWT, the session cookie and the API key, with what they mean', () => {
    const { bearerAuth, cookieAuth, apiKeyAuth, ...others } = document.components.securitySchemes;
    assert.deepEqual(Object.keys(others), [], 'no other scheme: an OIDC login ends in a session or tokens of Kiln');
    assert.deepEqual({ ...bearerAuth, description: undefined }, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: undefined });
    assert.match(bearerAuth.description, /RFC8725/);
    assert.match(bearerAuth.description, /expires 10 minutes after it is issued/);
    assert.match(bearerAuth.description, /POST \/v1\/auth\/refresh/);
    assert.match(bearerAuth.description, /a refresh token lives 14 days and works once/);
    assert.deepEqual({ ...cookieAuth, description: undefined }, { type: 'apiKey', in: 'cookie', name: '__Host-kiln_session', description: undefined });
    assert.match(cookieAuth.description, /`X-CSRF-Token` header/);
    assert.deepEqual({ ...apiKeyAuth, description: undefined }, { type: 'apiKey', in: 'header', name: 'x-api-key', description: undefined });
    assert.match(apiKeyAuth.description, /Authorization: Bearer <key>/);
  });

  test("Redocly's security-defined rule reports nothing; every operation names only declared schemes", async () => {
    const config = await createConfig({ rules: { 'security-defined': 'error' } });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: 'openapi.json', config });
    assert.deepEqual(
      problems.map((p) => `${p.ruleId}: ${p.message}`),
      [],
    );
    // The rule's own test case: an operation without security is what it reports.
    const bare = { openapi: '3.1.0', info: { title: 't', version: '1' }, paths: { '/a': { get: { responses: { 200: { description: 'ok' } } } } } };
    const reported = await lintFromString({ source: JSON.stringify(bare), absoluteRef: 'bare.json', config });
    assert.deepEqual(
      reported.map((p) => p.ruleId),
      ['security-defined'],
    );
    const schemes = new Set(Object.keys(document.components.securitySchemes));
    for (const { method, path, op } of operations) {
      for (const requirement of op.security) {
        for (const [name, scopes] of Object.entries(requirement)) {
          assert.ok(schemes.has(name), `${method} ${path} names undeclared scheme ${name}`);
          assert.deepEqual(scopes, []);
        }
      }
    }
  });

  test('without access rules, generated operations take any scheme or none (with rules: access-extension.test.ts); a custom route keeps its own', () => {
    const anyone = [{ bearerAuth: [] }, { cookieAuth: [] }, { apiKeyAuth: [] }, {}];
    for (const [method, path] of [
      ['get', '/v1/posts'],
      ['post', '/v1/posts'],
      ['post', '/v1/posts/bulk'],
      ['get', '/v1/posts/{id}'],
      ['patch', '/v1/posts/{id}'],
      ['put', '/v1/posts/{id}'],
      ['delete', '/v1/posts/{id}'],
    ] as const) {
      assert.deepEqual(document.paths[path][method].security, anyone, `${method} ${path}`);
    }
    // The blog's publish route is declared `authenticated: true`.
    assert.deepEqual(document.paths['/v1/posts/{id}/publish'].post.security, anyone.slice(0, 3));
    assert.deepEqual(document.paths['/healthz'].get.security, [{}], 'the probes are public');
  });

  test('routes for a signed-in caller require a scheme; the routes that hand out credentials are public', () => {
    const signedIn = operations
      .filter(({ path }) => path.startsWith('/v1/auth/'))
      .filter(({ op }) => !op.security.some((r: object) => Object.keys(r).length === 0));
    const publicOnes = operations.filter(({ op }) => op.security.length === 1 && Object.keys(op.security[0]).length === 0);
    for (const { method, path, op } of signedIn) {
      assert.deepEqual(op.security, [{ bearerAuth: [] }, { cookieAuth: [] }, { apiKeyAuth: [] }], `${method} ${path}`);
    }
    const names = (list: Operation[]) => list.map(({ method, path }) => `${method} ${path}`);
    const present = new Set(names(operations));
    // The routes the auth parts serve today; one not built yet is not asserted.
    for (const route of ['GET /v1/auth/me', 'POST /v1/auth/password']) {
      if (present.has(route)) assert.ok(names(signedIn).includes(route), `${route} requires a credential`);
    }
    for (const route of [
      'POST /v1/auth/signup',
      'POST /v1/auth/login',
      'POST /v1/auth/refresh',
      'POST /v1/auth/password/forgot',
      'POST /v1/auth/password/reset',
    ]) {
      if (present.has(route)) assert.ok(names(publicOnes).includes(route), `${route} is public`);
    }
  });

  test('every API operation documents 401 with WWW-Authenticate; every 429 documents Retry-After', () => {
    for (const { method, path, op } of operations) {
      if (!path.startsWith('/v1/')) continue;
      const unauthorized = responseOf(document, op, '401');
      assert.ok(unauthorized, `${method} ${path} lists no 401`);
      assert.ok(unauthorized.headers['WWW-Authenticate'], `${method} ${path} 401 has no WWW-Authenticate`);
      assert.ok(unauthorized.content['application/problem+json'], `${method} ${path} 401 has no problem body`);
      const limited = responseOf(document, op, '429');
      if (limited) assert.ok(limited.headers['Retry-After'], `${method} ${path} 429 has no Retry-After`);
    }
    assert.equal(responseOf(document, document.paths['/healthz'].get, '401'), undefined, 'a probe checks no credential');
  });

  test("Spectral's OWASP API2 rules (no-http-basic, jwt-best-practices, short-lived tokens, read-/write-restricted) report nothing", async () => {
    const spectral = new Spectral();
    spectral.setRuleset(API2_RULESET);
    const results: ISpectralDiagnostic[] = await spectral.run(JSON.stringify(document));
    assert.ok(Object.keys((API2_RULESET as { rules: object }).rules).length >= 8, 'the API2 rules are there');
    const api2 = results.filter((r) => API2.test(String(r.code)));
    assert.deepEqual(
      api2.map((r) => `${r.severity} ${r.code} ${r.path.join('.')}: ${r.message}`),
      [],
    );
  });

  test('no example holds what could pass for a real password, token, key or cookie', () => {
    const found = credentialExamples(document, '#').filter(({ value }) => looksReal(value));
    assert.deepEqual(found, []);
  });

  test('the credential check of this test does catch a realistic example', () => {
    const doc = structuredClone(document);
    doc.components.schemas.Users.properties.apiKey = { type: 'string', maxLength: 100, examples: ['kiln_Zq3xv8Lr2Wm9Tb4Ny7Hc1Pd6'] };
    doc.components.responses.KILN_INTERNAL.content['application/problem+json'].example.password = 'hunter22';
    assert.deepEqual(
      credentialExamples(doc, '#')
        .filter(({ value }) => looksReal(value))
        .map(({ at }) => at),
      ['#/components/schemas/Users/properties/apiKey', '#/components/responses/KILN_INTERNAL/content/application/problem+json/example/password'],
    );
    assert.equal(looksReal('<refresh token>'), false);
  });
});

for (const backend of BACKENDS) {
  describe(`a refused credential is the documented 401 (${backend})`, () => {
    let server: TestServer;
    let check: ResponseChecker;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, FAST_HASHING);
      check = new ResponseChecker(await (await server.fetch('/openapi.json')).json());
    });
    after(() => server.close());

    test('a bad bearer token on a generated read: 401, WWW-Authenticate, the documented problem', async () => {
      const res = await server.fetch('/v1/posts', { headers: { authorization: 'Bearer not-a-token' } });
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln", error="invalid_token"');
      const problem = await expectProblem(res.clone() as Response, 401, 'KILN_UNAUTHENTICATED');
      assert.deepEqual(problem, {
        type: 'https://kiln.dev/errors/KILN_UNAUTHENTICATED',
        title: 'Authentication required',
        status: 401,
        detail: 'the access token is invalid or expired; refresh it or sign in again',
        code: 'KILN_UNAUTHENTICATED',
        instance: res.headers.get('x-request-id'),
      });
      await check.check('GET', '/v1/posts', res);
    });

    test('a route for a signed-in caller, called anonymously: the documented 401', async () => {
      const res = await server.fetch('/v1/auth/me');
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln"');
      const problem = await expectProblem(res.clone() as Response, 401, 'KILN_UNAUTHENTICATED');
      assert.equal(problem.detail, 'this route needs a signed-in caller: send Authorization: Bearer <access token>, an API key or the session cookie');
      await check.check('GET', '/v1/auth/me', res);
    });
  });
}

describe('OpenAPI security without accounts', () => {
  test('a model without auth declares no scheme and no security: every operation is open, and the document says so', () => {
    const model = compileOrThrow('open', { resources: { notes: { fields: { title: { type: 'string', maxLength: 50 } } } } });
    const document = documentOf(model);
    assert.equal(document.components.securitySchemes, undefined);
    for (const { method, path, op } of operationsOf(document)) {
      assert.equal(op.security, undefined, `${method} ${path}`);
      assert.equal(op.responses['401'], undefined, `${method} ${path}: nothing checks a credential`);
    }
  });

  test('behind an external identity provider only (auth.bearer): the bearer JWT scheme, naming the issuer and audience', () => {
    const model = compileOrThrow('behind-idp', {
      auth: { bearer: [{ issuer: 'https://id.example.com', audience: 'notes-api' }] },
      resources: { notes: { fields: { title: { type: 'string', maxLength: 50 } } } },
    });
    const document: any = buildOpenApi(model, { ...documentOptions(), security: resolveSettings({}) });
    const { bearerAuth, ...others } = document.components.securitySchemes;
    assert.deepEqual(Object.keys(others), []);
    assert.equal(bearerAuth.bearerFormat, 'JWT');
    assert.match(bearerAuth.description, /`https:\/\/id\.example\.com` \(audience `notes-api`\)/);
    assert.match(bearerAuth.description, /RFC8725/);
    assert.deepEqual(document.paths['/v1/notes'].post.security, [{ bearerAuth: [] }, {}]);
  });
});
