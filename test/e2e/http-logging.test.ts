import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

const SECRETS = {
  authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.top-secret-token',
  cookie: 'session=secret-session-cookie; theme=dark',
  'proxy-authorization': 'Basic c2VjcmV0LXByb3h5',
};

/** The log lines of one request; onResponse logs just after the last byte is sent, so allow it a moment. */
async function linesOf(server: TestServer, id: string | null, msg?: string): Promise<Record<string, unknown>[]> {
  const find = () => server.logs.filter((l) => l.reqId === id && (msg === undefined || l.msg === msg));
  for (let i = 0; i < 100 && find().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  return find();
}

for (const backend of BACKENDS) {
  describe(`request logs (${backend})`, () => {
    let server: TestServer;
    let userId: number;

    before(async () => {
      // trace: the most verbose level, so nothing that logs at any level can leak a secret unseen.
      server = await startTestServer(await blogModel(), backend, { logLevel: 'trace', bodyLimit: 1000 });
      const res = await server.fetch('/v1/users', { method: 'POST', json: { email: 'l@example.com', name: 'L' } });
      userId = (await res.json()).data.id;
    });
    after(() => server.close());

    test('exactly one JSON line per request: reqId, method, route, path, status, durationMs', async () => {
      const cases: [string, string, unknown, number, string | null][] = [
        ['GET', '/v1/posts?status=draft', undefined, 200, '/v1/posts'],
        ['GET', `/v1/users/${userId}`, undefined, 200, '/v1/users/:id'],
        ['POST', '/v1/tags', { name: 'logged' }, 201, '/v1/tags'],
        ['POST', '/v1/tags', { name: '' }, 400, '/v1/tags'],
        ['GET', '/v1/users/999999', undefined, 404, '/v1/users/:id'],
        ['DELETE', '/v1/users', undefined, 405, null],
        ['GET', '/not/a/route', undefined, 404, null],
        ['PATCH', `/v1/users/${userId}`, { name: 'x'.repeat(2000) }, 413, '/v1/users/:id'],
      ];
      for (const [method, path, json, status, route] of cases) {
        const res = await server.fetch(path, { method, json });
        assert.equal(res.status, status, `${method} ${path}`);
        await res.arrayBuffer();
        const lines = await linesOf(server, res.headers.get('x-request-id'), 'request');
        assert.equal(lines.length, 1, `${method} ${path}: one request line`);
        const line = lines[0] as Record<string, unknown>;
        assert.deepEqual(
          { method: line.method, route: line.route, path: line.path, status: line.status, level: line.level },
          { method, route, path: path.split('?')[0], status, level: 30 },
        );
        assert.equal(typeof line.durationMs, 'number');
        assert.ok((line.durationMs as number) >= 0);
        assert.equal(typeof line.time, 'number');
      }
    });

    test('the query string is not logged (it can hold filter values)', async () => {
      const res = await server.fetch('/v1/users?email=private%40example.com');
      const [line] = await linesOf(server, res.headers.get('x-request-id'), 'request');
      assert.equal(line?.path, '/v1/users');
      assert.doesNotMatch(JSON.stringify(server.logs), /private(@|%40)example/);
    });

    test('authorization, cookie and password values never reach the log, whatever the outcome', async () => {
      const requests: [string, string, unknown][] = [
        ['GET', '/v1/users', undefined],
        ['POST', '/v1/tags', { name: 'secret-check' }],
        ['POST', '/v1/tags', { nope: true }],
        ['GET', '/missing', undefined],
        ['PATCH', `/v1/users/${userId}`, { passwordHash: 'new-hash-never-logged' }],
        ['PATCH', `/v1/users/${userId}`, { name: 'y'.repeat(2000) }],
        ['GET', '/readyz', undefined],
      ];
      for (const [method, path, json] of requests) {
        const res = await server.fetch(path, { method, json, headers: { ...SECRETS, 'set-cookie': 'x=secret-set-cookie' } });
        await res.arrayBuffer();
        assert.equal((await linesOf(server, res.headers.get('x-request-id'), 'request')).length, 1, `${method} ${path} was logged`);
      }
      const all = JSON.stringify(server.logs);
      for (const secret of ['top-secret-token', 'secret-session-cookie', 'c2VjcmV0LXByb3h5', 'secret-set-cookie', 'hash-never-logged']) {
        assert.equal(all.includes(secret), false, `${secret} leaked into the log`);
      }
      assert.doesNotMatch(all, /"authorization"|"cookie"/i);
    });

    test('the server logger redacts secret-bearing fields for any code that logs them', async () => {
      // What a plugin or an error cause might log: headers, credentials, tokens.
      server.kiln.app.log.error(
        {
          probe: 'redaction',
          headers: { ...SECRETS, 'set-cookie': 'x=secret-set-cookie', accept: 'application/json' },
          body: { password: 'pw-never-logged', passwordHash: 'hash-never-logged', token: 'tok-never-logged', secret: 's-never-logged' },
        },
        'redaction probe',
      );
      const line = server.logs.find((l) => l.probe === 'redaction') as Record<string, any>;
      assert.deepEqual(line.headers, {
        authorization: '[redacted]',
        cookie: '[redacted]',
        'proxy-authorization': '[redacted]',
        'set-cookie': '[redacted]',
        accept: 'application/json',
      });
      assert.deepEqual(line.body, { password: '[redacted]', passwordHash: '[redacted]', token: '[redacted]', secret: '[redacted]' });
    });

    test('a request rejected by the HTTP parser is logged once under the id it was answered with', async () => {
      const res = await server.fetch('/v1/users', { headers: { ...SECRETS, 'x-huge': 'h'.repeat(20_000) } });
      assert.equal(res.status, 431);
      const lines = await linesOf(server, res.headers.get('x-request-id'));
      assert.equal(lines.length, 1);
      assert.deepEqual([lines[0]?.status, lines[0]?.code], [431, 'KILN_HEADERS_TOO_LARGE']);
      assert.equal(JSON.stringify(server.logs).includes('top-secret-token'), false);
    });
  });
}
