import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

type Row = Record<string, any>;
const seed = JSON.parse(readFileSync(BLOG_SEED_PATH, 'utf8')) as Record<string, Row[]>;
const USER_KEYS = ['createdAt', 'disabled', 'email', 'id', 'name', 'roles', 'updatedAt', 'verified'];
const keysOf = (row: Row) => Object.keys(row).sort();

async function ok(server: TestServer, path: string): Promise<Row> {
  const res = await server.fetch(path);
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

async function write(server: TestServer, method: string, path: string, json: unknown, status: number): Promise<Row> {
  const res = await server.fetch(path, { method, json });
  const text = await res.text();
  assert.equal(res.status, status, `${method} ${path}: ${text}`);
  return JSON.parse(text);
}

const tagIdsOf = async (server: TestServer, postId: number) => (await ok(server, `/v1/posts/${postId}?include=tags&fields=id`)).data.tags.map((t: Row) => t.id);

for (const backend of BACKENDS) {
  describe(`includes (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, BLOG_SEED_PATH);
    });
    after(() => server.close());

    test('belongsTo, hasMany and manyToMany on a list', async () => {
      const { data } = await ok(server, '/v1/posts?include=author,comments,tags&limit=8');
      assert.equal(data.length, 8);
      for (const post of data) {
        const source = seed.posts?.find((p) => p.id === post.id) as Row;
        assert.equal(post.author.id, source.authorId);
        assert.deepEqual(keysOf(post.author), USER_KEYS, 'no hidden passwordHash');
        assert.deepEqual(
          post.comments.map((c: Row) => [c.id, c.postId]),
          seed.comments?.filter((c) => c.postId === post.id).map((c) => [c.id, post.id]),
        );
        assert.deepEqual(
          post.tags.map((t: Row) => t.id),
          [...source.tags].sort(),
        );
      }
    });

    test('nested includes, on a list and by id', async () => {
      const { data } = await ok(server, '/v1/posts?include=comments.author&limit=2');
      assert.deepEqual(
        data.map((p: Row) => p.comments.map((c: Row) => [c.id, c.author.id, c.author.name])),
        [
          [
            [1, 1, 'Ada Lovelace'],
            [2, 2, 'Alan Turing'],
          ],
          [
            [3, 1, 'Ada Lovelace'],
            [4, 2, 'Alan Turing'],
          ],
        ],
      );
      const user = (await ok(server, '/v1/users/3?include=posts.tags,posts.comments')).data;
      assert.deepEqual(
        user.posts.map((p: Row) => [p.id, p.tags.map((t: Row) => t.name), p.comments.length]),
        [
          [3, ['computing', 'mathematics'], 2],
          [6, ['computing', 'mathematics'], 2],
        ],
      );
      const tag = (await ok(server, '/v1/tags/1?include=posts.author')).data;
      assert.deepEqual(
        tag.posts.map((p: Row) => [p.id, p.author.name]),
        [
          [1, 'Ada Lovelace'],
          [4, 'Ada Lovelace'],
          [7, 'Ada Lovelace'],
        ],
      );
      const deep = (await ok(server, '/v1/comments/5?include=post.author.posts')).data;
      assert.deepEqual(
        deep.post.author.posts.map((p: Row) => p.id),
        [3, 6],
      );
    });

    test('a record without related rows gets [] for lists', async () => {
      const post = (await write(server, 'POST', '/v1/posts', { title: 'Lonely', authorId: 1 }, 201)).data;
      const { data } = await ok(server, `/v1/posts/${post.id}?include=comments,tags,author`);
      assert.deepEqual([data.comments, data.tags, data.author.id], [[], [], 1]);
      assert.equal((await server.fetch(`/v1/posts/${post.id}`, { method: 'DELETE' })).status, 204);
    });

    test('unknown relations and too deep paths are refused, on lists and by id', async () => {
      const cases: [string, string][] = [
        ['nope', 'unknown'],
        ['author.nope', 'unknown'],
        ['title', 'unknown'],
        ['authorId', 'unknown'],
        ['', 'unknown'],
        ['author,', 'unknown'],
        ['Author', 'unknown'],
        ['comments.post.author.posts', 'depth'],
      ];
      for (const [include, code] of cases) {
        for (const path of [`/v1/posts?include=${include}`, `/v1/posts/1?include=${include}`]) {
          const problem = await expectProblem(await server.fetch(path), 400, 'KILN_QUERY_INVALID');
          assert.deepEqual(
            problem.errors?.map((e) => [e.path, e.code]),
            [['include', code]],
            path,
          );
        }
      }
    });

    test('includes cost a fixed number of statements, whatever the page size (no N+1)', async () => {
      const posts = Array.from({ length: 50 }, (_, i) => ({ title: `Bulk ${i}`, authorId: 1 + (i % 3), tags: [1 + (i % 3)] }));
      const created = (await write(server, 'POST', '/v1/posts/bulk', posts, 201)).data;
      const comments = created.flatMap((p: Row, i: number) => [
        { body: `c${i}a`, postId: p.id, authorId: 1 + (i % 3) },
        { body: `c${i}b`, postId: p.id, authorId: 1 + ((i + 1) % 3) },
      ]);
      await write(server, 'POST', '/v1/comments/bulk', comments, 201);
      const statementsFor = async (limit: number) => {
        const seen: string[] = [];
        const stop = server.db.observe((text) => seen.push(text));
        try {
          const { data } = await ok(server, `/v1/posts?include=author,comments.author,tags&limit=${limit}`);
          assert.equal(data.length, limit);
          assert.ok(data.every((p: Row) => p.author && p.comments.length > 0 && p.comments.every((c: Row) => c.author) && p.tags.length > 0));
        } finally {
          stop();
        }
        return seen;
      };
      const small = await statementsFor(2);
      const large = await statementsFor(50);
      // The page with its belongsTo author joined in, then one per loaded relation: comments,
      // comments.author and tags. The count must not grow with the page size.
      assert.equal(small.length, 4, small.join('\n'));
      assert.equal(large.length, 4, large.join('\n'));
      assert.match(small[0] ?? '', /LEFT JOIN "users"/);
    });
  });

  describe(`many-to-many writes (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, BLOG_SEED_PATH);
    });
    after(() => server.close());

    test('create, patch and put with tags set the links', async () => {
      const post = (await write(server, 'POST', '/v1/posts', { title: 'Linked', authorId: 1, tags: [3, 1] }, 201)).data;
      assert.deepEqual(await tagIdsOf(server, post.id), [1, 3]);
      const onTag = (await ok(server, '/v1/tags/3?include=posts&fields=id')).data.posts.map((p: Row) => p.id);
      assert.ok(onTag.includes(post.id));
      await write(server, 'PATCH', `/v1/posts/${post.id}`, { tags: [2] }, 200);
      assert.deepEqual(await tagIdsOf(server, post.id), [2]);
      await write(server, 'PATCH', `/v1/posts/${post.id}`, { title: 'Renamed' }, 200);
      assert.deepEqual(await tagIdsOf(server, post.id), [2], 'a PATCH without tags leaves the links alone');
      await write(server, 'PUT', `/v1/posts/${post.id}`, { title: 'Put', authorId: 2, tags: [1, 2, 3] }, 200);
      assert.deepEqual(await tagIdsOf(server, post.id), [1, 2, 3]);
      await write(server, 'PATCH', `/v1/posts/${post.id}`, { tags: [] }, 200);
      assert.deepEqual(await tagIdsOf(server, post.id), []);
      const bulk = (
        await write(
          server,
          'POST',
          '/v1/posts/bulk',
          [
            { title: 'B1', authorId: 1, tags: [1] },
            { title: 'B2', authorId: 1, tags: [2, 3] },
          ],
          201,
        )
      ).data;
      assert.deepEqual(await tagIdsOf(server, bulk[0].id), [1]);
      assert.deepEqual(await tagIdsOf(server, bulk[1].id), [2, 3]);
    });

    test('a link to a missing tag is 422 KILN_REFERENCE_NOT_FOUND and nothing is written', async () => {
      const count = async () => (await ok(server, '/v1/posts?count=true&limit=1')).page.total;
      const before = await count();
      const created = await server.fetch('/v1/posts', { method: 'POST', json: { title: 'Ghost', authorId: 1, tags: [1, 999999] } });
      const problem = await expectProblem(created, 422, 'KILN_REFERENCE_NOT_FOUND');
      assert.deepEqual(
        problem.errors?.map((e) => [e.path, e.code]),
        [['/tags', 'reference']],
      );
      const bulk = await server.fetch('/v1/posts/bulk', {
        method: 'POST',
        json: [
          { title: 'Ok', authorId: 1, tags: [1] },
          { title: 'Ghost', authorId: 1, tags: [424242] },
        ],
      });
      await expectProblem(bulk, 422, 'KILN_REFERENCE_NOT_FOUND');
      assert.equal(await count(), before);
      assert.equal((await ok(server, '/v1/posts?title=Ghost')).data.length, 0);

      const post = (await write(server, 'POST', '/v1/posts', { title: 'Kept', authorId: 1, tags: [2] }, 201)).data;
      for (const [method, json] of [
        ['PATCH', { title: 'Changed', tags: [2, 999999] }],
        ['PUT', { title: 'Changed', authorId: 1, tags: [999999] }],
      ] as const) {
        await expectProblem(await server.fetch(`/v1/posts/${post.id}`, { method, json }), 422, 'KILN_REFERENCE_NOT_FOUND');
        const after = (await ok(server, `/v1/posts/${post.id}?include=tags`)).data;
        assert.deepEqual([after.title, after.tags.map((t: Row) => t.id), after.updatedAt], ['Kept', [2], post.updatedAt], method);
      }
    });

    test('link lists are validated before any SQL', async () => {
      for (const tags of [[1, 1], ['1'], [0], 'x', [null]]) {
        await expectProblem(await server.fetch('/v1/posts', { method: 'POST', json: { title: 'V', authorId: 1, tags } }), 400, 'KILN_VALIDATION_FAILED');
      }
    });
  });
}
