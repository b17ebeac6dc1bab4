import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, mock, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

for (const backend of BACKENDS) {
  describe(`Idempotency-Key (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(await blogModel(), backend);
    });
    after(() => server.close());

    const post = (path: string, json: unknown, key?: string) =>
      server.fetch(path, { method: 'POST', json, headers: key === undefined ? {} : { 'idempotency-key': key } });
    const tagCount = async () => (await (await server.fetch('/v1/tags?count=true&limit=1')).json()).page.total as number;
    const tagsNamed = async (name: string) => (await (await server.fetch(`/v1/tags?name=${encodeURIComponent(name)}`)).json()).data.length as number;

    test('a retried create replays status, body, Location and ETag, and creates once', async () => {
      const key = randomUUID();
      const first = await post('/v1/tags', { name: 'once' }, key);
      assert.equal(first.status, 201);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      const body = await first.text();
      const id = JSON.parse(body).data.id;
      assert.equal(first.headers.get('location'), `/v1/tags/${id}`);
      for (let i = 0; i < 2; i++) {
        const again = await post('/v1/tags', { name: 'once' }, key);
        assert.equal(again.status, 201);
        assert.equal(again.headers.get('idempotent-replayed'), 'true');
        assert.equal(again.headers.get('location'), first.headers.get('location'));
        assert.equal(again.headers.get('etag'), first.headers.get('etag'));
        assert.match(again.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(await again.text(), body);
      }
      assert.equal(await tagsNamed('once'), 1);
    });

    test('the replay is the stored response, even after the record changed', async () => {
      const key = randomUUID();
      const first = await post('/v1/tags', { name: 'stored' }, key);
      const body = await first.text();
      const id = JSON.parse(body).data.id;
      assert.equal((await server.fetch(`/v1/tags/${id}`, { method: 'PATCH', json: { name: 'stored-renamed' } })).status, 200);
      const again = await post('/v1/tags', { name: 'stored' }, key);
      assert.equal(again.status, 201);
      assert.equal(await again.text(), body);
      assert.equal(await tagsNamed('stored'), 0, 'the retry did not create the tag again');
    });

    test('bulk create with a key replays and creates once', async () => {
      const key = randomUUID();
      const before = await tagCount();
      const items = [{ name: 'bulk-a' }, { name: 'bulk-b' }];
      const first = await post('/v1/tags/bulk', items, key);
      assert.equal(first.status, 201);
      const body = await first.text();
      const again = await post('/v1/tags/bulk', items, key);
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.headers.get('location'), null);
      assert.equal(await again.text(), body);
      assert.equal(await tagCount(), before + 2);
    });

    test('the same key with another body is 422 KILN_IDEMPOTENCY_KEY_REUSED and writes nothing', async () => {
      const key = randomUUID();
      assert.equal((await post('/v1/tags', { name: 'reuse-1' }, key)).status, 201);
      const before = await tagCount();
      await expectProblem(await post('/v1/tags', { name: 'reuse-2' }, key), 422, 'KILN_IDEMPOTENCY_KEY_REUSED');
      await expectProblem(await post('/v1/tags', { name: 'reuse-1', extra: 1 }, key), 400, 'KILN_VALIDATION_FAILED');
      assert.equal(await tagCount(), before);
      assert.equal(await tagsNamed('reuse-2'), 0);
    });

    test('the same body with its keys in another order is the same request', async () => {
      const key = randomUUID();
      const user = await (await post('/v1/users', { email: 'order@example.com', name: 'Order' })).json();
      const first = await post('/v1/posts', { title: 'Ordered', authorId: user.data.id, status: 'draft' }, key);
      assert.equal(first.status, 201);
      const again = await post('/v1/posts', { status: 'draft', authorId: user.data.id, title: 'Ordered' }, key);
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(await again.text(), await first.text());
    });

    test('keys are scoped to the route', async () => {
      const key = randomUUID();
      assert.equal((await post('/v1/tags', { name: 'scoped' }, key)).status, 201);
      const user = await post('/v1/users', { email: 'scoped@example.com', name: 'S' }, key);
      assert.equal(user.status, 201);
      assert.equal(user.headers.get('idempotent-replayed'), null);
      const bulk = await post('/v1/tags/bulk', [{ name: 'scoped-bulk' }], key);
      assert.equal(bulk.status, 201);
      assert.equal(bulk.headers.get('idempotent-replayed'), null);
    });

    test('the scope is the route, not the raw URL: a trailing slash is the same create', async () => {
      const key = randomUUID();
      assert.equal((await post('/v1/tags', { name: 'slash' }, key)).status, 201);
      const again = await server.fetch('/v1/tags/', { method: 'POST', json: { name: 'slash' }, headers: { 'idempotency-key': key } });
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
    });
    test('a malformed key is 400 KILN_HEADER_INVALID and nothing is created', async () => {
      const before = await tagCount();
      for (const key of ['k'.repeat(300), 'has space', '', 'tab\tinside', 'é']) {
        for (const [path, body] of [
          ['/v1/tags', { name: 'bad-key' }],
          ['/v1/tags/bulk', [{ name: 'bad-key' }]],
        ] as const) {
          const res = await server.fetch(path, { method: 'POST', json: body, headers: { 'idempotency-key': Buffer.from(key).toString('latin1') } });
          await expectProblem(res, 400, 'KILN_HEADER_INVALID');
        }
      }
      assert.equal((await post('/v1/tags', { name: 'max-key' }, 'k'.repeat(255))).status, 201);
      assert.equal(await tagCount(), before + 1);
    });

    test('10 concurrent requests with one key create exactly one row; duplicates in flight get 409 at once', async () => {
      const key = randomUUID();
      const responses = await Promise.all(Array.from({ length: 10 }, () => post('/v1/tags', { name: 'concurrent' }, key)));
      const bodies = await Promise.all(responses.map((r) => r.text()));
      // A duplicate that arrives while the first holds the key is told so without waiting (409); one that
      // arrives after the first committed replays its response (201, Idempotent-Replayed).
      for (const [i, r] of responses.entries()) {
        assert.ok(r.status === 201 || r.status === 409, bodies[i]);
        if (r.status === 409) assert.equal(JSON.parse(bodies[i] as string).code, 'KILN_IDEMPOTENCY_IN_PROGRESS');
      }
      const created = responses.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null);
      assert.equal(created.length, 1, 'exactly one request ran the create');
      assert.equal(new Set(bodies.filter((_, i) => responses[i]?.status === 201)).size, 1, 'replays answer the same bytes');
      assert.equal(await tagsNamed('concurrent'), 1);
      const retry = await post('/v1/tags', { name: 'concurrent' }, key);
      assert.equal(retry.status, 201);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    });

    test('a failed create does not burn the key', async () => {
      const key = randomUUID();
      const taken = await post('/v1/tags', { name: 'taken' });
      assert.equal(taken.status, 201);
      await expectProblem(await post('/v1/tags', { name: 'taken' }, key), 409, 'KILN_UNIQUE_VIOLATION');
      await expectProblem(await post('/v1/tags', { name: 'taken' }, key), 409, 'KILN_UNIQUE_VIOLATION');
      const takenId = (await taken.json()).data.id;
      assert.equal((await server.fetch(`/v1/tags/${takenId}`, { method: 'PATCH', json: { name: 'freed' } })).status, 200);
      const retry = await post('/v1/tags', { name: 'taken' }, key);
      assert.equal(retry.status, 201);
      assert.equal(retry.headers.get('idempotent-replayed'), null);
      const other = randomUUID();
      await expectProblem(await post('/v1/tags', { name: '' }, other), 400, 'KILN_VALIDATION_FAILED');
      const valid = await post('/v1/tags', { name: 'after-invalid' }, other);
      assert.equal(valid.status, 201);
      assert.equal(valid.headers.get('idempotent-replayed'), null);
      const bulkKey = randomUUID();
      await expectProblem(await post('/v1/tags/bulk', [{ name: 'fine' }, { name: 'freed' }], bulkKey), 409, 'KILN_UNIQUE_VIOLATION');
      assert.equal(await tagsNamed('fine'), 0);
      assert.equal((await post('/v1/tags/bulk', [{ name: 'fine' }, { name: 'fine-2' }], bulkKey)).status, 201);
    });

    /** Makes the stored record of `key` look `hours` old. */
    const age = async (key: string, hours: number) => {
      const rows = await server.db.query(
        `UPDATE "kiln_idempotency_keys" SET "created_at" = now() - make_interval(hours => $2::int) WHERE "key" = $1 RETURNING "key"`,
        [key, hours],
      );
      assert.equal(rows.length, 1, 'the key has a stored record');
    };

    test('a key older than the time-to-live (24 h by default) no longer replays: the same body creates anew', async () => {
      const key = randomUUID();
      const first = await post('/v1/tags', { name: 'ttl' }, key);
      assert.equal(first.status, 201);
      const firstId = (await first.json()).data.id;
      assert.equal((await server.fetch(`/v1/tags/${firstId}`, { method: 'PATCH', json: { name: 'ttl-first' } })).status, 200);

      await age(key, 23);
      const fresh = await post('/v1/tags', { name: 'ttl' }, key);
      assert.equal(fresh.status, 201);
      assert.equal(fresh.headers.get('idempotent-replayed'), 'true', 'within the time-to-live it still replays');
      assert.equal((await fresh.json()).data.id, firstId);

      await age(key, 25);
      const second = await post('/v1/tags', { name: 'ttl' }, key);
      assert.equal(second.status, 201);
      assert.equal(second.headers.get('idempotent-replayed'), null);
      const body = await second.text();
      const secondId = JSON.parse(body).data.id;
      assert.notEqual(secondId, firstId);
      assert.equal(second.headers.get('location'), `/v1/tags/${secondId}`);
      assert.equal(await tagsNamed('ttl'), 1);
      assert.equal(await tagsNamed('ttl-first'), 1);

      const again = await post('/v1/tags', { name: 'ttl' }, key);
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true', 'the key now replays the new response');
      assert.equal(await again.text(), body);
    });

    test('an expired key may be reused with another body', async () => {
      const key = randomUUID();
      assert.equal((await post('/v1/tags', { name: 'ttl-a' }, key)).status, 201);
      await expectProblem(await post('/v1/tags', { name: 'ttl-b' }, key), 422, 'KILN_IDEMPOTENCY_KEY_REUSED');
      await age(key, 25);
      const other = await post('/v1/tags', { name: 'ttl-b' }, key);
      assert.equal(other.status, 201);
      assert.equal(other.headers.get('idempotent-replayed'), null);
      assert.equal((await other.json()).data.name, 'ttl-b');
      await expectProblem(await post('/v1/tags', { name: 'ttl-a' }, key), 422, 'KILN_IDEMPOTENCY_KEY_REUSED');
    });
  });

  describe(`expired Idempotency-Keys are swept (${backend})`, () => {
    let server: TestServer;
    const keys = async () => (await server.db.query<{ key: string }>(`SELECT "key" FROM "kiln_idempotency_keys" ORDER BY "key"`)).map((r) => r.key);

    before(async () => {
      // The sweeper is an hourly setInterval: mock it (only it) so the test can run it.
      mock.timers.enable({ apis: ['setInterval'] });
      server = await startTestServer(await blogModel(), backend, { idempotencyTtlHours: 2 });
    });
    after(async () => {
      await server.close();
      mock.timers.reset();
    });

    test('every hour, keys older than KILN_IDEMPOTENCY_TTL_HOURS are deleted and younger ones kept', async () => {
      for (const [key, name] of [
        ['a-expired', 'sweep-a'],
        ['b-young', 'sweep-b'],
        ['c-expired', 'sweep-c'],
      ] as const) {
        const res = await server.fetch('/v1/tags', { method: 'POST', json: { name }, headers: { 'idempotency-key': key } });
        assert.equal(res.status, 201);
      }
      await server.db.query(`UPDATE "kiln_idempotency_keys" SET "created_at" = now() - interval '3 hours' WHERE "key" LIKE '%-expired'`);
      await server.db.query(`UPDATE "kiln_idempotency_keys" SET "created_at" = now() - interval '1 hour' WHERE "key" = 'b-young'`);

      mock.timers.tick(3599_999);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(await keys(), ['a-expired', 'b-young', 'c-expired'], 'nothing is swept before the hour');
      mock.timers.tick(1);
      for (let i = 0; i < 200 && (await keys()).length === 3; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(await keys(), ['b-young']);
      assert.equal(
        server.logs.some((l) => l.msg === 'could not sweep expired idempotency keys'),
        false,
      );

      const young = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'sweep-b' }, headers: { 'idempotency-key': 'b-young' } });
      assert.equal(young.headers.get('idempotent-replayed'), 'true');
    });

    test('a sweep that fails is logged as a warning and the server keeps answering', async () => {
      const realQuery = server.db.query;
      server.db.query = (async () => {
        throw Object.assign(new Error('relation "kiln_idempotency_keys" is locked'), { code: '55P03' });
      }) as typeof server.db.query;
      try {
        mock.timers.tick(3600_000);
        for (let i = 0; i < 100 && !server.logs.some((l) => l.msg === 'could not sweep expired idempotency keys'); i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        server.db.query = realQuery;
      }
      const warning = server.logs.find((l) => l.msg === 'could not sweep expired idempotency keys');
      assert.equal(warning?.level, 40);
      assert.match(JSON.stringify(warning?.err), /55P03/);
      assert.equal((await server.fetch('/healthz')).status, 200);
    });
  });
}
