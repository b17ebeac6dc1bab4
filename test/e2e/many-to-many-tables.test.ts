import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { field } from '../../src/model/define.js';
import { compileOrThrow } from '../../src/model/load.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Two manyToMany relations from posts to users. They used to share one join table (posts_users), so
 * setting editors replaced the watchers too; each has its own table now, and users pairs with each
 * from its side by naming that table in `through`.
 */
const model = compileOrThrow('many-to-many-tables', {
  resources: {
    users: {
      fields: {
        name: field.string({ maxLength: 50 }),
        posts: field.hasMany('posts'),
        editing: field.manyToMany('posts', { through: 'posts_editors' }),
        watching: field.manyToMany('posts', { through: 'posts_watchers' }),
      },
    },
    posts: {
      fields: {
        title: field.string({ maxLength: 100 }),
        author: field.belongsTo('users'),
        editors: field.manyToMany('users'),
        watchers: field.manyToMany('users'),
      },
    },
  },
});

type Row = Record<string, any>;
const ids = (rows: Row[]) => rows.map((r) => r.id);

for (const backend of BACKENDS) {
  describe(`each manyToMany relation has its own join table (${backend})`, () => {
    let server: TestServer;

    async function send(method: string, path: string, json: unknown, status: number): Promise<Row> {
      const res = await server.fetch(path, { method, json });
      const text = await res.text();
      assert.equal(res.status, status, `${method} ${path}: ${text}`);
      return JSON.parse(text).data;
    }
    async function links(post: number): Promise<{ editors: number[]; watchers: number[] }> {
      const res = await server.fetch(`/v1/posts/${post}?include=editors,watchers`);
      assert.equal(res.status, 200);
      const { data } = await res.json();
      return { editors: ids(data.editors), watchers: ids(data.watchers) };
    }

    before(async () => {
      server = await startTestServer(model, backend);
      for (const name of ['Ada', 'Bob', 'Cy']) await send('POST', '/v1/users', { name }, 201);
    });
    after(() => server.close());

    test('a create sets both lists, and include shows each one', async () => {
      const post = await send('POST', '/v1/posts', { title: 't', authorId: 1, editors: [1, 2], watchers: [3] }, 201);
      assert.deepEqual(await links(post.id), { editors: [1, 2], watchers: [3] });
    });

    test('setting editors leaves watchers unchanged, and the other way round', async () => {
      const post = await send('POST', '/v1/posts', { title: 'u', authorId: 1, editors: [1], watchers: [2, 3] }, 201);
      await send('PATCH', `/v1/posts/${post.id}`, { editors: [2, 3] }, 200);
      assert.deepEqual(await links(post.id), { editors: [2, 3], watchers: [2, 3] });
      await send('PATCH', `/v1/posts/${post.id}`, { watchers: [] }, 200);
      assert.deepEqual(await links(post.id), { editors: [2, 3], watchers: [] });
      await send('PUT', `/v1/posts/${post.id}`, { title: 'v', authorId: 1, watchers: [1] }, 200);
      assert.deepEqual((await links(post.id)).watchers, [1]);
    });

    test('a list of posts includes each relation correctly', async () => {
      const post = await send('POST', '/v1/posts', { title: 'w', authorId: 2, editors: [3], watchers: [1, 2] }, 201);
      const res = await server.fetch(`/v1/posts?include=editors,watchers&id[gte]=${post.id}`);
      const { data } = await res.json();
      assert.deepEqual(
        data.map((p: Row) => [p.id, ids(p.editors), ids(p.watchers)]),
        [[post.id, [3], [1, 2]]],
      );
    });

    test('the users side reads each link through the table it names', async () => {
      const post = await send('POST', '/v1/posts', { title: 'x', authorId: 1, editors: [2], watchers: [3] }, 201);
      const res = await server.fetch('/v1/users/2?include=editing,watching');
      const { data } = await res.json();
      assert.ok(ids(data.editing).includes(post.id));
      assert.ok(!ids(data.watching).includes(post.id));
      await send('PATCH', '/v1/users/3', { editing: [post.id] }, 200);
      assert.deepEqual(await links(post.id), { editors: [2, 3], watchers: [3] });
    });

    test('a link to a missing user names the relation it was written through', async () => {
      const post = await send('POST', '/v1/posts', { title: 'y', authorId: 1, editors: [1], watchers: [2] }, 201);
      const watchers = await expectProblem(
        await server.fetch(`/v1/posts/${post.id}`, { method: 'PATCH', json: { watchers: [999999] } }),
        422,
        'KILN_REFERENCE_NOT_FOUND',
      );
      assert.equal(watchers.detail, 'relation "watchers" points at a record that does not exist');
      assert.deepEqual(
        watchers.errors?.map((e) => [e.path, e.code]),
        [['/watchers', 'reference']],
      );
      assert.match(watchers.errors?.[0]?.message ?? '', /^no such user: /);
      const editors = await expectProblem(
        await server.fetch(`/v1/posts/${post.id}`, { method: 'PATCH', json: { editors: [999999] } }),
        422,
        'KILN_REFERENCE_NOT_FOUND',
      );
      assert.deepEqual(editors.errors?.[0]?.path, '/editors');
      assert.deepEqual(await links(post.id), { editors: [1], watchers: [2] }, 'nothing was written');
    });
  });
}
