/**
 * Includes have a budget: a read whose page and includes could return more records at worst than
 * KILN_INCLUDE_MAX_ROWS is refused with 400 before any SQL runs, naming the parameter; a hasMany or
 * manyToMany include returns at most KILN_INCLUDE_LIMIT records per parent and says so in `_truncated`.
 * The fan-out that once answered 80 MB (include=tags.posts.tags on 40 posts × 20 tags) is refused, and
 * the one that took the process to 1.6 GB (include=tags.posts) answers a bounded page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

type Row = Record<string, any>;

for (const backend of BACKENDS) {
  describe(`include budget (${backend})`, () => {
    let server: TestServer;
    let busyPost: number;
    let quietPost: number;

    before(async () => {
      server = await startTestServer(await blogModel(), backend);
      const user = (await (await server.fetch('/v1/users', { method: 'POST', json: { email: 'fan@example.com', name: 'Fan' } })).json()).data.id;
      const tags = (await (await server.fetch('/v1/tags/bulk', { method: 'POST', json: Array.from({ length: 25 }, (_, i) => ({ name: `t${i}` })) })).json())
        .data;
      const tagIds = tags.map((t: Row) => t.id);
      const posts = Array.from({ length: 40 }, (_, i) => ({ title: `p${i}`, authorId: user, tags: tagIds }));
      const created = (await (await server.fetch('/v1/posts/bulk', { method: 'POST', json: posts })).json()).data;
      busyPost = created[0].id;
      quietPost = (await (await server.fetch('/v1/posts', { method: 'POST', json: { title: 'quiet', authorId: user, tags: tagIds.slice(0, 2) } })).json()).data
        .id;
      const comments = Array.from({ length: 23 }, (_, i) => ({ body: `c${i}`, postId: busyPost, authorId: user }));
      assert.equal((await server.fetch('/v1/comments/bulk', { method: 'POST', json: comments })).status, 201);
    });
    after(() => server.close());

    const statementsDuring = async (call: () => Promise<void>) => {
      let count = 0;
      const stop = server.db.observe(() => {
        count++;
      });
      try {
        await call();
      } finally {
        stop();
      }
      return count;
    };

    test('a fan-out whose worst case is over the budget is refused with 400 naming include, before any SQL', async () => {
      const statements = await statementsDuring(async () => {
        const problem = await expectProblem(await server.fetch('/v1/posts?include=tags.posts.tags'), 400, 'KILN_QUERY_INVALID');
        assert.deepEqual(
          problem.errors?.map((e) => [e.path, e.code]),
          [['include', 'budget']],
        );
        assert.match(String(problem.errors?.[0]?.message), /could return up to 168420 records .* at most 10000/);
      });
      assert.equal(statements, 0, 'no SQL ran');
    });

    test('a smaller page brings the same include under the budget', async () => {
      const { data } = await (await server.fetch('/v1/posts?include=tags.posts&limit=2')).json();
      assert.equal(data.length, 2);
      for (const post of data) {
        assert.equal(post.tags.length, 20);
        for (const tag of post.tags) assert.ok(tag.posts.length <= 20);
      }
    });

    test('to-many includes stop at the include limit per parent and name the cut relation in _truncated', async () => {
      const busy = (await (await server.fetch(`/v1/posts/${busyPost}?include=comments,tags,author`)).json()).data;
      assert.equal(busy.comments.length, 20);
      assert.equal(busy.tags.length, 20);
      assert.deepEqual([...busy._truncated].sort(), ['comments', 'tags']);
      assert.deepEqual(
        busy.comments.map((c: Row) => c.body),
        Array.from({ length: 20 }, (_, i) => `c${i}`),
        'the first ones, in the default order',
      );
      const quiet = (await (await server.fetch(`/v1/posts/${quietPost}?include=comments,tags`)).json()).data;
      assert.equal(quiet.tags.length, 2);
      assert.equal(quiet._truncated, undefined, 'nothing was cut, nothing is said');
    });

    test('_truncated appears below a page too, and on nested records', async () => {
      const { data } = await (await server.fetch(`/v1/users?include=posts.tags&limit=5`)).json();
      const fan = data.find((u: Row) => u.posts.length > 0);
      assert.deepEqual(fan._truncated, ['posts']);
      assert.deepEqual(fan.posts[0]._truncated, ['tags']);
    });

    test('a too deep include is refused naming include', async () => {
      const problem = await expectProblem(await server.fetch('/v1/posts?include=author.posts.author.posts'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(
        problem.errors?.map((e) => [e.path, e.code, e.message]),
        [['include', 'depth', '"author.posts.author.posts" is nested deeper than 3 levels']],
      );
    });
  });

  describe(`include budget settings (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend, { includeMaxRows: 50, includeLimit: 5, includeMaxDepth: 1 });
    });
    after(() => server.close());

    test('a page alone over the budget is refused naming limit; the limits come from the settings', async () => {
      const problem = await expectProblem(await server.fetch('/v1/posts?limit=60'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(
        problem.errors?.map((e) => [e.path, e.code]),
        [['limit', 'budget']],
      );
      assert.equal((await server.fetch('/v1/posts?limit=50')).status, 200);
      // 9 posts, each with up to 5 comments: 54 at worst.
      await expectProblem(await server.fetch('/v1/posts?limit=9&include=comments'), 400, 'KILN_QUERY_INVALID');
      assert.equal((await server.fetch('/v1/posts?limit=8&include=comments')).status, 200);
      const deep = await expectProblem(await server.fetch('/v1/posts?limit=1&include=comments.author'), 400, 'KILN_QUERY_INVALID');
      assert.equal(deep.errors?.[0]?.code, 'depth');
    });
  });
}
