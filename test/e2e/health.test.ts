import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openPostgres } from '../../src/db/postgres.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

for (const backend of BACKENDS) {
  describe(`health checks (${backend})`, () => {
    let server: TestServer;
    let realPing: () => Promise<void>;
    /** A pool pointed at a port nobody listens on: what an unreachable database looks like. */
    const dead = openPostgres({
      url: 'postgres://postgres@127.0.0.1:1/test',
      schema: 'public',
      poolMax: 1,
      connectTimeoutMs: 1000,
      idleTimeoutMs: 1000,
      statementTimeoutMs: 1000,
    });

    before(async () => {
      server = await startTestServer(await blogModel(), backend);
      realPing = server.db.ping;
    });
    after(async () => {
      await server.close();
      await dead.close();
    });

    test('/healthz answers 200 while the process runs', async () => {
      const res = await server.fetch('/healthz');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      assert.deepEqual(await res.json(), { status: 'ok' });
      const head = await server.fetch('/healthz', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
    });

    test('/readyz answers 200 when the database answers', async () => {
      const res = await server.fetch('/readyz');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.deepEqual(await res.json(), { status: 'ready' });
      assert.equal((await server.fetch('/readyz', { method: 'HEAD' })).status, 200);
    });

    test('/readyz is 503 KILN_DATABASE_UNAVAILABLE while the database is unreachable; /healthz stays 200', async () => {
      server.db.ping = () => dead.ping();
      try {
        const problem = await expectProblem(await server.fetch('/readyz'), 503, 'KILN_DATABASE_UNAVAILABLE');
        assert.equal(problem.detail, 'the database did not answer');
        assert.equal(problem.title, 'Database unavailable');
        const warning = server.logs.find((l) => l.reqId === problem.instance && l.msg === 'readiness check failed');
        assert.match(JSON.stringify(warning?.err), /ECONNREFUSED/, 'the cause is logged');
        assert.equal((await server.fetch('/healthz')).status, 200);
      } finally {
        server.db.ping = realPing;
      }
      assert.equal((await server.fetch('/readyz')).status, 200, 'ready again once the database answers');
    });

    test('/readyz gives up on a database that does not answer at all', async () => {
      server.db.ping = () => new Promise(() => {});
      try {
        const problem = await expectProblem(await server.fetch('/readyz'), 503, 'KILN_DATABASE_UNAVAILABLE');
        assert.equal(problem.detail, 'the database did not answer');
      } finally {
        server.db.ping = realPing;
      }
    });

    test('health routes are not under the API prefix and are served without a model resource', async () => {
      await expectProblem(await server.fetch('/v1/healthz'), 404, 'KILN_ROUTE_NOT_FOUND');
      await expectProblem(await server.fetch('/v1/readyz'), 404, 'KILN_ROUTE_NOT_FOUND');
    });
  });
}
