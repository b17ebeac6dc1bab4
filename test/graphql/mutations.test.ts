import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { data, graphql } from './gql.js';

for (const backend of BACKENDS) {
  describe(`GraphQL mutations (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, BLOG_SEED_PATH);
    });
    after(() => server.close());

    const postCount = async () => (await (await server.fetch('/v1/posts?count=true&limit=1')).json()).page.total as number;

    test('create answers the selected fields and relations of the new record, as REST then reads it', async () => {
      const { createPost } = await data(
        server,
        'mutation ($input: PostCreateInput!) { createPost(input: $input) { id title status authorId author { name } tags { items { id } } _etag } }',
        { input: { title: 'Created over GraphQL', authorId: '2', tags: ['1', 3] } },
      );
      assert.equal(createPost.title, 'Created over GraphQL');
      assert.equal(createPost.status, 'draft');
      assert.equal(createPost.authorId, '2');
      assert.deepEqual(createPost.author, { name: 'Alan Turing' });
      assert.deepEqual(createPost.tags.items.map((t: { id: string }) => t.id).sort(), ['1', '3']);
      const rest = await server.fetch(`/v1/posts/${createPost.id}`);
      assert.equal((await rest.json()).data.title, 'Created over GraphQL');
      assert.equal(createPost._etag, rest.headers.get('etag'));
    });

    test('bulk create writes every record, or none', async () => {
      const before = await postCount();
      const { createPosts } = await data(
        server,
        'mutation { createPosts(inputs: [{ title: "Bulk one", authorId: 1 }, { title: "Bulk two", authorId: 3 }]) { title } }',
      );
      assert.deepEqual(createPosts, [{ title: 'Bulk one' }, { title: 'Bulk two' }]);
      assert.equal(await postCount(), before + 2);
      const answer = await graphql(server, 'mutation { createPosts(inputs: [{ title: "Bulk three", authorId: 1 }, { title: "", authorId: 1 }]) { id } }');
      assert.deepEqual(answer.body, {
        errors: [
          {
            message: '/1/title: must be a string of 1 to 200 characters (this one has 0)',
            locations: [{ line: 1, column: 12 }],
            path: ['createPosts'],
            extensions: {
              code: 'KILN_VALIDATION_FAILED',
              status: 400,
              errors: [{ path: '/1/title', code: 'minLength', message: 'must be a string of 1 to 200 characters (this one has 0)' }],
            },
          },
        ],
        data: { createPosts: null },
      });
      assert.equal(await postCount(), before + 2);
    });

    test('update with the right ifMatch changes the record; a stale one is refused with 412', async () => {
      const { post } = await data(server, '{ post(id: 5) { _etag } }');
      const { updatePost } = await data(server, 'mutation ($tag: String) { updatePost(id: 5, input: { title: "Renamed" }, ifMatch: $tag) { title _etag } }', {
        tag: post._etag,
      });
      assert.equal(updatePost.title, 'Renamed');
      assert.notEqual(updatePost._etag, post._etag);
      const answer = await graphql(server, 'mutation ($tag: String) { updatePost(id: 5, input: { title: "Again" }, ifMatch: $tag) { title } }', {
        tag: post._etag,
      });
      assert.deepEqual(answer.body, {
        errors: [
          {
            message: 'If-Match does not match the current ETag of the record',
            locations: [{ line: 1, column: 27 }],
            path: ['updatePost'],
            extensions: { code: 'KILN_PRECONDITION_FAILED', status: 412 },
          },
        ],
        data: { updatePost: null },
      });
      assert.equal((await data(server, '{ post(id: 5) { title } }')).post.title, 'Renamed');
    });

    test('links: a manyToMany list in an update replaces the links, as in a REST body', async () => {
      const { updatePost } = await data(server, 'mutation { updatePost(id: 6, input: { tags: [1] }) { tags { items { id } } } }');
      assert.deepEqual(updatePost.tags.items, [{ id: '1' }]);
      const rest = await (await server.fetch('/v1/posts/6?include=tags')).json();
      assert.deepEqual(
        rest.data.tags.map((t: { id: number }) => t.id),
        [1],
      );
    });

    test('delete answers the id; the record is gone', async () => {
      const { createTag } = await data(server, 'mutation { createTag(input: { name: "to delete" }) { id } }');
      const { deleteTag } = await data(server, 'mutation ($id: ID!) { deleteTag(id: $id) }', { id: createTag.id });
      assert.equal(deleteTag, createTag.id);
      assert.deepEqual(await data(server, 'query ($id: ID!) { tag(id: $id) { id } }', { id: createTag.id }), { tag: null });
      const again = await graphql(server, 'mutation ($id: ID!) { deleteTag(id: $id) }', { id: createTag.id });
      assert.equal(again.body.errors[0].extensions.code, 'KILN_NOT_FOUND');
      assert.deepEqual(again.body.data, { deleteTag: null });
    });

    test('root mutation fields run in order, each on its own: a failing one leaves the others written', async () => {
      const answer = await graphql(
        server,
        'mutation { a: createTag(input: { name: "first" }) { name } b: createTag(input: { name: "first" }) { name } c: createTag(input: { name: "third" }) { name } }',
      );
      assert.deepEqual(answer.body.data, { a: { name: 'first' }, b: null, c: { name: 'third' } });
      assert.equal(answer.body.errors.length, 1);
      assert.deepEqual(answer.body.errors[0].path, ['b']);
      assert.equal(answer.body.errors[0].extensions.code, 'KILN_UNIQUE_VIOLATION');
    });

    test('a body REST refuses is refused with the same message and errors', async () => {
      const bad = { title: 'x'.repeat(201), body: 'b', authorId: 1, tags: [1, 1] };
      const rest = await server.fetch('/v1/posts', { method: 'POST', json: bad });
      assert.equal(rest.status, 400);
      const problem = await rest.json();
      const answer = await graphql(server, 'mutation ($input: PostCreateInput!) { createPost(input: $input) { id } }', { input: bad });
      assert.equal(answer.body.errors.length, 1);
      const [error] = answer.body.errors;
      assert.equal(error.message, problem.detail);
      assert.deepEqual(error.extensions, { code: problem.code, status: 400, errors: problem.errors });
      assert.ok(problem.errors.length >= 2, JSON.stringify(problem.errors));
      const empty = await graphql(server, 'mutation { updatePost(id: 2, input: {}) { id } }');
      const restEmpty = await (await server.fetch('/v1/posts/2', { method: 'PATCH', json: {} })).json();
      assert.equal(empty.body.errors[0].message, restEmpty.detail);
      assert.deepEqual(empty.body.errors[0].extensions, { code: restEmpty.code, status: 400, errors: restEmpty.errors });
    });
  });
}
