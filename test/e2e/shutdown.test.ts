import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BLOG_MODEL_PATH, blogModel } from '../helpers/blog.js';
import { BACKENDS, createTestDatabase, startTestServer, TEST_DATABASE_URL, type TestDatabase, type TestServer } from '../helpers/server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_CLI = "const m = await import('./src/cli/main.ts'); process.exitCode = await m.main(process.argv.slice(1));";

/**
 * A POST whose headers the server has read (it answered `100 Continue`) but whose body is still to
 * come: a request that is in flight for as long as the test wants.
 */
async function startSlowPost(url: string, path: string, body: string): Promise<{ finish(): Promise<{ status: number; head: string; json: any }> }> {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (d) => {
    received += d;
  });
  const closed = once(socket, 'close');
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
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

interface Cli {
  child: ChildProcess;
  url: string;
  stdout(): string;
  exit: Promise<number | null>;
}

/** Runs `kiln serve --migrate` on the blog model in a child process and waits for its banner. */
async function spawnServe(env: Record<string, string>): Promise<Cli> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', RUN_CLI, '--', 'serve', '--migrate', '--model', BLOG_MODEL_PATH], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', HOST: '127.0.0.1', PORT: '0', KILN_DATA_DIR: 'memory', KILN_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  for (let waited = 0; !err.includes('Press Ctrl+C to stop.'); waited += 50) {
    if (child.exitCode !== null || waited > 120_000) throw new Error(`kiln serve did not start:\n${err}\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(err)?.[1];
  assert.ok(url, err);
  return { child, url, stdout: () => out, exit };
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
        const single = await startSlowPost(cli.url, '/v1/tags', JSON.stringify({ name: 'in-flight' }));
        const bulk = await startSlowPost(cli.url, '/v1/tags/bulk', JSON.stringify(tags));

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

    test('past KILN_SHUTDOWN_TIMEOUT_MS the process exits 1 instead of hanging on a stuck request', async () => {
      const cli = await spawnServe(await envFor({ KILN_SHUTDOWN_TIMEOUT_MS: '300' }));
      await startSlowPost(cli.url, '/v1/tags', JSON.stringify({ name: 'never-finished' }));
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
}
