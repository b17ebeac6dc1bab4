import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { isConnectionFailure } from '../../src/db/connection-errors.js';
import type { Database, Queryable } from '../../src/db/database.js';
import { openPostgres } from '../../src/db/postgres.js';
import { as } from '../helpers/callers.js';
import { type ServeProcess, spawnServe } from '../helpers/serve-process.js';
import { BACKENDS, createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/server.js';

/**
 * PostgreSQL connections killed under load (pg_terminate_backend, as a restart or a failover does):
 * Kiln runs as a child process, so a crash shows as a dead process rather than a dead test runner.
 */

const WORKERS_PER_KIND = 5;
/** Kill bursts: every KILL_EVERY_MS for BURST_MS, BURSTS times, CALM_MS apart. Each burst is a short outage. */
const BURSTS = 4;
const BURST_MS = 600;
const KILL_EVERY_MS = 30;
const CALM_MS = 400;
const TAGS = 3;

type Kiln = ServeProcess;

/** `kiln serve --migrate` on the blog model, with its pool named `appName` in pg_stat_activity. */
function spawnKiln(schema: string, appName: string): Promise<Kiln> {
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('application_name', appName);
  return spawnServe({ DATABASE_URL: url.href, KILN_DB_SCHEMA: schema });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The blog's rules let only signed-in callers write, and only editors create tags: every request is
 * an admin's, the account the setup creates (a post's author is whoever creates it).
 */
let signedIn: Record<string, string> = as(1, ['admin']);

interface Answer {
  readonly status: number | 'reset';
  readonly headers: Headers;
  readonly json: any;
  readonly error?: string;
}

/** One request; a network error (reset, refused, hang past 20 s) is an answer of its own kind, not a throw. */
async function call(base: string, method: string, path: string, json?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { accept: 'application/json', ...signedIn, ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  } catch (error) {
    await sleep(20); // a dead server refuses at once: do not spin
    return { status: 'reset', headers: new Headers(), json: undefined, error: String((error as Error).cause ?? error) };
  }
}

/** Why an answer is not one a database outage may give (2xx, or 503 problem+json with Retry-After), or undefined. */
function unexpected(what: string, answer: Answer): string | undefined {
  if (typeof answer.status === 'number' && answer.status >= 200 && answer.status < 300) return undefined;
  const problem = answer.json as { code?: string; status?: number } | undefined;
  if (
    answer.status === 503 &&
    /^application\/problem\+json/.test(answer.headers.get('content-type') ?? '') &&
    /^\d+$/.test(answer.headers.get('retry-after') ?? '') &&
    problem?.status === 503 &&
    (problem.code === 'KILN_DATABASE_UNAVAILABLE' || problem.code === 'KILN_DATABASE_TIMEOUT')
  ) {
    return undefined;
  }
  return `${what}: ${answer.status} retry-after=${answer.headers.get('retry-after')} ${answer.error ?? JSON.stringify(answer.json)}`;
}

for (const backend of BACKENDS) {
  const skip = backend === 'pglite' ? 'PGlite runs inside the Kiln process: it has no connections to kill' : false;
  describe(`database connections killed under load (${backend})`, { skip }, () => {
    const appName = `kiln-faults-${randomBytes(4).toString('hex')}`;
    let database: TestDatabase;
    let kiln: Kiln;
    let tagIds: number[];
    /** Idempotency-Key → the body sent with it and the status of its first answer. */
    const idempotent = new Map<string, { body: Record<string, unknown>; status: number | 'reset' }>();
    /** Titles of posts with tags that were answered 201. */
    const linkedCreated: string[] = [];
    const answers: { what: string; answer: Answer }[] = [];
    let terminated = 0;

    before(async () => {
      database = await createTestDatabase('postgres');
      kiln = await spawnKiln(database.schema, appName);
      const created = async (path: string, body: Record<string, unknown>): Promise<number> => {
        const answer = await call(kiln.url, 'POST', path, body);
        assert.equal(answer.status, 201, `setup: POST ${path}: ${answer.error ?? JSON.stringify(answer.json)}`);
        return answer.json.data.id;
      };
      signedIn = as(await created('/v1/users', { email: 'faults@example.com', name: 'Faults' }), ['admin']);
      tagIds = [];
      for (let i = 0; i < TAGS; i++) tagIds.push(await created('/v1/tags', { name: `tag-${i}` }));
      // One post per If-Match worker, so those writes never race each other: a 412 would be a real failure.
      const matchIds: number[] = [];
      for (let w = 0; w < WORKERS_PER_KIND; w++) matchIds.push(await created('/v1/posts', { title: `match-${w}`, tags: [] }));

      let running = true;
      const record = (what: string, answer: Answer) => {
        answers.push({ what, answer });
        return answer;
      };
      const idempotentCreates = async (worker: number) => {
        for (let n = 0; running; n++) {
          const key = `w${worker}-${n}`;
          const body = { title: `idem-${key}`, tags: [tagIds[0]] };
          const answer = record('idempotent create', await call(kiln.url, 'POST', '/v1/posts', body, { 'idempotency-key': key }));
          idempotent.set(key, { body, status: answer.status });
        }
      };
      const linkedCreates = async (worker: number) => {
        for (let n = 0; running; n++) {
          const title = `linked-w${worker}-${n}`;
          const answer = record('create with tags', await call(kiln.url, 'POST', '/v1/posts', { title, tags: tagIds }));
          if (answer.status === 201) linkedCreated.push(title);
        }
      };
      const conditionalWrites = async (worker: number) => {
        const id = matchIds[worker];
        for (let n = 0; running; n++) {
          const read = record('read for If-Match', await call(kiln.url, 'GET', `/v1/posts/${id}`));
          const etag = read.headers.get('etag');
          if (read.status !== 200 || !etag) continue;
          record('If-Match write', await call(kiln.url, 'PATCH', `/v1/posts/${id}`, { body: `revision ${n}` }, { 'if-match': etag }));
        }
      };
      const readiness = async () => {
        while (running) {
          record('readyz', await call(kiln.url, 'GET', '/readyz'));
          await sleep(50);
        }
      };
      const workers = [readiness()];
      for (let w = 0; w < WORKERS_PER_KIND; w++) workers.push(idempotentCreates(w), linkedCreates(w), conditionalWrites(w));

      await sleep(300);
      for (let burst = 0; burst < BURSTS; burst++) {
        for (const end = Date.now() + BURST_MS; Date.now() < end; ) {
          const rows = await database.db.query<{ killed: boolean }>(
            'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1',
            [appName],
          );
          terminated += rows.filter((r) => r.killed).length;
          await sleep(KILL_EVERY_MS);
        }
        await sleep(CALM_MS);
      }
      running = false;
      await Promise.all(workers);
    });

    after(async () => {
      if (kiln && kiln.child.exitCode === null && kiln.child.signalCode === null) {
        kiln.child.kill('SIGKILL');
        await kiln.exit;
      }
      await database?.dispose();
    });

    test('the process lives, and every answer was 2xx or 503 problem+json with Retry-After (no 500, no reset)', () => {
      assert.ok(terminated > 0, 'the test killed some of the server’s connections');
      assert.equal(kiln.child.exitCode, null, `the process exited:\n${kiln.stderr().slice(-3000)}`);
      assert.equal(kiln.child.signalCode, null);
      const wrong = answers.map(({ what, answer }) => unexpected(what, answer)).filter((w) => w !== undefined);
      assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${answers.length} answers were neither 2xx nor a 503 with Retry-After`);
      const failed = answers.filter((a) => a.answer.status === 503);
      assert.ok(failed.length > 0, `the kills hit requests in flight (${answers.length} answers, ${terminated} backends terminated)`);
      const kinds = new Set(failed.map((a) => a.what));
      assert.ok(kinds.has('idempotent create') || kinds.has('create with tags') || kinds.has('If-Match write'), [...kinds].join(', '));
    });

    test('it recovers by itself: /readyz and the API answer normally again, without a restart', async () => {
      let ready: Answer | undefined;
      for (let i = 0; i < 100 && ready?.status !== 200; i++) {
        ready = await call(kiln.url, 'GET', '/readyz');
        if (ready.status !== 200) await sleep(100);
      }
      assert.equal(ready?.status, 200, JSON.stringify(ready?.json));
      assert.deepEqual(ready?.json, { status: 'ready' });
      const created = await call(kiln.url, 'POST', '/v1/posts', { title: 'after the outage', tags: tagIds });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const links = await database.db.query('SELECT "tags_id" FROM "posts_tags" WHERE "posts_id" = $1', [created.json.data.id]);
      assert.equal(links.length, TAGS);
      assert.equal((await call(kiln.url, 'GET', '/v1/posts?limit=1')).status, 200);
    });

    test('every post created with tags has all its tags, never some', async () => {
      const rows = await database.db.query<{ title: string; tags: number }>(
        `SELECT p."title", count(pt."tags_id")::int AS "tags" FROM "posts" p LEFT JOIN "posts_tags" pt ON pt."posts_id" = p."id"
         WHERE p."title" LIKE 'linked-%' OR p."title" LIKE 'idem-%' GROUP BY p."id", p."title"`,
      );
      assert.ok(linkedCreated.length > 0);
      assert.deepEqual(
        rows.filter((r) => r.tags !== (r.title.startsWith('linked-') ? TAGS : 1)),
        [],
        'a post with fewer tags than sent',
      );
      const stored = new Set(rows.map((r) => r.title));
      assert.deepEqual(
        linkedCreated.filter((t) => !stored.has(t)),
        [],
        'a post answered 201 is stored',
      );
    });

    test('retrying each failed idempotent create with the same key and body yields exactly one row per key', async () => {
      const failed = [...idempotent].filter(([, v]) => v.status !== 201);
      assert.ok(failed.length > 0, 'some idempotent creates failed during the kills');
      for (const [key, { body }] of failed) {
        let retry: Answer | undefined;
        for (let attempt = 0; attempt < 20 && retry?.status !== 201; attempt++) {
          if (attempt > 0) await sleep(100);
          retry = await call(kiln.url, 'POST', '/v1/posts', body, { 'idempotency-key': key });
        }
        assert.equal(retry?.status, 201, `${key}: ${JSON.stringify(retry?.json)}`);
        assert.equal(retry?.json.data.title, body.title);
      }
      const rows = await database.db.query<{ title: string; n: number }>(
        `SELECT "title", count(*)::int AS "n" FROM "posts" WHERE "title" LIKE 'idem-%' GROUP BY "title"`,
      );
      const counts = new Map(rows.map((r) => [r.title, r.n]));
      const notOne = [...idempotent.keys()].map((key) => [key, counts.get(`idem-${key}`) ?? 0] as const).filter(([, n]) => n !== 1);
      assert.deepEqual(notOne, [], 'rows per key');
      assert.equal(rows.length, idempotent.size, 'no row without a key');
    });

    test('the outage is logged once per cause with counts: far fewer error lines than failed requests, no stacks', async (t) => {
      kiln.child.kill('SIGTERM');
      assert.equal(await kiln.exit, 0);
      const lines = kiln
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, any>);
      const failedRequests = lines.filter((l) => l.msg === 'request' && l.status >= 500);
      const errorLines = lines.filter((l) => l.level >= 50);
      t.diagnostic(
        `${failedRequests.length} failed requests, ${errorLines.length} error lines: ${errorLines.map((l) => `${l.fault}×${l.repeats ?? 1}`).join(', ')}`,
      );
      assert.ok(failedRequests.length > 0);
      assert.deepEqual(
        errorLines.filter((l) => typeof l.fault !== 'string'),
        [],
        'every error line comes from the fault log',
      );
      assert.deepEqual(
        errorLines.filter((l) => l.err?.stack !== undefined),
        [],
        'no stacks for an outage',
      );
      // Every failed request is accounted for: logged in full once, or counted in a "(repeated)" line.
      const accounted = errorLines.filter((l) => l.fault.startsWith('KILN_')).reduce((sum, l) => sum + (l.repeats ?? 1), 0);
      assert.equal(accounted, failedRequests.length);
      assert.ok(
        errorLines.length * 3 <= failedRequests.length,
        `${errorLines.length} error lines for ${failedRequests.length} failed requests:\n${errorLines.map((l) => `${l.msg} ${l.fault} ${l.repeats ?? ''}`).join('\n')}`,
      );
      const first = errorLines.find((l) => l.fault === 'KILN_DATABASE_UNAVAILABLE 57P01');
      assert.equal(first?.cause?.code, '57P01', 'the cause (admin_shutdown) is named');
      assert.equal(typeof first?.reqId, 'string', 'under the id of the first request it failed');
    });
  });
}

/** Rejections a dead connection may give, depending on whether its FATAL or its closed socket came first. */
async function expectConnectionFailure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => assert.fail('resolved, though its connection was killed'),
    (e: Error) => e,
  );
  assert.ok(isConnectionFailure(error), `a connection failure (503), not: ${error.message}`);
  return error;
}

for (const backend of BACKENDS) {
  const skip = backend === 'pglite' ? 'PGlite runs inside the process: it has no connections to kill' : false;
  describe(`the PostgreSQL driver when a connection is killed (${backend})`, { skip }, () => {
    const appName = `kiln-driver-${randomBytes(4).toString('hex')}`;
    let admin: TestDatabase;
    let db: Database;
    const kill = () => admin.db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [appName]);

    before(async () => {
      admin = await createTestDatabase('postgres');
      const url = new URL(TEST_DATABASE_URL);
      url.searchParams.set('application_name', appName);
      db = openPostgres({ url: url.href, schema: admin.schema, poolMax: 3, connectTimeoutMs: 5000, idleTimeoutMs: 10000, statementTimeoutMs: 10000 });
    });
    after(async () => {
      await db?.close();
      await admin?.dispose();
    });

    test('a transaction whose connection dies between statements fails with the cause; the pool serves the next one', async () => {
      await expectConnectionFailure(
        db.transaction(async (tx) => {
          await tx.query('SELECT 1');
          await kill();
          await sleep(100); // the FATAL arrives while no statement runs: an 'error' event on the checked-out client
          await tx.query('SELECT 2');
        }),
      );
      assert.deepEqual(await db.query('SELECT 3 AS "x"'), [{ x: 3 }]);
      assert.deepEqual(await db.transaction((tx) => tx.query('SELECT 4 AS "x"')), [{ x: 4 }]);
    });

    test('a statement in flight when its connection dies fails with 57P01 at once', async () => {
      const started = performance.now();
      const error = await expectConnectionFailure(
        db.transaction(async (tx) => {
          const sleeping = tx.query('SELECT pg_sleep(5)');
          // It fails while kill() is still awaited, before `await sleeping` below: handled from the start, it is not an unhandled rejection.
          sleeping.catch(() => {});
          for (let i = 0; i < 200; i++) {
            const [row] = await admin.db.query<{ n: number }>(
              `SELECT count(*)::int AS "n" FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'`,
              [appName],
            );
            if (row?.n) break;
            await sleep(10);
          }
          await kill();
          await sleeping;
        }),
      );
      assert.equal((error as Error & { code?: string }).code, '57P01');
      assert.ok(performance.now() - started < 4000, 'not after the statement would have ended');
      assert.deepEqual(await db.query('SELECT 5 AS "x"'), [{ x: 5 }]);
    });

    test('when the connection is gone, the error the transaction failed with is the one thrown, not the failed ROLLBACK', async () => {
      const original = new Error('the operation failed for its own reason');
      // With the pause, the connection is known to be gone and no ROLLBACK is sent; without it, the
      // ROLLBACK usually goes out on the dying connection and fails. Either way the original error wins.
      for (const pauseMs of [100, 0]) {
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.query('SELECT 1');
            await kill();
            await sleep(pauseMs);
            throw original;
          }),
          (error) => error === original,
        );
        assert.deepEqual(await db.query('SELECT 6 AS "x"'), [{ x: 6 }]);
      }
    });

    test('an idle pooled connection that dies is reported to onConnectionError, and the next query reconnects', async () => {
      await db.query('SELECT 1'); // leaves an idle connection in the pool
      const reported: Error[] = [];
      const stop = db.onConnectionError((error) => reported.push(error));
      try {
        await kill();
        for (let i = 0; i < 200 && reported.length === 0; i++) await sleep(10);
        assert.ok(reported.length > 0, 'the idle connection’s error was reported');
        assert.ok(isConnectionFailure(reported[0]), reported[0]?.message);
      } finally {
        stop();
      }
      assert.deepEqual(await db.query('SELECT 7 AS "x"'), [{ x: 7 }]);
    });

    test('a statement sent on a transaction that has ended is refused, not run on a client someone else holds', async () => {
      let leaked: Queryable | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await assert.rejects(leaked?.query('SELECT 1') ?? Promise.resolve(), /transaction that has already ended/);
    });
  });
}
