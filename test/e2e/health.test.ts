import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import { openPostgres } from '../../src/db/postgres.js';
import { type RunningKiln, startKiln } from '../../src/start.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, createTestDatabase, startTestServer, TEST_DATABASE_URL, type TestDatabase, type TestServer } from '../helpers/server.js';

/**
 * A TCP proxy in front of PostgreSQL that can be cut: cutting closes every connection through it and
 * refuses new ones, as a database that went away (a restart, a failover, a network fault) does.
 */
class CuttableProxy {
  readonly #server = createServer((client) => this.#accept(client));
  readonly #sockets = new Set<Socket>();
  #target: URL | undefined;
  #up = true;

  /** Starts the proxy in front of `target`; returns the URL to connect through it. */
  async listen(target: URL): Promise<URL> {
    this.#target = target;
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    const url = new URL(target.href);
    url.port = String((this.#server.address() as AddressInfo).port);
    return url;
  }

  cut(): void {
    this.#up = false;
    for (const socket of this.#sockets) socket.destroy();
  }
  restore(): void {
    this.#up = true;
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise((done) => this.#server.close(done));
  }

  #accept(client: Socket): void {
    if (!this.#up || !this.#target) {
      client.destroy();
      return;
    }
    const upstream = createConnection(Number(this.#target.port || 5432), this.#target.hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.#sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.#sockets.delete(a);
        b.destroy();
      });
    }
  }
}

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

    test('/readyz is 503 KILN_DATABASE_UNAVAILABLE with Retry-After while the database is unreachable; /healthz stays 200', async () => {
      server.db.ping = () => dead.ping();
      try {
        const res = await server.fetch('/readyz');
        assert.equal(res.headers.get('retry-after'), '2');
        const problem = await expectProblem(res, 503, 'KILN_DATABASE_UNAVAILABLE');
        assert.equal(problem.detail, 'the database did not answer');
        assert.equal(problem.title, 'Database unavailable');
        const logged = server.logs.find((l) => l.reqId === problem.instance && l.msg === 'KILN_DATABASE_UNAVAILABLE');
        assert.deepEqual(logged?.fault, 'KILN_DATABASE_UNAVAILABLE ECONNREFUSED', 'the cause is logged, once');
        assert.match(JSON.stringify(logged?.cause), /ECONNREFUSED/);
        // A load balancer probing every second must not write a line per probe.
        const again = await expectProblem(await server.fetch('/readyz'), 503, 'KILN_DATABASE_UNAVAILABLE');
        assert.equal(
          server.logs.some((l) => l.reqId === again.instance && l.level === 50),
          false,
          'a repeat is counted, not logged',
        );
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

for (const backend of BACKENDS) {
  const skip = backend === 'pglite' ? 'PGlite runs inside the process: the database cannot go away on its own' : false;
  describe(`readiness through a real database outage (${backend})`, { skip }, () => {
    const proxy = new CuttableProxy();
    let database: TestDatabase;
    let kiln: RunningKiln;
    const logs: Record<string, any>[] = [];
    const get = (path: string) => fetch(`${kiln.url}${path}`, { headers: { accept: 'application/json' } });

    before(async () => {
      database = await createTestDatabase('postgres');
      const url = await proxy.listen(new URL(TEST_DATABASE_URL));
      const db = openPostgres({ url: url.href, schema: database.schema, poolMax: 4, connectTimeoutMs: 2000, idleTimeoutMs: 10000, statementTimeoutMs: 5000 });
      const logStream = new Writable({
        write(chunk, _enc, done) {
          for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
          done();
        },
      });
      const settings = { ...resolveSettings({}), host: '127.0.0.1', port: 0, logLevel: 'info', dbSchema: database.schema };
      kiln = await startKiln({ model: await blogModel(), settings, db, logStream });
    });
    after(async () => {
      await kiln?.close();
      await proxy.close();
      await database?.dispose();
    });

    test('/readyz answers 503 with Retry-After for as long as the database is away, and 200 after, without a restart', async () => {
      assert.equal((await get('/readyz')).status, 200);
      assert.equal((await get('/v1/tags')).status, 200);

      proxy.cut();
      for (let probe = 0; probe < 3; probe++) {
        const res = await get('/readyz');
        assert.equal(res.headers.get('retry-after'), '2');
        const problem = await expectProblem(res, 503, 'KILN_DATABASE_UNAVAILABLE');
        assert.equal(problem.detail, 'the database did not answer');
      }
      const read = await get('/v1/tags');
      assert.equal(read.headers.get('retry-after'), '2');
      assert.equal((await expectProblem(read, 503, 'KILN_DATABASE_UNAVAILABLE')).detail, 'the database cannot be reached right now');
      assert.equal((await get('/healthz')).status, 200, 'the process itself is fine');

      proxy.restore();
      let ready: Response | undefined;
      for (let i = 0; i < 50 && ready?.status !== 200; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 100));
        ready = await get('/readyz');
      }
      assert.equal(ready?.status, 200);
      assert.deepEqual(await ready?.json(), { status: 'ready' });
      const created = await fetch(`${kiln.url}/v1/tags`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'after the outage' }),
      });
      assert.equal(created.status, 201);

      const probes = logs.filter((l) => l.msg === 'request' && l.path === '/readyz' && l.status === 503).length;
      const lines = logs.filter((l) => l.level >= 50 && String(l.fault).startsWith('KILN_DATABASE_UNAVAILABLE'));
      assert.equal(probes, 3);
      assert.deepEqual(
        lines.map((l) => l.fault),
        [...new Set(lines.map((l) => l.fault))],
        'each cause is logged once, not once per failed request',
      );
    });
  });
}
