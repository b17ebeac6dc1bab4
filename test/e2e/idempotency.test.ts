import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
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
      const user = await (await post('/v1/users', { email: 'order@example.com', name: 'Order', passwordHash: 'h' })).json();
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
      const user = await post('/v1/users', { email: 'scoped@example.com', name: 'S', passwordHash: 'h' }, key);
      assert.equal(user.status, 201);
      assert.equal(user.headers.get('idempotent-replayed'), null);
      const bulk = await post('/v1/tags/bulk', [{ name: 'scoped-bulk' }], key);
      assert.equal(bulk.status, 201);
      assert.equal(bulk.headers.get('idempotent-replayed'), null);
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

    test('10 concurrent requests with one key create exactly one row', async () => {
      const key = randomUUID();
      const responses = await Promise.all(Array.from({ length: 10 }, () => post('/v1/tags', { name: 'concurrent' }, key)));
      const bodies = await Promise.all(responses.map((r) => r.text()));
      // Duplicates wait on the first request's claim of the key, then replay its committed response.
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(10).fill(201),
        bodies.join('\n'),
      );
      assert.equal(responses.filter((r) => r.headers.get('idempotent-replayed') === null).length, 1, 'exactly one request ran the create');
      assert.equal(new Set(bodies).size, 1);
      assert.equal(await tagsNamed('concurrent'), 1);
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
  });
}
