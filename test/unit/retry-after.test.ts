import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { type ErrorCode, KilnError } from '../../src/core/errors.js';
import { sendProblem } from '../../src/http/error-handler.js';
import { expectProblem } from '../helpers/problem.js';

/** Every 503 says when to retry; other statuses do not, and an error's own Retry-After wins. */
describe('Retry-After on problems', () => {
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    app = Fastify();
    app.addHook('onRequest', (req, reply, done) => {
      reply.header('x-request-id', req.id);
      done();
    });
    app.get('/:code', (req, reply) => sendProblem(reply, new KilnError((req.params as { code: ErrorCode }).code)));
    app.get('/own', (_req, reply) => sendProblem(reply, new KilnError('KILN_DATABASE_UNAVAILABLE', { headers: { 'retry-after': '30' } })));
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  for (const [code, seconds] of [
    ['KILN_DATABASE_UNAVAILABLE', '2'],
    ['KILN_DATABASE_TIMEOUT', '5'],
    ['KILN_SHUTTING_DOWN', '1'],
    ['KILN_OVERLOADED', '1'],
  ] as const) {
    test(`${code} is 503 with Retry-After: ${seconds}`, async () => {
      const res = await fetch(`${base}/${code}`);
      assert.equal(res.headers.get('retry-after'), seconds);
      await expectProblem(res, 503, code);
    });
  }

  test('a 500 or a 4xx has no Retry-After', async () => {
    for (const [code, status] of [
      ['KILN_INTERNAL', 500],
      ['KILN_NOT_FOUND', 404],
    ] as const) {
      const res = await fetch(`${base}/${code}`);
      assert.equal(res.headers.get('retry-after'), null, code);
      await expectProblem(res, status, code);
    }
  });

  test('a Retry-After the error carries itself is kept', async () => {
    const res = await fetch(`${base}/own`);
    assert.equal(res.headers.get('retry-after'), '30');
    await expectProblem(res, 503, 'KILN_DATABASE_UNAVAILABLE');
  });
});
