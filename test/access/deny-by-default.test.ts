/**
 * Deny by default, over HTTP: once a model declares a rule, an operation without one is open to no
 * one but the everything roles; a caller refused an operation is told 401 when signing in could help
 * and 403 otherwise; a record outside the caller's rows is answered exactly as a missing one (404); a
 * model without any rule stays open.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { expectExactProblem } from '../auth/accounts-helpers.js';
import { as } from '../helpers/callers.js';
import { BACKENDS, startTestServer, type TestResponse, type TestServer } from '../helpers/server.js';

const accounts = { accounts: { resource: 'users', login: 'email' } };
const email = { type: 'string', format: 'email', maxLength: 254, unique: true };

const ruled = compileOrThrow('deny by default', {
  roles: { editor: {}, admin: { everything: true } },
  auth: accounts,
  resources: {
    users: { access: { read: 'public' }, fields: { email } },
    posts: {
      access: {
        read: "status == 'published' || authorId == auth.id",
        create: 'authenticated',
        update: 'authorId == auth.id',
        delete: "authorId == auth.id && auth.roles has 'editor'",
      },
      fields: {
        title: { type: 'string', maxLength: 200 },
        status: { type: 'enum', values: ['draft', 'published'], default: 'draft' },
        author: { type: 'belongsTo', target: 'users', default: 'auth.id' },
      },
    },
    // Only read is granted: create, update and delete have no rule.
    tags: { access: { read: 'public' }, fields: { name: { type: 'string', maxLength: 50 } } },
  },
});

/** Rules, but no role that does everything: an operation without a rule is nobody's. */
const withoutAdmin = compileOrThrow('no admin', {
  auth: accounts,
  resources: {
    users: { access: { read: 'public' }, fields: { email } },
    notes: { access: { read: 'public' }, fields: { body: { type: 'text', maxLength: 100 } } },
  },
});

const open = compileOrThrow('open', {
  auth: accounts,
  resources: { users: { fields: { email } }, notes: { fields: { body: { type: 'text', maxLength: 100 } } } },
});

async function expectSignIn(res: TestResponse, detail: string): Promise<void> {
  assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln"');
  await expectExactProblem(res, 401, 'KILN_UNAUTHENTICATED', detail);
}

/** The body of a problem without its request id, which differs per request. */
async function problemBody(res: TestResponse): Promise<{ status: number; body: Record<string, unknown> }> {
  const { instance: _instance, ...body } = await res.json();
  return { status: res.status, body };
}

