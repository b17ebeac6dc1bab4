import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

const model = compileOrThrow('statement-timeout', { resources: { items: { fields: { name: { type: 'string' } } } } });

const TIMEOUT_MS = 300;

for (const backend of BACKENDS) {
  // PostgreSQL only: PGlite runs one session in-process, with no statement_timeout (no timer can
  // cancel a running statement) and no second connection whose lock could make a statement wait.
  const skip = backend === 'pglite' ? 'PGlite has no statement_timeout and no concurrent sessions' : false;

  describe(`statement timeout (${backend})`, { skip }, () => {
    let server: TestServer;
    let ids: number[];

    before(async () => {
      server = await startTestServer(model, backend, { dbStatementTimeoutMs: TIMEOUT_MS });
      ids = [];
      for (const name of ['first', 'second']) {
        const res = await server.fetch('/v1/items', { method: 'POST', json: { name } });
        assert.equal(res.status, 201);
        ids.push((await res.json()).data.id);
      }
    });
    after(() => server?.close());

    /**
     * Runs `sql` in a transaction of its own (another pooled connection) and keeps it open, so its
     * locks make the server's statements wait; the returned function ends it.
     */
    const holding = async (sql: string, values?: unknown[]): Promise<() => Promise<void>> => {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let taken = () => {};
      const locked = new Promise<void>((resolve) => {
        taken = resolve;
      });
      const done = server.db.transaction(async (tx) => {
        await tx.query(sql, values);
        taken();
        await released;
      });
      await Promise.race([locked, done]);
      return async () => {
        release();
        await done;
      };
    };

    /** Asserts the exact 503 KILN_DATABASE_TIMEOUT problem, answered once the timeout ran out, with its cause logged. */
    const expectTimeout = async (path: string, init: RequestInit & { json?: unknown } = {}) => {
      const started = performance.now();
      const res = await server.fetch(path, init);
      const elapsed = performance.now() - started;
      const problem = await expectProblem(res, 503, 'KILN_DATABASE_TIMEOUT');
      assert.deepEqual(problem, {
        type: 'https://kiln.dev/errors/KILN_DATABASE_TIMEOUT',
        title: 'Database statement timed out',
        status: 503,
        detail: 'the database statement took longer than the configured statement timeout',
        code: 'KILN_DATABASE_TIMEOUT',
        instance: problem.instance,
      });
      assert.ok(elapsed >= TIMEOUT_MS - 20 && elapsed < 5000, `answered after ${Math.round(elapsed)} ms`);
      assert.equal(res.headers.get('retry-after'), '5');
      // Logged once per cause (the fault log counts the repeats), so the line may be an earlier request's.
      const logged = server.logs.find((l) => l.fault === 'KILN_DATABASE_TIMEOUT 57014');
      assert.equal(logged?.level, 50);
      assert.equal((logged?.cause as { code?: string } | undefined)?.code, '57014', 'the cause (query_canceled) is logged');
    };

    test('a read that waits on a table lock past the timeout is 503 KILN_DATABASE_TIMEOUT', async () => {
      const release = await holding('LOCK TABLE "items" IN ACCESS EXCLUSIVE MODE');
      try {
        await expectTimeout('/v1/items');
        await expectTimeout(`/v1/items/${ids[0]}`);
        await expectTimeout('/v1/items?name[icontains]=fir&count=true');
      } finally {
        await release();
      }
      const res = await server.fetch('/v1/items?sort=id');
      assert.equal(res.status, 200, 'the pool recovers once the lock is gone');
      assert.deepEqual(
        (await res.json()).data.map((i: { name: string }) => i.name),
        ['first', 'second'],
      );
    });

    test('a write that waits on a row lock past the timeout is 503 and changes nothing', async () => {
      const release = await holding('SELECT 1 FROM "items" WHERE "id" = $1 FOR UPDATE', [ids[0]]);
      try {
        await expectTimeout(`/v1/items/${ids[0]}`, { method: 'PATCH', json: { name: 'changed' } });
        await expectTimeout(`/v1/items/${ids[0]}`, { method: 'PUT', json: { name: 'changed' } });
        await expectTimeout(`/v1/items/${ids[0]}`, { method: 'DELETE' });
        const other = await server.fetch(`/v1/items/${ids[1]}`, { method: 'PATCH', json: { name: 'second' } });
        assert.equal(other.status, 200, 'a row nobody locked is written at once');
        assert.equal((await server.fetch(`/v1/items/${ids[0]}`)).status, 200, 'reads do not wait on row locks');
      } finally {
        await release();
      }
      assert.equal((await (await server.fetch(`/v1/items/${ids[0]}`)).json()).data.name, 'first');
    });

    test('a create that timed out does not burn its Idempotency-Key', async () => {
      const key = randomUUID();
      const init = { method: 'POST', json: { name: 'retried' }, headers: { 'idempotency-key': key } };
      const release = await holding('LOCK TABLE "items" IN EXCLUSIVE MODE');
      try {
        await expectTimeout('/v1/items', init);
      } finally {
        await release();
      }
      const retry = await server.fetch('/v1/items', init);
      assert.equal(retry.status, 201);
      assert.equal(retry.headers.get('idempotent-replayed'), null);
      const again = await server.fetch('/v1/items', init);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal((await (await server.fetch('/v1/items?name=retried')).json()).data.length, 1);
    });
  });
}
