/**
 * SIGTERM under load, on the local PostgreSQL, for one process and for `--workers 2`: clients keep
 * creating tags, each on a connection of its own, while the process is told to stop. Every request
 * the server accepted is answered, and the client gets that answer: 201, or 503 KILN_SHUTTING_DOWN
 * problem+json for one read after the signal. One it never accepted (the listener had closed, or the
 * connection still waited in its backlog then) is refused or reset, and wrote nothing. Afterwards the
 * database holds exactly the tags answered 201: none lost, none made by an unanswered request.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, describe, test } from 'node:test';
import { as } from '../helpers/callers.js';
import { spawnServe } from '../helpers/serve-process.js';
import { BACKENDS, createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/server.js';

const EDITOR = as(1, ['editor']);
/** Clients sending at once, each waiting for its answer before the next request. */
const CLIENTS = 16;
/** How long the load runs before the signal, and the bound on how long the test waits after it. */
const LOAD_MS = 1500;

/** What became of one request, named by its tag's name (also its X-Request-Id). */
type Outcome = ({ kind: 'answer'; status: number; code?: string } | { kind: 'error'; code: string }) & { name: string };

/** POST /v1/tags on a new connection (Connection: close): its fate is that of this one request. */
function createTag(url: string, name: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ name });
    const req = request(
      `${url}/v1/tags`,
      {
        method: 'POST',
        agent: false,
        headers: { ...EDITOR, 'x-request-id': name, 'content-type': 'application/json', connection: 'close', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const code = status === 201 ? undefined : (JSON.parse(text) as { code?: string }).code;
          resolve({ kind: 'answer', status, ...(code !== undefined && { code }), name });
        });
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ kind: 'error', code: error.code ?? error.message, name }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ kind: 'error', code: error.code ?? error.message, name }));
    req.end(body);
  });
}

describe('SIGTERM under load (postgres)', { skip: !BACKENDS.includes('postgres') }, () => {
  const databases: TestDatabase[] = [];
  after(async () => {
    for (const database of databases) await database.dispose();
  });

  for (const workers of [1, 2]) {
    test(`${workers === 1 ? 'one process' : '--workers 2'}: every request is answered or refused, and exactly the answered creates are kept`, async () => {
      const database = await createTestDatabase('postgres');
      databases.push(database);
      const serve = await spawnServe(
        { DATABASE_URL: TEST_DATABASE_URL, KILN_DB_SCHEMA: database.schema, KILN_LOG_FORMAT: 'json' },
        workers === 1 ? [] : ['--workers', '2'],
      );
      if (workers > 1) {
        for (let waited = 0; !/2 workers listening/.test(serve.stderr()); waited += 50) {
          assert.ok(waited < 60_000, serve.stderr());
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      const outcomes: Outcome[] = [];
      let exited = false;
      void serve.exit.then(() => {
        exited = true;
      });
      let sequence = 0;
      // Each client sends until its connection is refused (the listener closed) or the process is gone.
      const client = async (n: number) => {
        while (!exited) {
          const outcome = await createTag(serve.url, `load-${n}-${sequence++}`);
          outcomes.push(outcome);
          if (outcome.kind === 'error') return;
        }
      };
      const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
      await new Promise((r) => setTimeout(r, LOAD_MS));
      serve.child.kill('SIGTERM');
      await Promise.all(clients);
      assert.equal(await serve.exit, 0, serve.stderr());

      const created = outcomes.filter((o) => o.kind === 'answer' && o.status === 201);
      assert.ok(created.length > CLIENTS, `the load ran: ${created.length} tags created`);
      // What the server says it answered, from its request log lines (one JSON line per request).
      const answered = new Map<string, number>();
      for (const line of serve.stdout().split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; reqId?: string; status?: number };
        if (entry.msg === 'request' && entry.reqId?.startsWith('load-')) answered.set(entry.reqId, entry.status as number);
      }
      assert.ok(answered.size >= created.length, 'the server logged every request it answered');
      for (const outcome of outcomes) {
        const status = answered.get(outcome.name);
        if (status === undefined) {
          // Never accepted by the server: the listener had closed, or the connection waited in its backlog then.
          assert.ok(outcome.kind === 'error' && ['ECONNREFUSED', 'ECONNRESET'].includes(outcome.code), JSON.stringify(outcome));
        } else {
          // Accepted: the client got the answer the server gave, 201 or a deliberate 503.
          assert.ok(outcome.kind === 'answer' && outcome.status === status, `${JSON.stringify(outcome)}: the server answered ${status}`);
          assert.ok(status === 201 || (status === 503 && outcome.code === 'KILN_SHUTTING_DOWN'), JSON.stringify(outcome));
        }
      }

      const kept = await database.db.query<{ name: string }>(`SELECT "name" FROM "${database.schema}"."tags" WHERE "name" LIKE 'load-%'`);
      assert.deepEqual(kept.map((r) => r.name).sort(), created.map((o) => o.name).sort(), 'the database holds exactly the tags answered 201');
    });
  }
});
