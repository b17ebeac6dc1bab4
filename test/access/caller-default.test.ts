/**
 * `default: auth.id` over HTTP: the server sets the field from the caller on every create (one or
 * bulk), the client may not send it, an anonymous create asks to sign in, a create rule on the field
 * sees the value; the column gets no SQL default and the API documents the field as read-only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow } from '../../src/model/load.js';
import type { Authenticator } from '../../src/pipeline/authenticate.js';
import { expectExactProblem } from '../auth/accounts-helpers.js';
import { as } from '../helpers/callers.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { generate, tempDir } from '../migrate/helpers.js';

/** Users are the accounts; a post's author is whoever creates it; a note's writer too, when there is one. */
function declaration(postsAccess?: Record<string, unknown>) {
  return {
    auth: { accounts: { resource: 'users', login: 'email' } },
    resources: {
      users: { fields: { email: { type: 'string', format: 'email', maxLength: 254, unique: true } }, ...(postsAccess && { access: { read: 'public' } }) },
      posts: {
        fields: { title: { type: 'string', maxLength: 200 }, author: { type: 'belongsTo', target: 'users', default: 'auth.id' } },
        ...(postsAccess && { access: postsAccess }),
      },
      notes: {
        fields: { body: { type: 'text', maxLength: 1000 }, writer: { type: 'belongsTo', target: 'users', nullable: true, default: 'auth.id' } },
        ...(postsAccess && { access: { create: 'public', read: 'public' } }),
      },
    },
  };
}

/** A caller whose identity is an external subject, not an account id (as a trusted issuer's tokens carry). */
const externalSubject: Authenticator = ({ headers }) => {
  const subject = headers['x-test-subject'];
  return typeof subject === 'string' ? { kind: 'service', id: subject, roles: ['authenticated'] } : undefined;
};

const READ_ONLY = [{ path: '/authorId', code: 'readOnly', message: '"authorId" is set by the server and cannot be written' }];
const SIGN_IN = "sign in to create posts: authorId is set to the signed-in caller's id";

async function withAccounts(server: TestServer): Promise<void> {
  await server.db.query(`INSERT INTO "users" ("email") SELECT 'user' || g || '@example.com' FROM generate_series(1, 6) AS g`);
}

