/**
 * A duplicate Idempotency-Key that arrives while the first request is still running is answered at
 * once, without holding a pooled connection while it waits: the first request is held inside its
 * transaction by a table lock this test takes, and while it is held, the duplicates are answered 409
 * and an unrelated read is served, on a pool of three connections. PostgreSQL only: PGlite has one
 * session, so no other session can hold a lock.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, TEST_DATABASE_URL, type TestServer } from '../helpers/server.js';

for (const backend of BACKENDS) {
  const skip = backend === 'pglite' ? 'PGlite has a single session: no other session can hold the first request' : false;
  describe(`Idempotency-Key duplicates in flight (${backend})`, { skip }, () => {
    let server: TestServer;
    let locker: pg.Client;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, { dbPoolMax: 3 });
      locker = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await locker.connect();
      await locker.query(`SET search_path TO "${server.schema}"`);
    });
    after(async () => {
      await locker.end().catch(() => {});
      await server.close();
    });

    const post = (json: unknown, key: string) => server.fetch('/v1/tags', { method: 'POST', json, headers: { 'idempotency-key': key } });

    test('twelve duplicates answer 409 at once and an unrelated read is served while the first still runs', async () => {
      const key = randomUUID();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE "tags" IN ACCESS EXCLUSIVE MODE');
      const first = post({ name: 'held' }, key);
      // The first request has claimed the key and waits on the table lock.
      for (let i = 0; i < 100; i++) {
        const { rows } = await locker.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted`);
        if (rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const duplicates = await Promise.all(Array.from({ length: 12 }, () => post({ name: 'held' }, key)));
      for (const res of duplicates) await expectProblem(res, 409, 'KILN_IDEMPOTENCY_IN_PROGRESS');
      const unrelated = await server.fetch('/v1/users');
      assert.equal(unrelated.status, 200, 'a read is served while the first request still holds its connection');
      await locker.query('COMMIT');
      const done = await first;
      assert.equal(done.status, 201);
      const replay = await post({ name: 'held' }, key);
      assert.equal(replay.status, 201);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    });
  });
}
