/**
 * Load shedding: while the event loop runs late, or too many statements wait for a PostgreSQL
 * connection, requests are answered 503 KILN_OVERLOADED with Retry-After before they do any work;
 * /healthz keeps answering, and requests are served again once the load is gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import type { ConnectionPool } from '../../src/db/database.js';
import { createLoadShedder } from '../../src/observability/load-shedding.js';
import { NO_SIGNALS } from '../../src/observability/signals.js';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { blockEventLoop, eventually, expectExactProblem, sample, sendRawGet } from './helpers.js';

const OVERLOADED = 'this instance is overloaded; retry after the seconds in Retry-After';
const JSON_ACCEPT = { accept: 'application/json' };

async function expectOverloaded(res: Response): Promise<void> {
  assert.equal(res.headers.get('retry-after'), '1');
  // Answered before Fastify, and still with what every API answer carries.
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('cache-control'), null);
  await expectExactProblem(res, 503, 'KILN_OVERLOADED', OVERLOADED);
}

async function scrape(server: TestServer): Promise<string> {
  return (await fetch(`${server.kiln.metricsUrl}/metrics`)).text();
}

const [firstBackend = 'pglite'] = BACKENDS;

describe(`load shedding: a late event loop (${firstBackend})`, () => {
  // Checked every 100 ms; each block below makes the next check later than the bound by far. The bound
  // is well above what this process's own work delays a check by (loading modules, a first query).
  const BOUND_MS = 500;
  const BLOCK_MS = 1500;
  let server: TestServer;
  before(async () => {
    server = await startTestServer(await blogModel(), firstBackend, { shedEventLoopDelayMs: BOUND_MS, shedPoolQueue: 0, metrics: true, metricsPort: 0 });
    // Warm up every path the tests take (fetch, raw sockets, the route, the scrape) until it answers
    // (a start on a busy machine can be late twice in a row), then let a few checks find the loop on
    // time, so each test starts from a loop that was not late.
    await eventually('a first answer', async () => (await server.fetch('/v1/tags', { headers: JSON_ACCEPT })).status === 200);
    await eventually('a first raw answer', async () => (await await sendRawGet(server.url, '/v1/tags')).status === 200);
    await scrape(server);
    await new Promise((resolve) => setTimeout(resolve, 500));
  });
  after(() => server.close());

  test('one late check sheds nothing: the requests a single stall held up are served', async () => {
    blockEventLoop(BLOCK_MS);
    assert.equal((await server.fetch('/v1/tags', { headers: JSON_ACCEPT })).status, 200);
  });

  test('late twice in a row: a request is answered 503 at once, /healthz still 200; then served again', async () => {
    const counted = (text: string) => ({
      shed: sample(text, 'kiln_shed_total', { reason: 'event-loop' }) ?? 0,
      answered503: sample(text, 'kiln_http_requests_total', { method: 'GET', route: '/v1/tags', status: '503' }) ?? 0,
    });
    const before = counted(await scrape(server));
    blockEventLoop(BLOCK_MS);
    // The check that was due during the block runs before this timer: it finds the loop late once.
    await new Promise((resolve) => setTimeout(resolve, 1));
    // Written before the second block, read by the server right after it.
    const shed = await sendRawGet(server.url, '/v1/tags');
    const health = await sendRawGet(server.url, '/healthz');
    blockEventLoop(BLOCK_MS);
    await expectOverloaded(await shed);
    assert.equal((await health).status, 200);

    // Shed at the server's door, before routing: counted as shed, not as an answer of the route.
    assert.deepEqual(counted(await scrape(server)), { shed: before.shed + 1, answered503: before.answered503 });
    await eventually('requests served again', async () => (await server.fetch('/v1/tags', { headers: JSON_ACCEPT })).status === 200);
  });
});

describe('load shedding: the PostgreSQL pool queue', { skip: !BACKENDS.includes('postgres') }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(await blogModel(), 'postgres', { dbPoolMax: 1, shedPoolQueue: 1, shedPoolWaitMs: 0, metrics: true, metricsPort: 0 });
  });
  after(() => server.close());

  test('more statements waiting than KILN_SHED_POOL_QUEUE: 503 at once, /healthz 200; served again once the queue drains', async () => {
    const pool = server.db.pool as ConnectionPool;
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The one connection is held by a transaction; two statements wait for it.
    const holding = server.db.transaction(() => gate);
    const waiting = [server.db.query('SELECT 1'), server.db.query('SELECT 2')];
    try {
      assert.ok(pool.waiting >= 2, `waiting: ${pool.waiting}`);
      await expectOverloaded(await server.fetch('/v1/tags', { headers: JSON_ACCEPT }));
      assert.equal((await server.fetch('/healthz')).status, 200);
      const text = await scrape(server);
      assert.ok((sample(text, 'kiln_db_pool_waiting') ?? 0) >= 2);
      assert.equal(sample(text, 'kiln_shed_total', { reason: 'pool' }), 1);
    } finally {
      release();
      await holding;
      await Promise.all(waiting);
    }
    assert.equal(pool.waiting, 0);
    assert.equal((await server.fetch('/v1/tags', { headers: JSON_ACCEPT })).status, 200);
    // Each statement that waited was timed.
    assert.ok((sample(await scrape(server), 'kiln_db_pool_wait_seconds_count') ?? 0) >= 3);
  });
});

describe('load shedding: a PostgreSQL pool queue that does not drain', { skip: !BACKENDS.includes('postgres') }, () => {
  const WAIT_BOUND_MS = 50;
  let server: TestServer;
  before(async () => {
    server = await startTestServer(await blogModel(), 'postgres', {
      dbPoolMax: 1,
      shedPoolQueue: 0,
      shedPoolWaitMs: WAIT_BOUND_MS,
      metrics: true,
      metricsPort: 0,
    });
  });
  after(() => server.close());

  test('statements wait past KILN_SHED_POOL_WAIT_MS for a whole interval: 503 at once, /healthz 200; served again once it drains', async () => {
    const pool = server.db.pool as ConnectionPool;
    assert.equal((await server.fetch('/v1/tags', { headers: JSON_ACCEPT })).status, 200, 'a short wait sheds nothing');
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holding = server.db.transaction(() => gate);
    const waiting = server.db.query('SELECT 1');
    try {
      // No request may touch the database before the shedder sheds: it would wait for the held connection.
      // Checks run every 100 ms; by now several saw a statement waiting and none getting a connection.
      await new Promise((resolve) => setTimeout(resolve, 350));
      assert.equal(pool.waiting, 1);
      await expectOverloaded(await server.fetch('/v1/tags', { headers: JSON_ACCEPT }));
      assert.equal((await server.fetch('/healthz')).status, 200);
      assert.ok((sample(await scrape(server), 'kiln_shed_total', { reason: 'pool' }) ?? 0) >= 1);
    } finally {
      release();
      await holding;
      await waiting;
    }
    assert.equal(pool.waiting, 0);
    // The statement that waited ~300 ms got its connection: that interval still judged the queue standing.
    // Once an interval passes with short waits or none, requests are served.
    await eventually('requests served again', async () => (await server.fetch('/v1/tags', { headers: JSON_ACCEPT })).status === 200);
  });
});

describe('load shedding: off', () => {
  test('with every bound 0, or only the pool bounds on PGlite (no pool), there is no shedder', async () => {
    const pglite = await createTestDatabase('pglite');
    try {
      const settings = resolveSettings({});
      assert.equal(createLoadShedder({ ...settings, shedEventLoopDelayMs: 0, shedPoolWaitMs: 0, shedPoolQueue: 0 }, pglite.db, NO_SIGNALS), undefined);
      assert.equal(createLoadShedder({ ...settings, shedEventLoopDelayMs: 0, shedPoolWaitMs: 20, shedPoolQueue: 5 }, pglite.db, NO_SIGNALS), undefined);
      const shedder = createLoadShedder(settings, pglite.db, NO_SIGNALS);
      assert.ok(shedder, 'the event-loop bound is on by default');
      shedder.close();
    } finally {
      await pglite.dispose();
    }
  });

  test('the wait bound judges each 100 ms interval by its shortest wait: a burst that drains sheds nothing', async () => {
    let observe: (waitedMs: number) => void = () => {};
    const pool = {
      max: 1,
      total: 1,
      idle: 0,
      waiting: 0,
      oldestWaitMs: 0,
      observeWait: (listener: (waitedMs: number) => void) => {
        observe = listener;
        return () => {};
      },
    };
    const settings = { ...resolveSettings({}), shedEventLoopDelayMs: 0, shedPoolQueue: 0, shedPoolWaitMs: 20 };
    const shedder = createLoadShedder(settings, { pool } as never, NO_SIGNALS);
    assert.ok(shedder);
    const nextInterval = () => new Promise((resolve) => setTimeout(resolve, 130));
    try {
      // One statement got its connection at once among slow ones: the queue drains.
      for (const waited of [90, 3, 80]) observe(waited);
      await nextInterval();
      assert.equal(shedder.reason(), undefined);
      // Every statement waited past the bound: a standing queue, shed until an interval says otherwise.
      for (const waited of [25, 40, 90]) observe(waited);
      await nextInterval();
      assert.equal(shedder.reason(), undefined, 'the queue stood, but nothing waits any more');
      // While it stands, a request is refused only while the head of the queue has waited over twice the bound.
      pool.waiting = 1;
      pool.oldestWaitMs = 40;
      assert.equal(shedder.reason(), undefined, 'the head waited twice the bound: not over it');
      pool.oldestWaitMs = 41;
      assert.equal(shedder.reason(), 'pool');
      // An interval without a checkout: shed only while statements are waiting (stuck), not when idle.
      pool.waiting = 2;
      pool.oldestWaitMs = 150;
      await nextInterval();
      assert.equal(shedder.reason(), 'pool');
      pool.waiting = 0;
      pool.oldestWaitMs = 0;
      await nextInterval();
      assert.equal(shedder.reason(), undefined);
    } finally {
      shedder.close();
    }
  });

  test('the pool bound is checked on every request, against the waiting count', () => {
    const pool = { max: 1, total: 1, idle: 0, waiting: 3, oldestWaitMs: 0, observeWait: () => () => {} };
    const settings = { ...resolveSettings({}), shedEventLoopDelayMs: 0, shedPoolWaitMs: 0, shedPoolQueue: 3 };
    const shedder = createLoadShedder(settings, { pool } as never, NO_SIGNALS);
    assert.ok(shedder);
    assert.equal(shedder.reason(), undefined, 'at the bound: not over it');
    pool.waiting = 4;
    assert.equal(shedder.reason(), 'pool');
    shedder.close();
  });
});
