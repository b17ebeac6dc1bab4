/**
 * Read replicas (DATABASE_REPLICA_URLS) on a real primary and a real streaming replica of it
 * (test/helpers/replica-cluster.ts). Which server answered a read is proved by replica lag: replay is
 * paused on the standby, a row is written on the primary, and only the primary can return it.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ConfigError, resolveSettings, type Settings } from '../../src/config/settings.js';
import { StartupError } from '../../src/config/startup-error.js';
import { openDatabase } from '../../src/db/open.js';
import { defineRoute } from '../../src/extensions/define.js';
import { compileOrThrow } from '../../src/model/load.js';
import { type RunningKiln, startKiln } from '../../src/start.js';
import { SseClient } from '../events/sse-client.js';
import { expectProblem } from '../helpers/problem.js';
import { freePort, type ReplicaCluster, startReplicaCluster } from '../helpers/replica-cluster.js';
import { TEST_CURSOR_SECRET } from '../helpers/server.js';

const model = compileOrThrow('read-replicas', { resources: { items: { fields: { name: { type: 'string' } } } } });

/** Renames one item, then reads another in the same request: the read comes after a write. */
const renameThenRead = defineRoute<{ id: number }, Record<string, never>, { other: number }>({
  method: 'POST',
  path: '/items/:id/rename-then-read',
  summary: 'Rename an item, then read another',
  params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
  body: { type: 'object', properties: { other: { type: 'integer' } }, required: ['other'] },
  response: { resource: 'items' },
  async handler({ ctx, params, body, ops }) {
    await ops.update(ctx, 'items', params.id, { name: 'renamed' });
    return ops.get(ctx, 'items', body.other);
  },
});

