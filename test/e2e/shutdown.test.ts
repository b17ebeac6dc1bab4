import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { as } from '../helpers/callers.js';
import { type ServeProcess as Cli, spawnServe } from '../helpers/serve-process.js';
import { BACKENDS, createTestDatabase, startTestServer, TEST_DATABASE_URL, type TestDatabase, type TestServer } from '../helpers/server.js';

/**
 * A POST whose headers the server has read (it answered `100 Continue`) but whose body is still to
 * come: a request that is in flight for as long as the test wants.
 */
async function startSlowPost(
  url: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ finish(): Promise<{ status: number; head: string; json: any }> }> {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (d) => {
    received += d;
  });
  const closed = once(socket, 'close');
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\n${extra.join('')}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  while (!received.includes('100 Continue')) await new Promise((r) => setTimeout(r, 5));
  return {
    async finish() {
      socket.write(body);
      await closed;
      const final = received.slice(received.indexOf('\r\n\r\n') + 4); // after the interim 100 Continue
      const [head = '', text = ''] = final.split('\r\n\r\n', 2);
      return { status: Number(head.split(' ')[1]), head: head.toLowerCase(), json: JSON.parse(text) };
    },
  };
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  json: any;
}

/** A keep-alive connection to write requests on by hand and read their responses from, one by one. */
async function openConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  let received = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (d: Buffer) => {
    received = Buffer.concat([received, d]);
  });
  const close = once(socket, 'close').then(() => {
    closed = true;
  });
  return {
    write: (text: string) => socket.write(text),
    /** Resolves true once the server has closed the connection, false if it is still open after `ms`. */
    closedWithin: (ms: number) => Promise.race([close.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]),
    /** The next whole response (the server frames every body with Content-Length). */
    async next(): Promise<RawResponse> {
      for (;;) {
        const end = received.indexOf('\r\n\r\n');
        if (end >= 0) {
          const [statusLine = '', ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
          const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
          const length = Number(headers['content-length'] ?? 0);
          if (received.length >= end + 4 + length) {
            const body = received.subarray(end + 4, end + 4 + length).toString('utf8');
            received = received.subarray(end + 4 + length);
            return { status: Number(statusLine.split(' ')[1]), headers, json: length > 0 ? JSON.parse(body) : undefined };
          }
        }
        if (closed) throw new Error(`the connection closed; received: ${received.toString('latin1')}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

const shuttingDown = (instance: string) => ({
  type: 'https://kiln.dev/errors/KILN_SHUTTING_DOWN',
  title: 'Server is shutting down',
  status: 503,
  // The shutdown gate answers every route first, /readyz included.
  detail: 'this instance is shutting down; retry',
  code: 'KILN_SHUTTING_DOWN',
  instance,
});

function expectShuttingDown(res: RawResponse): void {
  assert.equal(res.status, 503, JSON.stringify(res.json));
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.equal(res.headers.connection, 'close');
  assert.match(res.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
  assert.deepEqual(res.json, shuttingDown(res.headers['x-request-id'] as string));
}

/** Waits until the server refuses new connections, which it does as soon as shutdown begins. */
async function waitUntilRefused(url: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await refusesConnections(url)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('new connections are still accepted');
}

function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    const socket = connect(Number(port), hostname);
    socket.on('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED'));
  });
}

async function waitForLog(cli: Cli, msg: string): Promise<void> {
  for (let i = 0; i < 400 && !logLines(cli).some((l) => l.msg === msg); i++) await new Promise((r) => setTimeout(r, 25));
}

function logLines(cli: Cli): Record<string, unknown>[] {
  return cli
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/** kiln serve runs the blog as it ships, where tags are the editors' to create. */
const EDITOR = as(1, ['editor']);

for (const backend of BACKENDS) {
  describe(`graceful shutdown of kiln serve (${backend})`, () => {
    const schemas: TestDatabase[] = [];
    /** Environment for one run: embedded PGlite in memory, or a fresh schema on PostgreSQL. */
    const envFor = async (extra: Record<string, string> = {}): Promise<Record<string, string>> => {
      if (backend === 'pglite') return extra;
      const database = await createTestDatabase('postgres');
      schemas.push(database);
      return { DATABASE_URL: TEST_DATABASE_URL, KILN_DB_SCHEMA: database.schema, ...extra };
    };
    after(async () => {
      for (const database of schemas) await database.dispose();
    });

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      test(`${signal}: in-flight requests complete, new connections are refused, the process exits 0`, async () => {
        const cli = await spawnServe(await envFor());
        const tags = Array.from({ length: 200 }, (_, i) => ({ name: `bulk-${i}` }));
        const single = await startSlowPost(cli.url, '/v1/tags', JSON.stringify({ name: 'in-flight' }), EDITOR);
        const bulk = await startSlowPost(cli.url, '/v1/tags/bulk', JSON.stringify(tags), EDITOR);

        cli.child.kill(signal);
        await waitForLog(cli, 'shutting down');
        let refused = false;
        for (let i = 0; i < 100 && !refused; i++) {
          refused = await refusesConnections(cli.url);
          if (!refused) await new Promise((r) => setTimeout(r, 20));
        }
        assert.ok(refused, 'a new connection is refused once shutdown has begun');

        const [one, many] = await Promise.all([single.finish(), bulk.finish()]);
        assert.deepEqual([one.status, one.json.data.name], [201, 'in-flight']);
        assert.deepEqual([many.status, many.json.data.length], [201, 200]);
        assert.match(one.head, /\r\nconnection: close\r\n/);
        assert.equal(await cli.exit, 0);

        const lines = logLines(cli);
        assert.deepEqual(
          lines
            .filter((l) => l.msg === 'request')
            .map((l) => `${l.method} ${l.path} ${l.status}`)
            .sort(),
          ['POST /v1/tags 201', 'POST /v1/tags/bulk 201'],
        );
        assert.deepEqual(lines.find((l) => l.msg === 'shutting down')?.signal, signal);
        assert.equal(lines.at(-1)?.msg, 'stopped', 'the last line says the process stopped');
      });
    }

    test('SIGTERM: a request on an open keep-alive connection is answered 503 with Connection: close, not reset', async () => {
      const cli = await spawnServe(await envFor());
      const { host } = new URL(cli.url);
      const connection = await openConnection(cli.url);
      connection.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      const first = await connection.next();
      assert.deepEqual([first.status, first.headers.connection], [200, 'keep-alive']);

      cli.child.kill('SIGTERM');
      await waitUntilRefused(cli.url);
      connection.write(`GET /v1/tags HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\n\r\n`);
      expectShuttingDown(await connection.next());
      assert.equal(await connection.closedWithin(5000), true, 'the server closes the connection after the 503');
      assert.equal(await cli.exit, 0);

      const lines = logLines(cli);
      assert.deepEqual(
        lines.filter((l) => l.msg === 'request').map((l) => `${l.method} ${l.path} ${l.status}`),
        ['GET /healthz 200', 'GET /v1/tags 503'],
      );
      assert.deepEqual(lines.find((l) => l.msg === 'shutting down')?.drainMs, 1000);
      assert.equal(lines.at(-1)?.msg, 'stopped');
    });

    test('past KILN_SHUTDOWN_TIMEOUT_MS the process exits 1 instead of hanging on a stuck request', async () => {
      const cli = await spawnServe(await envFor({ KILN_SHUTDOWN_TIMEOUT_MS: '300' }));
      await startSlowPost(cli.url, '/v1/tags', JSON.stringify({ name: 'never-finished' }), EDITOR);
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exit, 1);
      const lines = logLines(cli);
      const timedOut = lines.find((l) => l.msg === 'shutdown timed out; exiting with requests still in flight');
      assert.equal(timedOut?.timeoutMs, 300);
      assert.equal(
        lines.some((l) => l.msg === 'stopped'),
        false,
      );
    });
  });

  describe(`close() of a running app (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend);
    });
    after(() => server.close());

    test('waits for the request in flight and answers it with Connection: close', async () => {
      const slow = await startSlowPost(server.url, '/v1/tags', JSON.stringify({ name: 'last' }));
      let closed = false;
      const closing = server.kiln.close({ keepDatabase: true }).then(() => {
        closed = true;
      });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(closed, false, 'close() is still waiting for the request');
      assert.equal(await refusesConnections(server.url), true);
      const answer = await slow.finish();
      await closing;
      assert.deepEqual([answer.status, answer.json.data.name], [201, 'last']);
      assert.match(answer.head, /\r\nconnection: close\r\n/);
    });
  });

  /**
   * Without `drainMs`, close() closes idle keep-alive connections at once, so a request reaches the
   * server on an open connection during shutdown only when its bytes had begun to arrive before:
   * these tests send a request's headers up to the last line before close(), and the blank line that
   * completes them after.
   */
  describe(`requests on open keep-alive connections while close() waits (${backend})`, () => {
    let server: TestServer;
    let slow: Awaited<ReturnType<typeof startSlowPost>>;
    let answered: ReturnType<Awaited<ReturnType<typeof startSlowPost>>['finish']> | undefined;
    let closing: Promise<void>;
    let ready: Awaited<ReturnType<typeof openConnection>>;
    let list: Awaited<ReturnType<typeof openConnection>>;
    let create: Awaited<ReturnType<typeof openConnection>>;
    let idle: Awaited<ReturnType<typeof openConnection>>;

    before(async () => {
      server = await startTestServer(await blogModel(), backend);
      const { host } = new URL(server.url);
      ready = await openConnection(server.url);
      list = await openConnection(server.url);
      create = await openConnection(server.url);
      idle = await openConnection(server.url);
      for (const connection of [ready, list, create, idle]) {
        connection.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        const first = await connection.next();
        assert.deepEqual([first.status, first.headers.connection], [200, 'keep-alive']);
      }
      slow = await startSlowPost(server.url, '/v1/tags', JSON.stringify({ name: 'in-flight' }));
      ready.write(`GET /readyz HTTP/1.1\r\nHost: ${host}\r\n`);
      list.write(`GET /v1/tags HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\n`);
      const body = JSON.stringify({ name: 'during-shutdown' });
      create.write(`POST /v1/tags HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`);
      await new Promise((r) => setTimeout(r, 100)); // let the server read those bytes
      closing = server.kiln.close({ keepDatabase: true });
      ready.write('\r\n');
      list.write('\r\n');
      create.write(`\r\n${body}`);
    });
    after(async () => {
      await (answered ?? slow.finish());
      await closing;
      await server.close();
    });

    test('GET /readyz is 503 KILN_SHUTTING_DOWN with Connection: close, and the connection is closed', async () => {
      expectShuttingDown(await ready.next());
      assert.equal(await ready.closedWithin(2000), true);
    });

    test('an API request is 503 KILN_SHUTTING_DOWN with Connection: close and does not run', async () => {
      expectShuttingDown(await list.next());
      expectShuttingDown(await create.next());
      assert.equal(await list.closedWithin(2000), true);
      assert.equal(await create.closedWithin(2000), true);
      const rows = await server.db.query(`SELECT "id" FROM "tags" WHERE "name" = 'during-shutdown'`);
      assert.deepEqual(rows, []);
    });

    test('an idle keep-alive connection is closed without an answer', async () => {
      assert.equal(await idle.closedWithin(2000), true);
      await assert.rejects(idle.next(), /^Error: the connection closed; received: $/);
    });

    test('the request in flight is still answered, with Connection: close', async () => {
      answered = slow.finish();
      const answer = await answered;
      assert.deepEqual([answer.status, answer.json.data.name], [201, 'in-flight']);
      assert.match(answer.head, /\r\nconnection: close\r\n/);
      await closing;
      const logged = server.logs.filter((l) => l.msg === 'request').map((l) => `${l.method} ${l.path} ${l.status}`);
      assert.deepEqual(logged.filter((l) => !l.startsWith('GET /healthz')).sort(), [
        'GET /readyz 503',
        'GET /v1/tags 503',
        'POST /v1/tags 201',
        'POST /v1/tags 503',
      ]);
    });
  });

  describe(`close({ drainMs }): idle keep-alive connections may bring one more request (${backend})`, () => {
    const DRAIN_MS = 4000;
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend);
    });
    after(() => server.close());

    test('it is answered 503 with Connection: close; idle ones are closed after the window; in-flight ones finish', async () => {
      const { host } = new URL(server.url);
      const [list, badUrl, idle] = [await openConnection(server.url), await openConnection(server.url), await openConnection(server.url)];
      for (const connection of [list, badUrl, idle]) {
        connection.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        assert.equal((await connection.next()).headers.connection, 'keep-alive');
      }
      const slow = await startSlowPost(server.url, '/v1/tags', JSON.stringify({ name: 'in-flight' }));
      const started = Date.now();
      let closed = false;
      const closing = server.kiln.close({ keepDatabase: true, drainMs: DRAIN_MS }).then(() => {
        closed = true;
      });
      await waitUntilRefused(server.url);

      list.write(`GET /v1/tags HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\n\r\n`);
      expectShuttingDown(await list.next());
      // A URL the router cannot decode is answered before any hook: it passes the shutdown gate too.
      badUrl.write(`GET /v1/posts/%zz HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      expectShuttingDown(await badUrl.next());
      assert.deepEqual([await list.closedWithin(2000), await badUrl.closedWithin(2000)], [true, true]);

      if (Date.now() - started < DRAIN_MS - 1000) assert.equal(await idle.closedWithin(200), false, 'an idle connection stays open for the window');
      assert.equal(await idle.closedWithin(DRAIN_MS + 5000), true, 'and is closed after it, without an answer');
      await assert.rejects(idle.next(), /^Error: the connection closed; received: $/);
      assert.equal(closed, false, 'close() waits for the request in flight');

      const answer = await slow.finish();
      assert.deepEqual([answer.status, answer.json.data.name], [201, 'in-flight']);
      assert.match(answer.head, /\r\nconnection: close\r\n/);
      await closing;
      const logged = server.logs.filter((l) => l.msg === 'request' && l.path !== '/healthz').map((l) => `${l.method} ${l.path} ${l.status}`);
      assert.deepEqual(logged.sort(), ['GET /v1/posts/%zz 503', 'GET /v1/tags 503', 'POST /v1/tags 201']);
    });
  });
}
