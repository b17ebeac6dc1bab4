import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { data, graphql } from './gql.js';

const ids = (items: { id: string }[]) => items.map((i) => Number(i.id));

for (const backend of BACKENDS) {
  describe(`GraphQL queries (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, BLOG_SEED_PATH);
    });
    after(() => server.close());

    test('a list takes filter, sort, limit and count, and pages with after like REST', async () => {
      const query = `query ($after: String) {
        posts(filter: { status: { eq: published }, title: { icontains: "o" } }, sort: [id_DESC], limit: 2, count: true, after: $after) {
          items { id status } page { limit hasMore nextCursor total }
        }
      }`;
      const first = (await data(server, query)).posts;
      const rest = await (await server.fetch('/v1/posts?status=published&title[icontains]=o&sort=-id&limit=2&count=true')).json();
      assert.deepEqual(
        ids(first.items),
        rest.data.map((p: { id: number }) => p.id),
      );
      assert.deepEqual(first.page, { limit: 2, hasMore: rest.page.hasMore, nextCursor: rest.page.nextCursor, total: rest.page.total });
      assert.ok(first.page.hasMore);
      assert.ok(first.items.every((p: { status: string }) => p.status === 'published'));
      const second = (await data(server, query, { after: first.page.nextCursor })).posts;
      const restNext = await (
        await server.fetch(`/v1/posts?status=published&title[icontains]=o&sort=-id&limit=2&count=true&cursor=${rest.page.nextCursor}`)
      ).json();
      assert.deepEqual(
        ids(second.items),
        restNext.data.map((p: { id: number }) => p.id),
      );
      assert.equal(second.items.length > 0, true);
      assert.ok(Math.max(...ids(second.items)) < Math.min(...ids(first.items)));
    });

    test('the defaults: limit is the page default, count off (total null)', async () => {
      const { posts } = await data(server, '{ posts { items { id } page { limit hasMore nextCursor total } } }');
      assert.deepEqual(ids(posts.items), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.deepEqual(posts.page, { limit: 20, hasMore: false, nextCursor: null, total: null });
    });

    test('a filter through a belongsTo relation, like author.email', async () => {
      const { posts } = await data(server, '{ posts(filter: { author: { email: { eq: "alan@example.com" } } }) { items { id authorId } } }');
      assert.deepEqual(ids(posts.items), [2, 5, 8]);
      assert.ok(posts.items.every((p: { authorId: string }) => p.authorId === '2'));
    });

    test('by id: the record, and null without error for an id that does not exist', async () => {
      const body = await data(server, '{ post(id: 2) { id title authorId } none: post(id: 999999) { id } }');
      assert.deepEqual(body, { post: { id: '2', title: 'On Computable Numbers', authorId: '2' }, none: null });
    });

    test('relations both ways with their own filter, sort and limit; hasMore on a cut list', async () => {
      const { user } = await data(
        server,
        `{ user(id: 2) { name posts(filter: { status: { eq: published } }, sort: [id_DESC], limit: 2) {
            items { id comments(limit: 1, sort: [id_DESC]) { items { id author { name } } page { limit hasMore nextCursor total } } }
            page { limit hasMore nextCursor total }
        } } }`,
      );
      assert.equal(user.name, 'Alan Turing');
      assert.deepEqual(ids(user.posts.items), [8, 5]);
      assert.deepEqual(user.posts.page, { limit: 2, hasMore: true, nextCursor: null, total: null });
      const [first] = user.posts.items;
      assert.deepEqual(first.comments, {
        items: [{ id: '16', author: { name: 'Alan Turing' } }],
        page: { limit: 1, hasMore: true, nextCursor: null, total: null },
      });
    });

    test('manyToMany lists and a list not cut: hasMore false', async () => {
      const { post } = await data(server, '{ post(id: 1) { tags(sort: [name_ASC]) { items { name } page { hasMore } } } }');
      assert.deepEqual(post.tags, { items: [{ name: 'computing' }, { name: 'history' }], page: { hasMore: false } });
    });

    test('fragments, inline fragments, variables, @skip/@include and aliases', async () => {
      const query = `
        query Q($id: ID!, $withBody: Boolean!, $limit: Int) {
          first: post(id: $id) { ...PostBits ... on Post { body @include(if: $withBody) } }
          again: post(id: $id) { title @skip(if: true) id }
          posts(limit: $limit) { items { ...PostBits } }
        }
        fragment PostBits on Post { id title author { ...UserBits } }
        fragment UserBits on User { name }`;
      const body = await data(server, query, { id: '3', withBody: false, limit: 1 });
      assert.deepEqual(body.first, { id: '3', title: body.first.title, author: { name: 'Grace Hopper' } });
      assert.equal('body' in body.first, false);
      assert.deepEqual(body.again, { id: '3' });
      assert.deepEqual(ids(body.posts.items), [1]);
      const withBody = await data(server, query, { id: '3', withBody: true });
      assert.equal(typeof withBody.first.body, 'string');
    });

    test('the same relation twice with the same arguments is read once and shown under both aliases', async () => {
      const { post } = await data(server, '{ post(id: 2) { a: comments(limit: 1) { items { id } } b: comments(limit: 1) { items { body } } } }');
      assert.equal(post.a.items[0].id, '3');
      assert.equal(typeof post.b.items[0].body, 'string');
    });

    test('_etag is the ETag REST gives the record, top-level and included', async () => {
      const rest = await server.fetch('/v1/users/2');
      await rest.arrayBuffer();
      const { user, post } = await data(server, '{ user(id: 2) { _etag } post(id: 2) { author { _etag } } }');
      assert.equal(user._etag, rest.headers.get('etag'));
      assert.equal(post.author._etag, rest.headers.get('etag'));
    });

    test('values as REST writes them: ids as ID, datetimes as ISO text', async () => {
      const { post } = await data(server, '{ post(id: 1) { id createdAt authorId } }');
      const rest = (await (await server.fetch('/v1/posts/1')).json()).data;
      assert.deepEqual(post, { id: '1', createdAt: rest.createdAt, authorId: '1' });
    });

    test('a document with only page info reads no record field', async () => {
      const answer = await graphql(server, '{ posts(limit: 3) { page { hasMore limit } } }');
      assert.deepEqual(answer.body, { data: { posts: { page: { hasMore: true, limit: 3 } } } });
    });
  });
}