interface Served {
  readonly kiln: RunningKiln;
  readonly logs: Record<string, unknown>[];
  fetch(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

async function serve(settings: Partial<Settings>): Promise<Served> {
  const logs: Record<string, unknown>[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const all = { ...resolveSettings({}), host: '127.0.0.1', port: 0, logLevel: 'info', cursorSecret: TEST_CURSOR_SECRET, ...settings };
  const kiln = await startKiln({ model, settings: all, logStream, routes: [renameThenRead] });
  return {
    kiln,
    logs,
    fetch(path, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${kiln.url}${path}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
    },
  };
}

/** The id and name of the record a response carries. */
async function record(res: Response): Promise<{ id: unknown; name: unknown }> {
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const { id, name } = (JSON.parse(text) as { data: { id: unknown; name: unknown } }).data;
  return { id, name };
}

async function readyz(server: Served): Promise<unknown> {
  const res = await server.fetch('/readyz');
  assert.equal(res.status, 200);
  return res.json();
}

/** Asks /readyz until the replica is in `state` (each call measures afresh); fails after 200 tries. */
async function untilReplica(server: Served, state: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const body = (await readyz(server)) as { replicas: { state: string }[] };
    if (body.replicas[0]?.state === state) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`the replica never became ${state}`);
}

describe('read replicas: settings', () => {
  test('DATABASE_REPLICA_URLS without DATABASE_URL is refused', () => {
    assert.throws(
      () => resolveSettings({ DATABASE_REPLICA_URLS: 'postgres://kiln@replica:5432/app' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(
          error.message,
          'invalid configuration:\n  - DATABASE_REPLICA_URLS: read replicas need DATABASE_URL (embedded PGlite has none); set DATABASE_URL to the primary, or remove DATABASE_REPLICA_URLS',
        );
        return true;
      },
    );
  });

  test('an entry that is not a PostgreSQL URL is named by its position, never shown', () => {
    assert.throws(
      () =>
        resolveSettings({
          DATABASE_URL: 'postgres://kiln@primary/app',
          DATABASE_REPLICA_URLS: 'postgres://kiln@replica/app, mysql://kiln:hunter2@replica/app',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(
          error.message,
          'invalid configuration:\n  - DATABASE_REPLICA_URLS: URL 2 is not a PostgreSQL URL; use postgres://user:password@host:5432/database',
        );
        return true;
      },
    );
  });

  test('a comma-separated list is read in order, blanks dropped', () => {
    const settings = resolveSettings({ DATABASE_URL: 'postgres://kiln@primary/app', DATABASE_REPLICA_URLS: ' postgres://a@r1/app ,, postgresql://b@r2/app' });
    assert.deepEqual(settings.databaseReplicaUrls, ['postgres://a@r1/app', 'postgresql://b@r2/app']);
    assert.equal(settings.databaseReplicaMaxLagMs, 0);
  });
});

describe('read replicas on a streaming replica', () => {
  let cluster: ReplicaCluster | undefined;
  let server: Served | undefined;

  before(async () => {
    cluster = await startReplicaCluster();
    server = await serve({ databaseUrl: cluster.primaryUrl, databaseReplicaUrls: [cluster.replicaUrl] });
  });
  after(async () => {
    await server?.kiln.close().catch(() => {});
    await cluster?.stop();
  });

  const c = () => cluster as ReplicaCluster;
  const s = () => server as Served;
  /** A row written on the primary behind Kiln's back. */
  const insert = async (name: string) =>
    ((await c().sql<{ id: number }>('primary', 'INSERT INTO items (name) VALUES ($1) RETURNING id::int AS id', [name]))[0] as { id: number }).id;

  let behind: number;
  let fresh: number;

  test('/readyz lists the replica', async () => {
    assert.deepEqual(await readyz(s()), { status: 'ready', replicas: [{ replica: 1, state: 'up' }] });
  });

  test('a read is answered by the replica: a row it has not replayed yet is not found', async () => {
    await c().caughtUp();
    const seen = await insert('seen');
    await c().caughtUp();
    await c().sql('replica', 'SELECT pg_wal_replay_pause()');
    behind = await insert('behind');
    await expectProblem(await s().fetch(`/v1/items/${behind}`), 404, 'KILN_NOT_FOUND');
    const list = await s().fetch('/v1/items');
    assert.equal(list.status, 200);
    assert.deepEqual(
      ((await list.json()) as { data: { id: number }[] }).data.map((r) => r.id),
      [seen],
    );
  });

  test('a write goes to the primary; a read in another request may not see it yet (replica lag)', async () => {
    const res = await s().fetch('/v1/items', { method: 'POST', json: { name: 'fresh' } });
    assert.equal(res.status, 201);
    fresh = ((await res.json()) as { data: { id: number } }).data.id;
    assert.deepEqual(await c().sql('primary', 'SELECT name FROM items WHERE id = $1', [fresh]), [{ name: 'fresh' }]);
    await expectProblem(await s().fetch(`/v1/items/${fresh}`), 404, 'KILN_NOT_FOUND');
  });

  test('a read after a write in the same request goes to the primary', async () => {
    const res = await s().fetch(`/v1/items/${fresh}/rename-then-read`, { method: 'POST', json: { other: behind } });
    assert.deepEqual(await record(res), { id: behind, name: 'behind' });
  });

  // Without a timeout, a delivery read from the paused replica would find no row and wait forever.
  test('an event delivers the record from the primary, though the replica has not replayed it', { timeout: 15_000 }, async () => {
    const stream = await SseClient.open(`${s().kiln.url}/v1/items/events`);
    try {
      const res = await s().fetch('/v1/items', { method: 'POST', json: { name: 'announced' } });
      assert.equal(res.status, 201);
      const id = ((await res.json()) as { data: { id: number } }).data.id;
      const event = await stream.next();
      assert.deepEqual([event?.event, event?.id, event?.data.data.name], ['created', String(id), 'announced']);
    } finally {
      await stream.close();
    }
  });

  test('once replay resumes, the replica answers with the rows', async () => {
    await c().sql('replica', 'SELECT pg_wal_replay_resume()');
    await c().caughtUp();
    assert.deepEqual(await record(await s().fetch(`/v1/items/${fresh}`)), { id: fresh, name: 'renamed' });
  });

  test('DATABASE_REPLICA_MAX_LAG_MS: a replica too far behind serves no reads until it catches up', async () => {
    const strict = await serve({ databaseUrl: c().primaryUrl, databaseReplicaUrls: [c().replicaUrl], databaseReplicaMaxLagMs: 1 });
    try {
      await c().caughtUp();
      await untilReplica(strict, 'up');
      await c().sql('replica', 'SELECT pg_wal_replay_pause()');
      const late = await insert('late');
      await untilReplica(strict, 'lagging');
      assert.deepEqual(await record(await strict.fetch(`/v1/items/${late}`)), { id: late, name: 'late' });
      const warning = strict.logs.find((l) => String(l.msg).includes('behind; its reads go to the primary'));
      assert.match(
        String(warning?.msg),
        new RegExp(`^read replica 127\\.0\\.0\\.1:${c().replicaPort}/postgres is \\d+ ms behind; its reads go to the primary$`),
      );
      assert.equal(warning?.level, 40);
      await c().sql('replica', 'SELECT pg_wal_replay_resume()');
      await untilReplica(strict, 'up');
    } finally {
      await c()
        .sql('replica', 'SELECT pg_wal_replay_resume()')
        .catch(() => {});
      await strict.kiln.close();
    }
  });

  test('a replica that refuses its database stops the start, naming DATABASE_REPLICA_URLS', async () => {
    const settings = resolveSettings({ DATABASE_URL: c().primaryUrl, DATABASE_REPLICA_URLS: `postgres://postgres@127.0.0.1:${c().replicaPort}/nosuch` });
    await assert.rejects(openDatabase(settings), (error: unknown) => {
      assert.ok(error instanceof StartupError);
      assert.equal(
        error.message,
        `cannot connect to the PostgreSQL read replica at 127.0.0.1:${c().replicaPort} (DATABASE_REPLICA_URLS): database "nosuch" does not exist. Create the database (createdb nosuch), or fix the database name in DATABASE_REPLICA_URLS.`,
      );
      return true;
    });
  });

  test('a replica that cannot be reached at start starts down; reads go to the primary', async () => {
    const settings = resolveSettings({ DATABASE_URL: c().primaryUrl, DATABASE_REPLICA_URLS: `postgres://postgres@127.0.0.1:${await freePort()}/postgres` });
    const db = await openDatabase(settings);
    try {
      assert.deepEqual(
        db.replicas?.states.map((r) => r.state),
        ['down'],
      );
      assert.deepEqual(await db.replicas?.query('SELECT 1 AS one'), [{ one: 1 }]);
    } finally {
      await db.close();
    }
  });

  test('a replica that stops: reads answer from the primary, one warning, still ready', async () => {
    await c().stopServer('replica');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await record(await s().fetch(`/v1/items/${fresh}`)), { id: fresh, name: 'renamed' });
    }
    const warnings = s().logs.filter((l) => String(l.msg).includes('is down; its reads go to the primary'));
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.equal(warnings[0]?.msg, `read replica 127.0.0.1:${c().replicaPort}/postgres is down; its reads go to the primary`);
    assert.equal(warnings[0]?.level, 40);
    assert.deepEqual(await readyz(s()), { status: 'ready', replicas: [{ replica: 1, state: 'down' }] });
  });

  test('the primary down: not ready', async () => {
    await c().stopServer('primary');
    const body = await expectProblem(await s().fetch('/readyz'), 503, 'KILN_DATABASE_UNAVAILABLE');
    assert.equal(body.detail, 'the database did not answer');
  });
});
