import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

for (const backend of BACKENDS) {
  describe(`CRUD over HTTP (${backend})`, () => {
    let server: TestServer;
    let userId: number;

    before(async () => {
      server = await startTestServer(await blogModel(), backend);
      const res = await server.fetch('/v1/users', { method: 'POST', json: { email: 'ada@example.com', name: 'Ada' } });
      assert.equal(res.status, 201);
      userId = (await res.json()).data.id;
    });
    after(() => server.close());

    test('create answers 201 with Location, ETag and the record without hidden fields', async () => {
      const res = await server.fetch('/v1/posts', { method: 'POST', json: { title: 'Hello', authorId: userId } });
      assert.equal(res.status, 201);
      const { data } = await res.json();
      assert.equal(res.headers.get('location'), `/v1/posts/${data.id}`);
      assert.match(res.headers.get('etag') ?? '', /^"[\w-]+"$/);
      assert.deepEqual(Object.keys(data).sort(), ['authorId', 'body', 'createdAt', 'id', 'slug', 'status', 'title', 'updatedAt']);
      assert.equal(data.status, 'draft');
      assert.equal(data.body, '');
      assert.match(data.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    });

    test("the account's password hash can be neither written nor read through the resource", async () => {
      const written = await server.fetch(`/v1/users/${userId}`, { method: 'PATCH', json: { passwordHash: 'secret-hash' } });
      const problem = await expectProblem(written, 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(
        problem.errors?.map((e) => e.path),
        ['/passwordHash'],
      );
      const res = await server.fetch(`/v1/users/${userId}`);
      const { data } = await res.json();
      assert.equal(data.passwordHash, undefined);
      const list = await (await server.fetch('/v1/users')).text();
      assert.doesNotMatch(list, /secret-hash|passwordHash/);
    });

    test('get, patch, put and delete one record', async () => {
      const created = await (await server.fetch('/v1/posts', { method: 'POST', json: { title: 'Draft', body: 'x', authorId: userId } })).json();
      const id = created.data.id;
      const patched = await server.fetch(`/v1/posts/${id}`, { method: 'PATCH', json: { status: 'published' } });
      assert.equal(patched.status, 200);
      const p = (await patched.json()).data;
      assert.equal(p.status, 'published');
      assert.equal(p.body, 'x');
      const replaced = await server.fetch(`/v1/posts/${id}`, { method: 'PUT', json: { title: 'Replaced', authorId: userId } });
      assert.equal(replaced.status, 200);
      const r = (await replaced.json()).data;
      assert.equal(r.title, 'Replaced');
      assert.equal(r.body, '', 'PUT resets a left-out field to its default');
      assert.equal(r.status, 'draft');
      const deleted = await server.fetch(`/v1/posts/${id}`, { method: 'DELETE' });
      assert.equal(deleted.status, 204);
      assert.equal(await deleted.text(), '');
      await expectProblem(await server.fetch(`/v1/posts/${id}`), 404, 'KILN_NOT_FOUND');
    });

    test('bulk create is all-or-nothing', async () => {
      const before = (await (await server.fetch('/v1/tags?count=true')).json()).page.total;
      const bad = await server.fetch('/v1/tags/bulk', { method: 'POST', json: [{ name: 'a1' }, { name: '' }, { name: 'a3', extra: 1 }] });
      const problem = await expectProblem(bad, 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(
        problem.errors?.map((e) => [e.path, e.code]),
        [
          ['/1/name', 'minLength'],
          ['/2/extra', 'unknown'],
        ],
      );
      const dup = await server.fetch('/v1/tags/bulk', { method: 'POST', json: [{ name: 'b1' }, { name: 'b1' }] });
      await expectProblem(dup, 409, 'KILN_UNIQUE_VIOLATION');
      assert.equal((await (await server.fetch('/v1/tags?count=true')).json()).page.total, before, 'nothing was written');
      const ok = await server.fetch('/v1/tags/bulk', { method: 'POST', json: [{ name: 'c1' }, { name: 'c2' }] });
      assert.equal(ok.status, 201);
      assert.deepEqual(
        (await ok.json()).data.map((t: { name: string }) => t.name),
        ['c1', 'c2'],
      );
    });
  });
}
