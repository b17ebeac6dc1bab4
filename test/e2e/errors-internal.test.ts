import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import type { Database } from '../../src/db/database.js';
import { openPostgres } from '../../src/db/postgres.js';
import { type RunningKiln, startKiln } from '../../src/start.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, type Backend, createTestDatabase, type TestResponse } from '../helpers/server.js';

type Mode = 'ok' | 'throw' | 'down';

/**
 * A server over a database that can be switched to fail: `throw` makes every statement throw a plain
 * Error (a bug), `down` sends every statement to a PostgreSQL port nobody listens on (a real outage).
 */
async function startFaultyServer(backend: Backend) {
  const test = await createTestDatabase(backend);
  const dead = openPostgres({
    url: 'postgres://postgres@127.0.0.1:1/test',
    schema: 'public',
    poolMax: 2,
    connectTimeoutMs: 1000,
    idleTimeoutMs: 1000,
    statementTimeoutMs: 1000,
  });
  let mode: Mode = 'ok';
  const target = () => (mode === 'down' ? dead : test.db);
  const bug = () => Promise.reject(new Error('boom: column "secret_salary" of relation "payroll" does not exist in SELECT * FROM payroll'));
  const db: Database = {
    kind: test.db.kind,
    query: (text, values) => (mode === 'throw' ? bug() : target().query(text, values)),
    transaction: (fn) => (mode === 'throw' ? bug() : target().transaction(fn)),
    ping: () => target().ping(),
    observe: (listener) => test.db.observe(listener),
    onConnectionError: (listener) => test.db.onConnectionError(listener),
    close: () => test.db.close(),
  };
  const logs: Record<string, any>[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const settings = { ...resolveSettings({}), host: '127.0.0.1', port: 0, dbSchema: test.schema };
  const kiln: RunningKiln = await startKiln({ model: await blogModel(), settings, db, logStream });
  const url = kiln.url.replace('localhost', '127.0.0.1');
  return {
    logs,
    setMode: (next: Mode) => {
      mode = next;
    },
    fetch: (path: string, init: RequestInit & { json?: unknown } = {}): Promise<TestResponse> =>
      fetch(`${url}${path}`, {
        ...init,
        headers: init.json === undefined ? init.headers : { 'content-type': 'application/json', ...init.headers },
        body: init.json === undefined ? init.body : JSON.stringify(init.json),
      }),
    async close() {
      await kiln.close({ keepDatabase: true });
      await dead.close();
      await test.dispose();
    },
  };
}

const GENERIC = 'an unexpected error occurred; the server log has the cause under this request id';

for (const backend of BACKENDS) {
  describe(`server and database failures (${backend})`, () => {
    let server: Awaited<ReturnType<typeof startFaultyServer>>;
    let userId: number;

    before(async () => {
      server = await startFaultyServer(backend);
      const res = await server.fetch('/v1/users', { method: 'POST', json: { email: 'f@example.com', name: 'F' } });
      userId = (await res.json()).data.id;
    });
    after(() => server.close());

    test('an unexpected error is 500 KILN_INTERNAL with a generic message; the cause is logged under the request id', async () => {
      server.setMode('throw');
      try {
        for (const [method, path, json] of [
          ['GET', '/v1/users', undefined],
          ['GET', `/v1/users/${userId}`, undefined],
          ['POST', '/v1/tags', { name: 'x' }],
          ['POST', '/v1/posts', { title: 'x', authorId: userId, tags: [] }],
          ['DELETE', `/v1/users/${userId}`, undefined],
        ] as const) {
          const res = await server.fetch(path, { method, json, headers: { 'x-request-id': `internal-${method}-${path.length}` } });
          const clone = res.clone();
          const problem = await expectProblem(res, 500, 'KILN_INTERNAL');
          assert.deepEqual(Object.keys(problem).sort(), ['code', 'detail', 'instance', 'status', 'title', 'type']);
          assert.equal(problem.detail, GENERIC);
          assert.equal(problem.title, 'Internal server error');
          assert.doesNotMatch(await clone.text(), /boom|secret|payroll|Error|stack/);
          // Logged once per cause with its stack (the fault log counts the repeats): under the first request's id.
          const cause = server.logs.find((l) => l.msg === 'unhandled error' && l.level === 50);
          assert.equal(cause?.fault, 'KILN_INTERNAL Error: boom: column ? of relation ? does not exist in SELECT * FROM payroll', `${method} ${path}`);
          assert.match(cause?.err?.message ?? '', /^boom: column "secret_salary"/);
          assert.match(cause?.err?.stack ?? '', /at /);
          const lines = () => server.logs.filter((l) => l.reqId === problem.instance && l.msg === 'request');
          for (let i = 0; i < 100 && lines().length === 0; i++) await new Promise((r) => setTimeout(r, 10)); // logged just after sending
          assert.deepEqual(
            lines().map((l) => l.status),
            [500],
          );
        }
      } finally {
        server.setMode('ok');
      }
      assert.equal((await server.fetch(`/v1/users/${userId}`)).status, 200, 'nothing was deleted');
    });

    test('an unreachable database is 503 KILN_DATABASE_UNAVAILABLE on reads and writes', async () => {
      server.setMode('down');
      try {
        for (const [method, path, json] of [
          ['GET', '/v1/posts', undefined],
          ['GET', '/v1/posts?include=author,tags&count=true', undefined],
          ['GET', `/v1/users/${userId}`, undefined],
          ['POST', '/v1/tags', { name: 'down' }],
          ['POST', '/v1/posts', { title: 'x', authorId: userId, tags: [1] }],
          ['PATCH', `/v1/users/${userId}`, { name: 'G' }],
          ['DELETE', `/v1/users/${userId}`, undefined],
        ] as const) {
          const res = await server.fetch(path, { method, json });
          assert.equal(res.headers.get('retry-after'), '2');
          const problem = await expectProblem(res, 503, 'KILN_DATABASE_UNAVAILABLE');
          assert.equal(problem.detail, 'the database cannot be reached right now', `${method} ${path}`);
          const cause = server.logs.find((l) => l.fault === 'KILN_DATABASE_UNAVAILABLE ECONNREFUSED' && l.level === 50);
          assert.equal(cause?.msg, 'KILN_DATABASE_UNAVAILABLE');
          assert.match(JSON.stringify(cause?.cause), /ECONNREFUSED/);
        }
        const keyed = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'k' }, headers: { 'idempotency-key': 'down-1' } });
        await expectProblem(keyed, 503, 'KILN_DATABASE_UNAVAILABLE');
      } finally {
        server.setMode('ok');
      }
      const back = await server.fetch(`/v1/users/${userId}`);
      assert.equal(back.status, 200, 'requests succeed again once the database is back');
      assert.equal((await back.json()).data.name, 'F');
    });
  });
}