for (const backend of BACKENDS) {
  describe(`default: auth.id on an open model (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(compileOrThrow('caller default', declaration()), backend, {}, undefined, { authenticators: [externalSubject] });
      await withAccounts(server);
    });
    after(() => server.close());

    test('a create sets the field to the caller: account 5 writes a post whose authorId is 5', async () => {
      const res = await server.fetch('/v1/posts', { method: 'POST', headers: as(5), json: { title: 'Mine' } });
      assert.equal(res.status, 201, await res.clone().text());
      const { data } = await res.json();
      assert.equal(data.authorId, 5);
      const [row] = await server.db.query<{ author_id: string }>(`SELECT "author_id" FROM "posts" WHERE "id" = $1`, [data.id]);
      assert.equal(String(row?.author_id), '5');
    });

    test('the client may not send it, as for any read-only field: on create, bulk, PATCH and PUT', async () => {
      for (const authorId of [5, 6]) {
        const res = await server.fetch('/v1/posts', { method: 'POST', headers: as(5), json: { title: 'Theirs', authorId } });
        await expectExactProblem(res, 400, 'KILN_VALIDATION_FAILED', '/authorId: "authorId" is set by the server and cannot be written', READ_ONLY);
      }
      const bulk = await server.fetch('/v1/posts/bulk', { method: 'POST', headers: as(5), json: [{ title: 'a' }, { title: 'b', authorId: 6 }] });
      await expectExactProblem(bulk, 400, 'KILN_VALIDATION_FAILED', '/1/authorId: "authorId" is set by the server and cannot be written', [
        { ...(READ_ONLY[0] as (typeof READ_ONLY)[0]), path: '/1/authorId' },
      ]);
      const { data } = await (await server.fetch('/v1/posts', { method: 'POST', headers: as(5), json: { title: 'Kept' } })).json();
      for (const method of ['PATCH', 'PUT']) {
        const res = await server.fetch(`/v1/posts/${data.id}`, { method, headers: as(5), json: { title: 'Moved', authorId: 6 } });
        await expectExactProblem(res, 400, 'KILN_VALIDATION_FAILED', '/authorId: "authorId" is set by the server and cannot be written', READ_ONLY);
      }
      const [row] = await server.db.query<{ n: number }>(`SELECT count(*)::int AS "n" FROM "posts" WHERE "author_id" <> 5`);
      assert.equal(row?.n, 0, 'no post of anyone else was written');
    });

    test('an anonymous create answers 401 with WWW-Authenticate; a nullable field is left null instead', async () => {
      const res = await server.fetch('/v1/posts', { method: 'POST', json: { title: 'Nobody' } });
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln"');
      await expectExactProblem(res, 401, 'KILN_UNAUTHENTICATED', SIGN_IN);
      const bulk = await server.fetch('/v1/posts/bulk', { method: 'POST', json: [{ title: 'a' }] });
      await expectExactProblem(bulk, 401, 'KILN_UNAUTHENTICATED', SIGN_IN);
      const [row] = await server.db.query<{ n: number }>(`SELECT count(*)::int AS "n" FROM "posts" WHERE "title" IN ('Nobody', 'a')`);
      assert.equal(row?.n, 0);
      const note = await server.fetch('/v1/notes', { method: 'POST', json: { body: 'anonymous' } });
      assert.equal(note.status, 201);
      assert.equal((await note.json()).data.writerId, null);
      const signed = await server.fetch('/v1/notes', { method: 'POST', headers: as(3), json: { body: 'signed' } });
      assert.equal((await signed.json()).data.writerId, 3);
    });

    test('a bulk create sets every record', async () => {
      const res = await server.fetch('/v1/posts/bulk', { method: 'POST', headers: as(4), json: [{ title: 'one' }, { title: 'two' }, { title: 'three' }] });
      assert.equal(res.status, 201, await res.clone().text());
      const { data } = await res.json();
      assert.deepEqual(
        data.map((p: { title: string; authorId: number }) => [p.title, p.authorId]),
        [
          ['one', 4],
          ['two', 4],
          ['three', 4],
        ],
      );
    });

    test('an identity that is no account id cannot be the author: 403, nothing written', async () => {
      const res = await server.fetch('/v1/posts', { method: 'POST', headers: { 'x-test-subject': 'auth0|1234' }, json: { title: 'External' } });
      await expectExactProblem(
        res,
        403,
        'KILN_FORBIDDEN',
        "posts.authorId is set to the id of the account creating it, and this credential's identity is not such an id",
      );
      const big = await server.fetch('/v1/posts', { method: 'POST', headers: { 'x-test-subject': '9223372036854775808' }, json: { title: 'External' } });
      assert.equal(big.status, 403, 'a number beyond bigint is no id either, and no database error');
    });
  });

  describe(`default: auth.id under a create rule on the field (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      const model = compileOrThrow('caller default with rules', declaration({ read: 'public', create: 'authorId == auth.id' }));
      server = await startTestServer(model, backend);
      await withAccounts(server);
    });
    after(() => server.close());

    test('the rule `authorId == auth.id` sees the value the server set: the create passes', async () => {
      const res = await server.fetch('/v1/posts', { method: 'POST', headers: as(2), json: { title: 'Ruled' } });
      assert.equal(res.status, 201, await res.clone().text());
      assert.equal((await res.json()).data.authorId, 2);
      const bulk = await server.fetch('/v1/posts/bulk', { method: 'POST', headers: as(3), json: [{ title: 'x' }, { title: 'y' }] });
      assert.equal(bulk.status, 201, await bulk.clone().text());
    });

    test('anonymous: 401 before anything is validated against the rule', async () => {
      const res = await server.fetch('/v1/posts', { method: 'POST', json: { title: 'Nobody' } });
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln"');
      await expectExactProblem(res, 401, 'KILN_UNAUTHENTICATED', 'sign in to create posts');
    });
  });
}

describe('default: auth.id is no column default, and read-only in the API', () => {
  test('kiln migrate generate writes the column without DEFAULT, and adding the default later needs no migration', async () => {
    const tmp = tempDir();
    try {
      const withDefault = declaration();
      const result = await generate(withDefault, tmp.dir);
      assert.ok(result.written);
      assert.match(result.up, /\n {2}"author_id" bigint NOT NULL,\n/);
      assert.match(result.up, /\n {2}"writer_id" bigint,\n/);
      assert.doesNotMatch(result.up, /auth\.id|auth_id/);
      const again = await generate(withDefault, tmp.dir);
      assert.equal(again.written, false);
    } finally {
      tmp.remove();
    }
    const later = tempDir();
    try {
      const plain = declaration();
      const posts = plain.resources.posts.fields.author as Record<string, unknown>;
      delete posts.default;
      assert.ok((await generate(plain, later.dir)).written);
      assert.equal((await generate(declaration(), later.dir)).written, false);
    } finally {
      later.remove();
    }
  });

  // Read-only in the document's sense of this project: a field of the output schema (as id and the
  // timestamps are) that no write schema (create, update, replace, bulk) accepts.
  test('the OpenAPI document treats the field as read-only: in the record, in no write schema', async () => {
    const model: Model = compileOrThrow('caller default', declaration());
    const [backend] = BACKENDS;
    const server = await startTestServer(model, backend ?? 'pglite');
    try {
      const doc = await (await server.fetch('/openapi.json')).json();
      const schemas = doc.components.schemas;
      assert.equal(schemas.Posts.properties.authorId.type, 'integer', 'the record has it');
      assert.ok(schemas.Posts.required.includes('authorId'));
      for (const variant of ['PostsCreate', 'PostsUpdate', 'PostsReplace']) {
        assert.ok(schemas[variant], variant);
        assert.equal(schemas[variant].properties.authorId, undefined, variant);
        assert.ok(!(schemas[variant].required ?? []).includes('authorId'), variant);
        assert.ok(schemas[variant].properties.title, `${variant} still has the other fields`);
      }
    } finally {
      await server.close();
    }
  });
});