for (const backend of BACKENDS) {
  describe(`deny by default (${backend})`, () => {
    let server: TestServer;
    let tagId: number;
    before(async () => {
      server = await startTestServer(ruled, backend);
      await server.db.query(`INSERT INTO "users" ("email") SELECT 'user' || g || '@example.com' FROM generate_series(1, 3) AS g`);
      const tag = await server.fetch('/v1/tags', { method: 'POST', headers: as(3, ['admin']), json: { name: 'kiln' } });
      assert.equal(tag.status, 201, await tag.clone().text());
      tagId = (await tag.json()).data.id;
    });
    after(() => server.close());

    test('an operation without a rule: 403 for a signed-in caller, whatever their roles', async () => {
      for (const headers of [as(1), as(1, ['editor'])]) {
        await expectExactProblem(
          await server.fetch('/v1/tags', { method: 'POST', headers, json: { name: 'x' } }),
          403,
          'KILN_FORBIDDEN',
          'no rule lets anyone create tags',
        );
        await expectExactProblem(
          await server.fetch(`/v1/tags/${tagId}`, { method: 'PATCH', headers, json: { name: 'x' } }),
          403,
          'KILN_FORBIDDEN',
          'no rule lets anyone update tags',
        );
        await expectExactProblem(
          await server.fetch(`/v1/tags/${tagId}`, { method: 'DELETE', headers }),
          403,
          'KILN_FORBIDDEN',
          'no rule lets anyone delete tags',
        );
      }
      const [row] = await server.db.query<{ name: string }>(`SELECT "name" FROM "tags"`);
      assert.equal(row?.name, 'kiln', 'nothing changed');
    });

    test('an operation without a rule, anonymous: 401, since an admin may (sign in first)', async () => {
      await expectSignIn(await server.fetch('/v1/tags', { method: 'POST', json: { name: 'x' } }), 'sign in to create tags');
      await expectSignIn(await server.fetch(`/v1/tags/${tagId}`, { method: 'DELETE' }), 'sign in to delete tags');
    });

    test('the granted operation is open as declared, to anonymous callers too', async () => {
      const res = await server.fetch('/v1/tags');
      assert.equal(res.status, 200);
      assert.deepEqual(
        (await res.json()).data.map((t: { name: string }) => t.name),
        ['kiln'],
      );
    });

    test('an operation the caller’s roles never allow: 403 signed in, 401 anonymous', async () => {
      const post = await server.fetch('/v1/posts', { method: 'POST', headers: as(1), json: { title: 'Mine', status: 'published' } });
      assert.equal(post.status, 201);
      const { id } = (await post.json()).data;
      await expectExactProblem(
        await server.fetch(`/v1/posts/${id}`, { method: 'DELETE', headers: as(1) }),
        403,
        'KILN_FORBIDDEN',
        'your roles do not allow you to delete posts',
      );
      await expectSignIn(await server.fetch(`/v1/posts/${id}`, { method: 'DELETE' }), 'sign in to delete posts');
      await expectSignIn(await server.fetch('/v1/posts', { method: 'POST', json: { title: 'x' } }), 'sign in to create posts');
      await expectSignIn(await server.fetch(`/v1/posts/${id}`, { method: 'PATCH', json: { title: 'x' } }), 'sign in to update posts');
      assert.equal((await server.fetch(`/v1/posts/${id}`, { method: 'DELETE', headers: as(1, ['editor']) })).status, 204);
    });

    test('a record outside the caller’s rows answers 404, the same body as a missing one', async () => {
      const draft = await server.fetch('/v1/posts', { method: 'POST', headers: as(1), json: { title: 'Draft' } });
      const { id } = (await draft.json()).data;
      assert.equal((await server.fetch(`/v1/posts/${id}`, { headers: as(1) })).status, 200, 'the author reads it');
      const hidden = {
        get: await problemBody(await server.fetch(`/v1/posts/${id}`, { headers: as(2) })),
        anonymous: await problemBody(await server.fetch(`/v1/posts/${id}`)),
        patch: await problemBody(await server.fetch(`/v1/posts/${id}`, { method: 'PATCH', headers: as(2), json: { title: 'Taken' } })),
        delete: await problemBody(await server.fetch(`/v1/posts/${id}`, { method: 'DELETE', headers: as(2, ['editor']) })),
      };
      const list = await (await server.fetch('/v1/posts?status=draft', { headers: as(2) })).json();
      assert.deepEqual(list.data, [], 'nor is it listed');
      const own = await (await server.fetch('/v1/posts?status=draft', { headers: as(1) })).json();
      assert.deepEqual(
        own.data.map((p: { id: number }) => p.id),
        [id],
        'its author lists it',
      );
      // Now it is missing for everyone: the answers must not change.
      assert.equal((await server.fetch(`/v1/posts/${id}`, { method: 'DELETE', headers: as(3, ['admin']) })).status, 204);
      const missing = {
        get: await problemBody(await server.fetch(`/v1/posts/${id}`, { headers: as(2) })),
        anonymous: await problemBody(await server.fetch(`/v1/posts/${id}`)),
        patch: await problemBody(await server.fetch(`/v1/posts/${id}`, { method: 'PATCH', headers: as(2), json: { title: 'Taken' } })),
        delete: await problemBody(await server.fetch(`/v1/posts/${id}`, { method: 'DELETE', headers: as(2, ['editor']) })),
      };
      assert.equal(hidden.get.status, 404);
      assert.equal(hidden.get.body.code, 'KILN_NOT_FOUND');
      assert.deepEqual(hidden, missing);
    });
  });

  describe(`deny by default without an everything role (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(withoutAdmin, backend);
    });
    after(() => server.close());

    test('an operation without a rule is nobody’s: 403 even for an anonymous caller, as signing in cannot help', async () => {
      await expectExactProblem(
        await server.fetch('/v1/notes', { method: 'POST', json: { body: 'x' } }),
        403,
        'KILN_FORBIDDEN',
        'no rule lets anyone create notes',
      );
      await expectExactProblem(
        await server.fetch('/v1/notes', { method: 'POST', headers: as(1), json: { body: 'x' } }),
        403,
        'KILN_FORBIDDEN',
        'no rule lets anyone create notes',
      );
      assert.equal((await server.fetch('/v1/notes')).status, 200);
    });
  });

  describe(`a model without any rule stays open (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(open, backend);
    });
    after(() => server.close());

    test('anyone, anonymous included, creates, reads, updates and deletes', async () => {
      const created = await server.fetch('/v1/notes', { method: 'POST', json: { body: 'x' } });
      assert.equal(created.status, 201);
      const { id } = (await created.json()).data;
      assert.equal((await server.fetch(`/v1/notes/${id}`)).status, 200);
      assert.equal((await server.fetch(`/v1/notes/${id}`, { method: 'PATCH', headers: as(9), json: { body: 'y' } })).status, 200);
      assert.equal((await server.fetch(`/v1/notes/${id}`, { method: 'DELETE' })).status, 204);
    });
  });
}
