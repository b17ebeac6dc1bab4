/**
 * The access rule of a resource enters every statement that touches it, through the one slot of the
 * authorize stage: under "a post is visible to and writable by its author alone", user B cannot read,
 * list, count, filter, include, update, delete or link user A's posts by any REST path, and each
 * statement that reads or writes posts carries the rule itself. The authorization feature reuses this
 * suite with rules declared in the model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { ownAccountOnly, ownPostsOnly, testUserHeader } from '../helpers/owner-policy.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/** The rule compiled for some alias: `<alias>."author_id" = $n`. */
const RULE = /\b[a-z]\w*\."author_id" = \$\d+/;

for (const backend of BACKENDS) {
  describe(`row rules on every path (${backend})`, () => {
    let server: TestServer;
    let a: number;
    let b: number;
    let postA: number;
    let postA2: number;
    let postB: number;
    let tag: number;
    let commentOnA: number;
    const as = (user: number, path: string, init: RequestInit & { json?: unknown } = {}) =>
      server.fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), 'x-test-user': String(user) } });
    const json = async (user: number, path: string) => {
      const res = await as(user, path);
      assert.equal(res.status, 200, `${path}: ${res.status}`);
      return res.json();
    };
    /** Runs `call` and returns the statements it sent that touch the posts table. */
    const statementsOf = async (call: () => Promise<unknown>) => {
      const seen: string[] = [];
      const stop = server.db.observe((text) => seen.push(text));
      try {
        await call();
      } finally {
        stop();
      }
      return seen.filter((text) => text.includes('"posts"'));
    };
    const expectRuleInEach = (statements: string[], what: string) => {
      assert.ok(statements.length > 0, `${what}: no statement touched posts`);
      for (const text of statements) assert.match(text, RULE, `${what}: the rule is missing from ${text}`);
    };

    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, undefined, { authenticators: [testUserHeader], access: ownPostsOnly });
      const user = async (email: string) => (await (await server.fetch('/v1/users', { method: 'POST', json: { email, name: email } })).json()).data.id;
      a = await user('a@example.com');
      b = await user('b@example.com');
      tag = (await (await as(a, '/v1/tags', { method: 'POST', json: { name: 'shared' } })).json()).data.id;
      const post = async (user: number, title: string, tags: number[] = []) =>
        (await (await as(user, '/v1/posts', { method: 'POST', json: { title, authorId: user, tags } })).json()).data.id;
      postA = await post(a, 'secret plans of A', [tag]);
      postA2 = await post(a, 'more of A');
      postB = await post(b, 'public notes of B', [tag]);
      await as(b, '/v1/comments', { method: 'POST', json: { body: 'hi', postId: postB, authorId: b } });
      // A comments on their own post: comments are not ruled, their post is.
      commentOnA = (await (await as(a, '/v1/comments', { method: 'POST', json: { body: 'note to self', postId: postA, authorId: a } })).json()).data.id;
    });
    after(() => server.close());

    test('read by id: 404, the same answer as for an id that does not exist', async () => {
      const statements = await statementsOf(async () => {
        const hidden = await expectProblem(await as(b, `/v1/posts/${postA}`), 404, 'KILN_NOT_FOUND');
        const missing = await expectProblem(await as(b, '/v1/posts/999999'), 404, 'KILN_NOT_FOUND');
        assert.equal(hidden.title, missing.title);
      });
      expectRuleInEach(statements, 'get');
      assert.equal((await json(a, `/v1/posts/${postA}`)).data.title, 'secret plans of A');
    });

    test("list and count: only the caller's rows, and the count agrees", async () => {
      const statements = await statementsOf(async () => {
        const page = await json(b, '/v1/posts?count=true');
        assert.deepEqual(
          page.data.map((p: { id: number }) => p.id),
          [postB],
        );
        assert.equal(page.page.total, 1);
      });
      expectRuleInEach(statements, 'list and count');
      assert.equal(statements.length, 2, 'one statement for the page, one for the count');
      assert.equal((await json(a, '/v1/posts?count=true')).page.total, 2);
    });

    test('filters on a hidden row match nothing, whatever they guess', async () => {
      for (const query of [`id=${postA}`, 'title=secret plans of A', 'title[icontains]=secret', `authorId=${a}`, `id[in]=${postA},${postA2}`]) {
        const statements = await statementsOf(async () => assert.deepEqual((await json(b, `/v1/posts?${query}`)).data, [], query));
        expectRuleInEach(statements, query);
      }
    });

    test('a filter through a relation cannot reveal a hidden row (author.… on posts, post.… on comments)', async () => {
      const statements = await statementsOf(async () => {
        assert.deepEqual((await json(b, `/v1/comments?post.title=secret plans of A`)).data, []);
        assert.deepEqual((await json(b, `/v1/comments?post.authorId=${a}`)).data, []);
      });
      expectRuleInEach(statements, 'relation filter');
      assert.equal((await json(a, `/v1/comments?post.title=secret plans of A`)).data.length, 1, 'the owner matches it');
    });

    test('includes at every depth leave hidden rows out', async () => {
      const cases: [string, (body: any) => void][] = [
        // belongsTo joined into the comment's own statement
        [`/v1/comments/${commentOnA}?include=post`, (body) => assert.equal(body.data.post, null)],
        // hasMany at depth 1
        [`/v1/users/${a}?include=posts`, (body) => assert.deepEqual(body.data.posts, [])],
        // manyToMany at depth 1
        [
          `/v1/tags/${tag}?include=posts`,
          (body) =>
            assert.deepEqual(
              body.data.posts.map((p: { id: number }) => p.id),
              [postB],
            ),
        ],
        // depth 2: belongsTo below a hasMany, and manyToMany below a belongsTo
        [`/v1/users/${a}?include=comments.post`, (body) => assert.equal(body.data.comments[0].post, null)],
        [`/v1/comments/${commentOnA}?include=author.posts`, (body) => assert.deepEqual(body.data.author.posts, [])],
        // depth 3 through manyToMany both ways
        [
          `/v1/posts/${postB}?include=tags.posts.comments`,
          (body) =>
            assert.deepEqual(
              body.data.tags[0].posts.map((p: { id: number }) => p.id),
              [postB],
            ),
        ],
      ];
      for (const [path, check] of cases) {
        const statements = await statementsOf(async () => check(await json(b, path)));
        expectRuleInEach(statements, path);
      }
    });

    test('update, replace and delete: 404, nothing changes, with or without If-Match', async () => {
      const etag = (await as(a, `/v1/posts/${postA}`)).headers.get('etag') ?? '';
      const statements = await statementsOf(async () => {
        await expectProblem(await as(b, `/v1/posts/${postA}`, { method: 'PATCH', json: { title: 'mine now' } }), 404, 'KILN_NOT_FOUND');
        await expectProblem(await as(b, `/v1/posts/${postA}`, { method: 'PUT', json: { title: 'mine now', authorId: b } }), 404, 'KILN_NOT_FOUND');
        await expectProblem(await as(b, `/v1/posts/${postA}`, { method: 'PATCH', json: { title: 'x' }, headers: { 'if-match': etag } }), 404, 'KILN_NOT_FOUND');
        await expectProblem(await as(b, `/v1/posts/${postA}`, { method: 'DELETE' }), 404, 'KILN_NOT_FOUND');
        await expectProblem(await as(b, `/v1/posts/${postA}`, { method: 'DELETE', headers: { 'if-match': etag } }), 404, 'KILN_NOT_FOUND');
      });
      expectRuleInEach(statements, 'update and delete');
      assert.equal((await json(a, `/v1/posts/${postA}`)).data.title, 'secret plans of A');
    });

    test('a new or changed row must meet the rule: no post created for someone else, none moved to someone else', async () => {
      const before = (await json(a, '/v1/posts?count=true')).page.total;
      const created = await expectProblem(await as(b, '/v1/posts', { method: 'POST', json: { title: 'forged', authorId: a } }), 403, 'KILN_FORBIDDEN');
      assert.match(String(created.detail), /does not meet your access rule/);
      await expectProblem(
        await as(b, '/v1/posts/bulk', {
          method: 'POST',
          json: [
            { title: 'ok', authorId: b },
            { title: 'forged', authorId: a },
          ],
        }),
        403,
        'KILN_FORBIDDEN',
      );
      await expectProblem(await as(b, `/v1/posts/${postB}`, { method: 'PATCH', json: { authorId: a } }), 403, 'KILN_FORBIDDEN');
      assert.equal((await json(a, '/v1/posts?count=true')).page.total, before, 'nothing was written for A');
      assert.equal((await json(b, `/v1/posts/${postB}`)).data.authorId, b, 'the post stayed with B');
      assert.equal((await json(b, '/v1/posts?title=ok')).data.length, 0, 'the bulk create was rolled back whole');
    });

    test('a reference to a hidden row is refused exactly like one to a missing row', async () => {
      const hidden = await expectProblem(
        await as(b, '/v1/comments', { method: 'POST', json: { body: 'x', postId: postA, authorId: b } }),
        422,
        'KILN_REFERENCE_NOT_FOUND',
      );
      const missing = await expectProblem(
        await as(b, '/v1/comments', { method: 'POST', json: { body: 'x', postId: 999999, authorId: b } }),
        422,
        'KILN_REFERENCE_NOT_FOUND',
      );
      assert.deepEqual(hidden.errors, missing.errors);
      const bulk = await expectProblem(
        await as(b, '/v1/comments/bulk', {
          method: 'POST',
          json: [
            { body: 'ok', postId: postB, authorId: b },
            { body: 'x', postId: postA, authorId: b },
          ],
        }),
        422,
        'KILN_REFERENCE_NOT_FOUND',
      );
      assert.deepEqual(
        bulk.errors?.map((e) => e.path),
        ['/1/postId'],
      );
      const mine = (await json(b, '/v1/comments?count=true')).page.total;
      const moved = await as(b, `/v1/comments?postId=${postB}`);
      const id = (await moved.json()).data[0].id;
      await expectProblem(await as(b, `/v1/comments/${id}`, { method: 'PATCH', json: { postId: postA } }), 422, 'KILN_REFERENCE_NOT_FOUND');
      assert.equal((await json(b, '/v1/comments?count=true')).page.total, mine);
    });

    test('links: a hidden row cannot be linked, and links to it are left alone', async () => {
      const hidden = await expectProblem(
        await as(b, `/v1/tags/${tag}`, { method: 'PATCH', json: { posts: [postB, postA2] } }),
        422,
        'KILN_REFERENCE_NOT_FOUND',
      );
      const missing = await expectProblem(
        await as(b, `/v1/tags/${tag}`, { method: 'PATCH', json: { posts: [postB, 999999] } }),
        422,
        'KILN_REFERENCE_NOT_FOUND',
      );
      assert.equal(hidden.errors?.[0]?.path, missing.errors?.[0]?.path);
      assert.match(String(hidden.errors?.[0]?.message), new RegExp(`: ${postA2}$`));
      // B replaces the tag's posts with none it can see: A's link stays.
      const statements = await statementsOf(async () => {
        assert.equal((await as(b, `/v1/tags/${tag}`, { method: 'PATCH', json: { posts: [] } })).status, 200);
      });
      expectRuleInEach(statements, 'link write');
      assert.deepEqual(
        (await json(a, `/v1/tags/${tag}?include=posts`)).data.posts.map((p: { id: number }) => p.id),
        [postA],
      );
      assert.equal((await as(b, `/v1/tags/${tag}`, { method: 'PATCH', json: { posts: [postB] } })).status, 200);
      await expectProblem(await as(b, '/v1/tags', { method: 'POST', json: { name: 'grab', posts: [postA] } }), 422, 'KILN_REFERENCE_NOT_FOUND');
    });

    test('anonymous callers see no post at all', async () => {
      assert.deepEqual((await (await server.fetch('/v1/posts')).json()).data, []);
      await expectProblem(await server.fetch(`/v1/posts/${postB}`), 404, 'KILN_NOT_FOUND');
    });
  });

  describe(`a unique value held by a hidden row is not confirmed (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, undefined, { authenticators: [testUserHeader], access: ownAccountOnly });
    });
    after(() => server.close());

    test('409 says the value cannot be used, not that another record has it', async () => {
      const first = await server.fetch('/v1/users', {
        method: 'POST',
        json: { email: 'taken@example.com', name: 'A' },
        headers: { 'x-test-user': '1' },
      });
      assert.equal(first.status, 201);
      const problem = await expectProblem(
        await server.fetch('/v1/users', {
          method: 'POST',
          json: { email: 'taken@example.com', name: 'B' },
          headers: { 'x-test-user': '2' },
        }),
        409,
        'KILN_UNIQUE_VIOLATION',
      );
      assert.equal(problem.detail, 'a value cannot be used because it must be unique; choose another');
      assert.deepEqual(problem.errors, [{ path: '/email', code: 'unique', message: 'this value cannot be used; choose another' }]);
      assert.doesNotMatch(JSON.stringify(problem), /already|another users|exists/);
    });
  });
}
