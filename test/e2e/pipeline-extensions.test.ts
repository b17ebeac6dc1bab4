/**
 * The stages that authentication, rate limiting and authorization will fill are real extension
 * points today: an authenticator names the caller (or refuses a bad credential with 401), a rate
 * limiter refuses with 429 and Retry-After, and a policy refuses an action with 403 before any SQL.
 * Each is called in the order docs/explanation/pipeline.md draws, with the request's context.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KilnError } from '../../src/core/errors.js';
import { TRUE } from '../../src/core/predicate.js';
import type { Authenticator } from '../../src/pipeline/authenticate.js';
import type { AccessPolicy } from '../../src/pipeline/authorize.js';
import type { RateLimitCall, RateLimiter } from '../../src/pipeline/rate-limit.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

for (const backend of BACKENDS) {
  describe(`pipeline extension points (${backend})`, () => {
    let server: TestServer;
    const order: string[] = [];
    const limited: RateLimitCall[] = [];

    const bearer: Authenticator = async ({ headers }) => {
      order.push('authenticate');
      const header = headers.authorization;
      if (header === undefined) return undefined;
      if (header !== 'Bearer good') {
        throw new KilnError('KILN_UNAUTHENTICATED', { detail: 'the token is not valid', headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
      }
      return { kind: 'account', id: 7, roles: ['authenticated', 'editor'] };
    };
    const limiter: RateLimiter = (call) => {
      order.push('rate-limit');
      limited.push(call);
      if (call.ctx.principal.id === null && call.operation === 'createMany') {
        throw new KilnError('KILN_RATE_LIMITED', { detail: 'too many bulk creates', headers: { 'retry-after': '30' } });
      }
    };
    const policy: AccessPolicy = {
      decide(principal, resource, action) {
        order.push('authorize');
        if (action === 'delete' && !principal.roles.includes('editor')) return { allowed: false, detail: `only editors may delete ${resource.name}` };
        return { allowed: true, rows: TRUE };
      },
    };

    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, undefined, { authenticators: [bearer], rateLimiters: [limiter], access: policy });
    });
    after(() => server.close());

    test('stages run in order: authenticate, rate-limit, then (after validation) authorize', async () => {
      order.length = 0;
      assert.equal((await server.fetch('/v1/tags', { method: 'POST', json: { name: 'ordered' } })).status, 201);
      assert.deepEqual(order, ['authenticate', 'rate-limit', 'authorize']);
      order.length = 0;
      await expectProblem(await server.fetch('/v1/tags', { method: 'POST', json: { nope: 1 } }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(order, ['authenticate', 'rate-limit'], 'an invalid body is refused before authorize');
    });

    test('the principal an authenticator names reaches every operation in its context', async () => {
      limited.length = 0;
      await server.fetch('/v1/tags', { headers: { authorization: 'Bearer good' } });
      assert.deepEqual(limited[0]?.ctx.principal, { kind: 'account', id: 7, roles: ['authenticated', 'editor'] });
      assert.equal(limited[0]?.operation, 'list');
      assert.equal(limited[0]?.resource, 'tags');
      assert.match(limited[0]?.ctx.requestId ?? '', /^[\w-]+$/);
      await server.fetch('/v1/tags');
      assert.deepEqual(limited[1]?.ctx.principal.roles, ['anonymous']);
    });

    test('a credential an authenticator refuses is 401 with WWW-Authenticate, never anonymous', async () => {
      const res = await server.fetch('/v1/tags', { headers: { authorization: 'Bearer forged' } });
      assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      await expectProblem(res, 401, 'KILN_UNAUTHENTICATED');
    });

    test('a rate limiter refuses with 429 and Retry-After, before the body is looked at', async () => {
      const res = await server.fetch('/v1/tags/bulk', { method: 'POST', json: 'not even an array' });
      assert.equal(res.headers.get('retry-after'), '30');
      await expectProblem(res, 429, 'KILN_RATE_LIMITED');
      const allowed = await server.fetch('/v1/tags/bulk', { method: 'POST', json: [{ name: 'by-editor' }], headers: { authorization: 'Bearer good' } });
      assert.equal(allowed.status, 201);
    });

    test('a policy refuses an action with 403 before any SQL; another caller may perform it', async () => {
      const id = (await (await server.fetch('/v1/tags', { method: 'POST', json: { name: 'doomed' } })).json()).data.id;
      let statements = 0;
      const stop = server.db.observe(() => {
        statements++;
      });
      const problem = await expectProblem(await server.fetch(`/v1/tags/${id}`, { method: 'DELETE' }), 403, 'KILN_FORBIDDEN');
      stop();
      assert.equal(problem.detail, 'only editors may delete tags');
      assert.equal(statements, 0);
      assert.equal((await server.fetch(`/v1/tags/${id}`, { method: 'DELETE', headers: { authorization: 'Bearer good' } })).status, 204);
    });
  });
}
