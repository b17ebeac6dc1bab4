import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

type Line = Record<string, unknown>;

/** The `sql` lines of one request, once its request line is written (the statements ran before it). */
async function sqlLinesOf(server: TestServer, reqId: string | null): Promise<Line[]> {
  const done = () => server.logs.some((l) => l.reqId === reqId && l.msg === 'request');
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  return server.logs.filter((l) => l.reqId === reqId && l.msg === 'sql');
}

for (const backend of BACKENDS) {
  for (const mode of ['1', 'values'] as const) {
    describe(`KILN_LOG_SQL=${mode} (${backend})`, () => {
      let server: TestServer;
      before(async () => {
        server = await startTestServer(await blogModel(), backend, { logSql: mode });
      });
      after(() => server.close());

      test('each statement of a request is logged at info with its text, its duration and the request id', async () => {
        const secret = `needle-${mode}-${Date.now()}`;
        const res = await server.fetch(`/v1/posts?title=${secret}`);
        assert.equal(res.status, 200);
        await res.arrayBuffer();
        const lines = await sqlLinesOf(server, res.headers.get('x-request-id'));
        assert.ok(lines.length >= 1, JSON.stringify(server.logs.slice(-5)));
        const select = lines.find((l) => /^SELECT /.test(String(l.sql)));
        assert.ok(select, JSON.stringify(lines));
        assert.equal(select.level, 30);
        assert.match(String(select.sql), /"posts"/);
        assert.doesNotMatch(String(select.sql), /\n/, 'one line per statement');
        assert.equal(typeof select.durationMs, 'number');
        assert.ok((select.durationMs as number) >= 0);
        if (mode === '1') {
          assert.ok(!JSON.stringify(server.logs).includes(secret), 'no parameter value is logged');
          assert.equal(select.values, undefined);
          assert.equal(typeof select.valueCount, 'number');
        } else {
          assert.ok((select.values as unknown[]).includes(secret), JSON.stringify(select));
        }
      });

      test('a write logs its statements too, under its request id', async () => {
        const res = await server.fetch('/v1/tags', { method: 'POST', json: { name: `tag-${mode}` } });
        assert.equal(res.status, 201);
        await res.arrayBuffer();
        const lines = await sqlLinesOf(server, res.headers.get('x-request-id'));
        assert.ok(
          lines.some((l) => /^INSERT INTO /.test(String(l.sql))),
          JSON.stringify(lines),
        );
        assert.equal(JSON.stringify(lines).includes(`tag-${mode}`), mode === 'values');
      });
    });
  }

  describe(`KILN_LOG_SQL unset (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend);
    });
    after(() => server.close());

    test('no statement is logged', async () => {
      const res = await server.fetch('/v1/posts');
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      assert.deepEqual(await sqlLinesOf(server, res.headers.get('x-request-id')), []);
      assert.ok(server.logs.some((l) => l.msg === 'request'));
    });
  });
}
