import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

const USER_KEYS = ['createdAt', 'disabled', 'email', 'id', 'name', 'roles', 'updatedAt', 'verified'];

async function ok(server: TestServer, path: string): Promise<any> {
  const res = await server.fetch(path);
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

const keysOf = (row: Record<string, unknown>) => Object.keys(row).sort();

for (const backend of BACKENDS) {
  describe(`sparse fieldsets (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, BLOG_SEED_PATH);
    });
    after(() => server.close());

    test('fields=id,title on a list returns exactly those keys', async () => {
      const { data } = await ok(server, '/v1/posts?fields=id,title&limit=3');
      assert.deepEqual(data, [
        { id: 1, title: 'Notes on the Analytical Engine' },
        { id: 2, title: 'On Computable Numbers' },
        { id: 3, title: 'The first compiler' },
      ]);
    });

    test('the id is always returned; sort keys and relation keys fetched internally are not', async () => {
      const { data, page } = await ok(server, '/v1/posts?fields=title&sort=-status,authorId&limit=2');
      assert.deepEqual(data, [
        { id: 2, title: 'On Computable Numbers' },
        { id: 5, title: 'Can machines think?' },
      ]);
      const next = await ok(server, `/v1/posts?fields=title&sort=-status,authorId&limit=2&cursor=${page.nextCursor}`);
      assert.deepEqual(
        next.data.map((p: { id: number }) => p.id),
        [8, 3],
      );
      assert.deepEqual(keysOf(next.data[0]), ['id', 'title']);
      const withAuthor = await ok(server, '/v1/posts/1?fields=title&include=author');
      assert.deepEqual(keysOf(withAuthor.data), ['author', 'id', 'title']);
      assert.deepEqual(keysOf(withAuthor.data.author), USER_KEYS);
    });

    test('fields on get-by-id, with and without include', async () => {
      assert.deepEqual((await ok(server, '/v1/posts/2?fields=id,title')).data, { id: 2, title: 'On Computable Numbers' });
      assert.deepEqual((await ok(server, '/v1/posts/2?fields=status')).data, { id: 2, status: 'published' });
      const { data } = await ok(server, '/v1/posts/3?fields=title&include=tags');
      assert.deepEqual(keysOf(data), ['id', 'tags', 'title']);
      assert.equal(data.title, 'The first compiler');
      assert.deepEqual(
        data.tags.map((t: Record<string, unknown>) => [t.id, t.name, keysOf(t).join()]),
        [
          [2, 'computing', 'createdAt,id,name,updatedAt'],
          [3, 'mathematics', 'createdAt,id,name,updatedAt'],
        ],
      );
    });

    test('unknown, hidden and relation names in fields are refused, on lists and by id', async () => {
      const cases = ['nope', 'id,nope', 'passwordHash', 'id,passwordHash', 'posts', '', 'id,,name', 'Name'];
      for (const fields of cases) {
        for (const path of [`/v1/users?fields=${encodeURIComponent(fields)}`, `/v1/users/1?fields=${encodeURIComponent(fields)}`]) {
          const problem = await expectProblem(await server.fetch(path), 400, 'KILN_QUERY_INVALID');
          assert.deepEqual(
            problem.errors?.map((e) => [e.path, e.code]),
            [['fields', 'unknown']],
            path,
          );
        }
      }
      const body = await (await server.fetch('/v1/users?fields=id,name')).text();
      assert.doesNotMatch(body, /passwordHash|argon/);
    });

    test('get-by-id rejects the list-only parameters, naming each', async () => {
      for (const param of ['limit=1', 'sort=title', 'cursor=abc', 'count=true', 'title=x', 'status[in]=draft']) {
        const problem = await expectProblem(await server.fetch(`/v1/posts/1?${param}`), 400, 'KILN_QUERY_INVALID');
        assert.deepEqual(
          problem.errors?.map((e) => [e.path, e.code]),
          [[decodeURIComponent(param.split('=')[0] as string), 'unknown']],
          param,
        );
      }
      const many = await expectProblem(await server.fetch('/v1/posts/1?limit=1&fields=nope&sort=id'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(
        many.errors?.map((e) => [e.path, e.code]),
        [
          ['limit', 'unknown'],
          ['sort', 'unknown'],
          ['fields', 'unknown'],
        ],
      );
      const repeated = await expectProblem(await server.fetch('/v1/posts/1?fields=id&fields=title'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(
        repeated.errors?.map((e) => [e.path, e.code]),
        [['fields', 'repeated']],
      );
    });
  });
}
