import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADA, ALAN, type BlogWorld, callers, SEEDED_DRAFTS, SEEDED_PUBLISHED, startBlogWorld } from '../access/blog-world.js';
import { BACKENDS } from '../helpers/server.js';
import { data, graphql } from './gql.js';

const numbers = (items: { id: string }[]) => items.map((i) => Number(i.id));

for (const backend of BACKENDS) {
  describe(`GraphQL under the blog's access rules (${backend})`, () => {
    let world: BlogWorld;
    before(async () => {
      world = await startBlogWorld(backend);
    });
    after(() => world.server.close());

    test('anonymous sees only published posts, in lists and by id', async () => {
      const body = await data(world.server, '{ posts(limit: 100) { items { id status } } draft: post(id: 1) { id } }', undefined, callers.anonymous);
      assert.deepEqual(numbers(body.posts.items), SEEDED_PUBLISHED);
      assert.equal(body.draft, null);
    });

    test("a caller cannot reach another's drafts through a relation", async () => {
      const { user } = await data(world.server, `{ user(id: ${ALAN}) { posts(limit: 100) { items { id } } } }`, undefined, world.asBarbara);
      assert.ok(!numbers(user.posts.items).includes(world.alanDraft.id));
      assert.ok(numbers(user.posts.items).length > 0);
      const ada = await data(world.server, `{ user(id: ${ADA}) { comments(limit: 100) { items { id post { id status } } } } }`, undefined, world.asBarbara);
      const posts = ada.user.comments.items.map((c: { post: { id: string } }) => Number(c.post.id));
      assert.ok(posts.length > 0);
      assert.ok(posts.every((id: number) => !SEEDED_DRAFTS.includes(id)));
      const onDraft = await data(world.server, `{ comment(id: ${world.alanDraft.comments[0]}) { id } }`, undefined, world.asBarbara);
      assert.deepEqual(onDraft, { comment: null });
      const alan = await data(world.server, `{ post(id: ${world.alanDraft.id}) { comments { items { id } } } }`, undefined, callers.alan);
      assert.deepEqual(numbers(alan.post.comments.items).sort(), [...world.alanDraft.comments].sort());
    });

    test('email: null on the rows the caller may not read it on, its value on its own', async () => {
      const { users } = await data(world.server, '{ users(limit: 100) { items { id email } } }', undefined, world.asBarbara);
      for (const user of users.items) assert.equal(user.email, Number(user.id) === world.barbara ? 'barbara@example.com' : null);
      const rest = await world.call(callers.anonymous, '/v1/users?fields=email');
      const answer = await graphql(world.server, '{ users { items { email } } }', undefined, callers.anonymous);
      if (rest.status === 400) {
        const problem = await rest.json();
        assert.deepEqual(answer.body.errors[0].extensions, { code: 'KILN_QUERY_INVALID', status: 400, errors: problem.errors });
        assert.equal(answer.body.errors[0].message, problem.detail);
        assert.deepEqual(answer.body.data, { users: null });
      } else {
        assert.equal(rest.status, 200);
        assert.ok(answer.body.data.users.items.every((u: { email: unknown }) => u.email === null));
      }
    });

    test("a create sets authorId to the caller; updating another's post is KILN_NOT_FOUND, as REST", async () => {
      const { createPost } = await data(world.server, 'mutation { createPost(input: { title: "Mine" }) { id authorId status } }', undefined, world.asBarbara);
      assert.deepEqual({ authorId: createPost.authorId, status: createPost.status }, { authorId: String(world.barbara), status: 'draft' });
      const problem = await world.json(world.asBarbara, `/v1/posts/${world.alanDraft.id}`, 404, { method: 'PATCH', json: { title: 'Taken' } });
      const answer = await graphql(
        world.server,
        `mutation { updatePost(id: ${world.alanDraft.id}, input: { title: "Taken" }) { id } }`,
        undefined,
        world.asBarbara,
      );
      assert.deepEqual(answer.body, {
        errors: [{ message: problem.detail, locations: [{ line: 1, column: 12 }], path: ['updatePost'], extensions: { code: 'KILN_NOT_FOUND', status: 404 } }],
        data: { updatePost: null },
      });
    });

    test('an anonymous create: KILN_UNAUTHENTICATED with 401, where REST answers 401', async () => {
      const problem = await world.json(callers.anonymous, '/v1/posts', 401, { method: 'POST', json: { title: 'Anon' } });
      const answer = await graphql(world.server, 'mutation { createPost(input: { title: "Anon" }) { id } }', undefined, callers.anonymous);
      assert.deepEqual(answer.body, {
        errors: [
          { message: problem.detail, locations: [{ line: 1, column: 12 }], path: ['createPost'], extensions: { code: 'KILN_UNAUTHENTICATED', status: 401 } },
        ],
        data: { createPost: null },
      });
    });
  });
}
