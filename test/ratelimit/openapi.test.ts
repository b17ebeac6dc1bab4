/**
 * The OpenAPI document states the rate limits: RateLimit-Policy and RateLimit on every 2xx and 4xx
 * response, and on each limited operation its policy and the 429 with Retry-After. Spectral's OWASP
 * API4 rate-limit rules find nothing to report; with the limits off they do (so the check can fail).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ISpectralDiagnostic, type RulesetDefinition, Spectral } from '@stoplight/spectral-core';
import owasp from '@stoplight/spectral-owasp-ruleset';
import { resolveSettings } from '../../src/config/settings.js';
import { describeApi } from '../../src/http/server.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { ResponseChecker } from '../openapi/document-tools.js';
import { notesModel } from './models.js';

const OWASP_RULESET = ('default' in owasp ? owasp.default : owasp) as unknown as RulesetDefinition;
const RATE_RULES = ['owasp:api4:2023-rate-limit', 'owasp:api4:2023-rate-limit-retry-after', 'owasp:api4:2023-rate-limit-responses-429'];

async function rateFindings(document: unknown): Promise<ISpectralDiagnostic[]> {
  const spectral = new Spectral();
  spectral.setRuleset(OWASP_RULESET);
  return (await spectral.run(JSON.stringify(document))).filter((r) => RATE_RULES.includes(String(r.code)));
}

const FIELDS = {
  'RateLimit-Policy': { $ref: '#/components/headers/RateLimitPolicy' },
  RateLimit: { $ref: '#/components/headers/RateLimit' },
};

// First: Spectral blocks the event loop for seconds, which load shedding (KILN_SHED_EVENT_LOOP_DELAY_MS) would answer with 503.
describe('answers fit what the document declares', () => {
  let server: TestServer;
  let check: ResponseChecker;
  before(async () => {
    server = await startTestServer(notesModel(), BACKENDS[0] ?? 'pglite');
    check = new ResponseChecker(await (await server.fetch('/openapi.json')).json());
  });
  after(() => server.close());

  test('a 201 and the 429 after it, with their RateLimit fields', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await server.fetch('/v1/notes', { method: 'POST', json: { title: `n${i}` } });
      assert.ok(res.headers.has('ratelimit') && res.headers.has('ratelimit-policy'));
      await check.check('POST', '/v1/notes', res);
    }
    const refused = await server.fetch('/v1/notes', { method: 'POST', json: { title: 'n4' } });
    assert.ok(refused.headers.has('ratelimit') && refused.headers.has('ratelimit-policy'));
    const problem = await check.check('POST', '/v1/notes', refused);
    assert.equal(problem.code, 'KILN_RATE_LIMITED');
  });
});

describe('the rate limits in the OpenAPI document', () => {
  let document: any;
  before(async () => {
    document = await describeApi(notesModel(), { ...resolveSettings({}), rateLimit: '100/min', graphql: true });
  });

  test('every limited operation states its policy and declares the 429 with Retry-After', () => {
    const expected: [string, string, string][] = [
      ['/v1/notes', 'get', 'Rate limit `notes`: 5 per 60 seconds'],
      ['/v1/notes', 'post', 'Rate limit `notes.create`: 3 per 60 seconds'],
      ['/v1/notes/bulk', 'post', 'Rate limit `notes.create`: 3 per 60 seconds'],
      ['/v1/notes/{id}', 'delete', 'Rate limit `notes`: 5 per 60 seconds'],
      ['/v1/tags/{id}', 'patch', 'Rate limit `default`: 100 per 60 seconds'],
    ];
    for (const [path, method, words] of expected) {
      const operation = document.paths[path][method];
      assert.deepEqual(operation.responses['429'], { $ref: '#/components/responses/KILN_RATE_LIMITED' }, `${method} ${path}`);
      assert.ok(
        operation.description.endsWith(`${words} per caller (its account, API key, or client IP); past it, 429 with Retry-After.`),
        operation.description,
      );
    }
    const limited = document.components.responses.KILN_RATE_LIMITED;
    assert.deepEqual(Object.keys(limited.headers), ['X-Request-Id', 'Retry-After', 'RateLimit-Policy', 'RateLimit']);
    assert.equal(limited.content['application/problem+json'].example.code, 'KILN_RATE_LIMITED');
    assert.equal(document.paths['/healthz'].get.responses['429'], undefined, 'the probes are not limited');
  });

  test('every 2xx and 4xx response of every path declares RateLimit-Policy and RateLimit', () => {
    let checked = 0;
    for (const [path, item] of Object.entries<any>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        for (const [status, response] of Object.entries<any>(operation.responses ?? {})) {
          if (!/^[24]/.test(status)) continue;
          const resolved = response.$ref ? document.components.responses[response.$ref.split('/').pop()] : response;
          assert.deepEqual({ ...resolved.headers, ...FIELDS }, resolved.headers, `${method} ${path} ${status}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 100, `${checked}`);
    assert.equal(document.components.headers.RateLimitPolicy.schema.type, 'string');
    assert.match(
      document.components.headers.RateLimitPolicy.description,
      /This server's policies: `notes` \(5 per 60 seconds\), `notes.create` \(3 per 60 seconds\), `default` \(100 per 60 seconds\)\./,
    );
    assert.equal(document.components.headers.XRequestId.schema.type, 'string', 'the other headers stay');
  });

  test("Spectral's OWASP rate-limit rules report nothing but the probes, which no limit may refuse", async () => {
    const findings = await rateFindings(document);
    assert.deepEqual(
      findings.filter((r) => r.severity === 0),
      [],
    );
    // A warning: the health probes declare no 429, as a load balancer's checks are never refused.
    assert.deepEqual(
      [...new Set(findings.map((r) => `${r.code} ${r.path.join('.')}`))],
      ['owasp:api4:2023-rate-limit-responses-429 paths./healthz.get.responses', 'owasp:api4:2023-rate-limit-responses-429 paths./readyz.get.responses'],
    );
  });

  test('with nothing limited, the document claims no limit, and the OWASP rule reports it', async () => {
    const free: any = await describeApi(notesModel({}), { ...resolveSettings({}), rateLimit: 'off' });
    assert.equal(free.components.headers.RateLimit, undefined);
    assert.equal(free.paths['/v1/notes'].get.responses['429'], undefined);
    const findings = await rateFindings(free);
    assert.ok(
      findings.some((r) => r.code === 'owasp:api4:2023-rate-limit' && r.path.join('.') === 'paths./v1/notes.get.responses.200.headers'),
      findings.map((r) => r.path.join('.')).join('\n'),
    );
  });
});
