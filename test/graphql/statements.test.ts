/**
 * A query's SQL statements do not grow with its rows: a 3-level query over 50 posts runs as many
 * statements as over 5 (one per level, whatever the row count). Counted from KILN_LOG_SQL's lines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blogModelWithoutCode } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { data, graphql } from './gql.js';

async function statementsOf(server: TestServer, requestId: string | null): Promise<string[]> {
  const done = () => server.logs.some((l) => l.reqId === requestId && l.msg === 'request');
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  return server.logs.filter((l) => l.reqId === requestId && l.msg === 'sql').map((l) => String(l.sql));
}

const QUERY = `query ($prefix: String!) {
  posts(filter: { title: { startsWith: $prefix } }, limit: 100) {
    items { title author { name } comments(limit: 5) { items { body author { name } } } }
  }
}`;

for (const backend of BACKENDS) {
  describe(`GraphQL statements per query (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModelWithoutCode(), backend, { logSql: '1' });
      const users = await server.fetch('/v1/users/bulk', { method: 'POST', json: [1, 2, 3].map((n) => ({ email: `u${n}@example.com`, name: `User ${n}` })) });
      assert.equal(users.status, 201);
      const userIds = (await users.json()).data.map((u: { id: number }) => u.id);
      for (const [prefix, count] of [
        ['few', 5],
        ['many', 50],
      ] as const) {
        const posts = Array.from({ length: count }, (_, i) => ({ title: `${prefix} ${i}`, authorId: userIds[i % 3] }));
        const res = await server.fetch('/v1/posts/bulk', { method: 'POST', json: posts });
        assert.equal(res.status, 201);
        const comments = (await res.json()).data.flatMap((p: { id: number }, i: number) =>
          [0, 1].map((k) => ({ body: `c${k}`, postId: p.id, authorId: userIds[(i + k) % 3] })),
        );
        assert.equal((await server.fetch('/v1/comments/bulk', { method: 'POST', json: comments })).status, 201);
      }
    });
    after(() => server.close());

    test('posts → author and comments → author: as many statements over 50 posts as over 5', async () => {
      const few = await graphql(server, QUERY, { prefix: 'few' });
      const many = await graphql(server, QUERY, { prefix: 'many' });
      assert.equal(few.body.data.posts.items.length, 5);
      assert.equal(many.body.data.posts.items.length, 50);
      assert.ok(
        many.body.data.posts.items.every(
          (p: { comments: { items: { author: { name: string } }[] } }) => p.comments.items.length === 2 && p.comments.items[0]?.author.name,
        ),
      );
      const fewStatements = await statementsOf(server, few.requestId);
      const manyStatements = await statementsOf(server, many.requestId);
      assert.ok(fewStatements.length > 0);
      assert.equal(manyStatements.length, fewStatements.length, `${fewStatements.join('\n')}\n---\n${manyStatements.join('\n')}`);
      // The page (with its author joined in), the comments, their authors.
      assert.equal(manyStatements.length, 3);
    });

    test('a by-id query reads in the same fixed number of statements', async () => {
      const { posts } = await data(server, '{ posts(limit: 1, filter: { title: { eq: "many 0" } }) { items { id } } }');
      const answer = await graphql(server, 'query ($id: ID!) { post(id: $id) { author { name } comments { items { author { name } } } } }', {
        id: posts.items[0].id,
      });
      assert.equal(answer.body.data.post.comments.items.length, 2);
      assert.equal((await statementsOf(server, answer.requestId)).length, 3);
    });
  });
}
