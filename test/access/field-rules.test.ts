/**
 * Field read rules over HTTP, for anonymous callers, another account (Bob), the owner (Ada), auditors
 * and admins: an unreadable field is absent from every answer and include, and unknown to filters,
 * sorts and selections (the very answer an unknown field gets); a field readable on some rows only
 * is decided in the statement itself and cannot be filtered or sorted by; ETags are those of what the
 * caller is shown. Writes are in field-rules-writes.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { expectExactProblem } from '../auth/accounts-helpers.js';
import { as } from '../helpers/callers.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { ADMIN, type Cast, fieldRulesModel, seedCast } from './field-rules-model.js';

type Row = Record<string, any>;

const USER_FIELDS = ['id', 'name', 'nickname', 'roles', 'verified', 'disabled', 'createdAt', 'updatedAt'];
const keys = (row: Row) => Object.keys(row).sort();
const sorted = (...names: string[]) => [...names].sort();

for (const backend of BACKENDS) {
  describe(`field read rules (${backend})`, () => {
    let server: TestServer;
    let cast: Cast;
    before(async () => {
      server = await startTestServer(fieldRulesModel(), backend, { logSql: '1' });
      cast = await seedCast(server);
    });
    after(() => server.close());

    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await server.fetch(path, { headers });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      return { body: JSON.parse(text), etag: res.headers.get('etag'), text };
    };

    test('lists and reads: an unreadable field is absent, a conditional one present on the rows where it holds', async () => {
      const expect = async (headers: Record<string, string>, fieldsOf: (id: number) => string[]) => {
        const { body } = await get('/v1/users', headers);
        for (const row of body.data) assert.deepEqual(keys(row), sorted(...USER_FIELDS, ...fieldsOf(row.id)), `user ${row.id}`);
        const { body: one } = await get(`/v1/users/${cast.ada}`, headers);
        assert.deepEqual(keys(one.data), sorted(...USER_FIELDS, ...fieldsOf(cast.ada)));
      };
      await expect({}, () => []);
      await expect(as(cast.bob), (id) => (id === cast.bob ? ['email'] : []));
      await expect(as(cast.ada), (id) => (id === cast.ada ? ['email'] : []));
      await expect(as(cast.bob, ['auditor']), () => ['email', 'salary']);
      // An admin reads every field but the hidden ones (passwordHash).
      await expect(ADMIN(cast.admin), () => ['email', 'salary']);
      const { body } = await get(`/v1/users/${cast.ada}`, ADMIN(cast.admin));
      assert.equal(body.data.email, 'ada@example.com');
      assert.equal(body.data.salary, 5000);
    });

    test('includes apply the included resource’s own field rules, joined or loaded, at every depth', async () => {
      const POST_FIELDS = ['id', 'title', 'authorId', 'createdAt', 'updatedAt'];
      // Joined belongsTo: Bob sees his own email only, and the editor key of the post he edits.
      const { body: posts } = await get('/v1/posts?include=author', as(cast.bob));
      const byId = new Map(posts.data.map((p: Row) => [p.id, p]));
      const adaPost = byId.get(cast.adaPost) as Row;
      const bobPost = byId.get(cast.bobPost) as Row;
      assert.deepEqual(keys(adaPost), sorted(...POST_FIELDS, 'author'));
      assert.deepEqual(keys(adaPost.author), sorted(...USER_FIELDS));
      assert.deepEqual(keys(bobPost), sorted(...POST_FIELDS, 'editorId', 'author'));
      assert.equal(bobPost.author.email, 'bob@example.com');
      // Loaded hasMany, then belongsTo below it (depth 2).
      const { body: asBob } = await get(`/v1/users/${cast.ada}?include=posts.author`, as(cast.bob));
      assert.deepEqual(keys(asBob.data.posts[0]), sorted(...POST_FIELDS, 'author'));
      assert.deepEqual(keys(asBob.data.posts[0].author), sorted(...USER_FIELDS));
      const { body: asAda } = await get(`/v1/users/${cast.ada}?include=posts.author`, as(cast.ada));
      assert.equal(asAda.data.email, 'ada@example.com');
      assert.deepEqual(keys(asAda.data.posts[0]), sorted(...POST_FIELDS, 'editorId', 'author'));
      assert.equal(asAda.data.posts[0].author.email, 'ada@example.com');
      // Joined belongsTo, then hasMany below it, in a list.
      const { body: anonymous } = await get('/v1/posts?include=author.posts');
      for (const post of anonymous.data) {
        assert.deepEqual(keys(post.author), sorted(...USER_FIELDS, 'posts'));
        for (const inner of post.author.posts) assert.deepEqual(keys(inner), sorted(...POST_FIELDS));
      }
      const { body: admin } = await get(`/v1/posts/${cast.adaPost}?include=author.posts`, ADMIN(cast.admin));
      assert.equal(admin.data.author.email, 'ada@example.com');
      assert.equal(admin.data.author.posts[0].secretNote, 'note');
      assert.equal(admin.data.author.posts[0].reviewerId, cast.bob);
    });

    test('filtering, sorting or selecting an unreadable field, or a relation through an unreadable key, answers as for an unknown one', async () => {
      const cases: [string, string, string, Record<string, string>][] = [
        ['/v1/users?salary=1', 'salary', 'wage', as(cast.bob)],
        ['/v1/users?email=ada@example.com', 'email', 'mail', {}],
        ['/v1/users?sort=-salary', 'salary', 'wage', as(cast.ada)],
        ['/v1/users?fields=id,salary', 'salary', 'wage', as(cast.bob)],
        [`/v1/users/${cast.ada}?fields=id,salary`, 'salary', 'wage', as(cast.ada)],
        ['/v1/posts?secretNote=x', 'secretNote', 'secretNotes', as(cast.ada)],
        ['/v1/posts?author.salary=1', 'salary', 'wage', as(cast.bob)],
        ['/v1/posts?reviewer.name=Bob', 'reviewer', 'checker', as(cast.bob)],
        ['/v1/posts?include=reviewer', 'reviewer', 'checker', as(cast.bob)],
        [`/v1/users/${cast.ada}?include=reviewed`, 'reviewed', 'checked', {}],
        ['/v1/posts?include=author.reviewed', 'reviewed', 'checked', as(cast.ada)],
      ];
      for (const [path, real, fake, headers] of cases) {
        const res = await server.fetch(path, { headers });
        const unknown = await server.fetch(path.replaceAll(real, fake), { headers });
        assert.equal(res.status, 400, path);
        const { instance: _a, ...body } = await res.json();
        const { instance: _b, ...expected } = await unknown.json();
        assert.equal(JSON.stringify(expected).includes(fake), true, `${path}: the unknown name is in its answer`);
        assert.deepEqual(body, JSON.parse(JSON.stringify(expected).replaceAll(fake, real)), path);
      }
      await expectExactProblem(
        await server.fetch('/v1/users?salary=1', { headers: as(cast.bob) }),
        400,
        'KILN_QUERY_INVALID',
        'salary: unknown query parameter "salary": "salary" is not a user field',
        [{ path: 'salary', code: 'unknown', message: 'unknown query parameter "salary": "salary" is not a user field' }],
      );
      await expectExactProblem(
        await server.fetch('/v1/posts?include=reviewer', { headers: as(cast.bob) }),
        400,
        'KILN_QUERY_INVALID',
        'include: "reviewer" is not a post relation',
        [{ path: 'include', code: 'unknown', message: '"reviewer" is not a post relation' }],
      );
      // Those who may read them filter, sort and include them.
      const { body } = await get('/v1/users?salary[gte]=4500&sort=-salary', as(cast.ada, ['auditor']));
      assert.deepEqual(
        body.data.map((u: Row) => u.id),
        [cast.ada],
      );
      const { body: reviewed } = await get('/v1/posts?reviewer.name=Bob&include=reviewer', ADMIN(cast.admin));
      assert.deepEqual(
        reviewed.data.map((p: Row) => [p.id, p.reviewer.id]),
        [[cast.adaPost, cast.bob]],
      );
    });

    test('a field readable on some rows only cannot be filtered or sorted by, nor followed as a key', async () => {
      const restricted = async (path: string, parameter: string, message: string) =>
        expectExactProblem(await server.fetch(path, { headers: as(cast.bob) }), 400, 'KILN_QUERY_INVALID', `${parameter}: ${message}`, [
          { path: parameter, code: 'restricted', message },
        ]);
      await restricted('/v1/users?email=bob@example.com', 'email', 'cannot filter by "email": you may read "email" on some users only');
      await restricted('/v1/users?sort=email', 'sort', 'cannot sort by "email": you may read "email" on some users only');
      await restricted('/v1/posts?author.email=ada@example.com', 'author.email', 'cannot filter by "author.email": you may read "email" on some users only');
      await restricted('/v1/posts?editor.name=Bob', 'editor.name', 'cannot filter by "editor.name": you may read "editorId" on some posts only');
      await restricted('/v1/posts?include=editor', 'include', 'cannot include "editor": you may read "editorId" on some posts only');
      await restricted(`/v1/users/${cast.bob}?include=edited`, 'include', 'cannot include "edited": you may read "editorId" on some posts only');
      // Selecting it is allowed: it shows where it holds.
      const { body } = await get('/v1/users?fields=id,email', as(cast.bob));
      assert.deepEqual(
        body.data,
        [cast.ada, cast.bob, cast.admin].map((id) => (id === cast.bob ? { id, email: 'bob@example.com' } : { id })),
      );
    });

    test('the condition is part of the one statement of the read', async () => {
      const res = await server.fetch('/v1/users', { headers: as(cast.bob) });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      const reqId = res.headers.get('x-request-id');
      for (let i = 0; i < 200 && !server.logs.some((l) => l.reqId === reqId && l.msg === 'request'); i++) await new Promise((r) => setTimeout(r, 10));
      const statements = server.logs.filter((l) => l.reqId === reqId && l.msg === 'sql').map((l) => String(l.sql));
      assert.equal(statements.length, 1, statements.join('\n'));
      assert.match(
        statements[0] as string,
        /^SELECT t\."id" AS "id", CASE WHEN t\."id" = \$\d THEN t\."email" END AS "email", \(t\."id" = \$\d\) IS TRUE AS "__shown:email", t\."name"/,
      );
      assert.doesNotMatch(statements[0] as string, /salary/);
    });

    test('an ETag is the hash of the body its caller received, so callers shown different fields get different ones', async () => {
      const one: (string | null)[] = [];
      const lists = new Set<string | null>();
      for (const headers of [{}, as(cast.bob), as(cast.ada), ADMIN(cast.admin)]) {
        const { etag, text } = await get(`/v1/users/${cast.ada}`, headers);
        assert.equal(etag, `"${createHash('sha1').update(text).digest('base64url')}"`);
        one.push(etag);
        const list = await get('/v1/users', headers);
        assert.equal(list.etag, `"${createHash('sha1').update(list.text).digest('base64url')}"`);
        lists.add(list.etag);
      }
      const [anonymous, bob, ada, admin] = one;
      assert.equal(anonymous, bob, 'anonymous and Bob are shown the same fields of Ada');
      assert.equal(new Set([bob, ada, admin]).size, 3);
      assert.equal(lists.size, 4, 'each is shown other fields of the list');
    });

    test('a change to a field the caller cannot read neither changes their ETag nor fails their If-Match', async () => {
      const created = await server.fetch('/v1/posts', { method: 'POST', json: { title: 'draft' }, headers: as(cast.ada) });
      assert.equal(created.status, 201);
      const { data: post } = await created.json();
      const seen = await get(`/v1/posts/${post.id}`, as(cast.ada));
      const adminSeen = await get(`/v1/posts/${post.id}`, ADMIN(cast.admin));
      // Changed behind the API, so that no field Ada reads (updatedAt among them) changes with it.
      await server.db.query('UPDATE "posts" SET "secret_note" = $1 WHERE "id" = $2', ['changed', post.id]);
      const again = await server.fetch(`/v1/posts/${post.id}`, { headers: { ...as(cast.ada), 'if-none-match': seen.etag as string } });
      assert.equal(again.status, 304);
      const adminAgain = await server.fetch(`/v1/posts/${post.id}`, { headers: { ...ADMIN(cast.admin), 'if-none-match': adminSeen.etag as string } });
      assert.equal(adminAgain.status, 200, 'the admin, who reads the note, sees the change');
      await adminAgain.arrayBuffer();
      const patched = await server.fetch(`/v1/posts/${post.id}`, {
        method: 'PATCH',
        json: { title: 'final' },
        headers: { ...as(cast.ada), 'if-match': seen.etag as string },
      });
      assert.equal(patched.status, 200, await patched.clone().text());
      const body = await patched.text();
      assert.equal(patched.headers.get('etag'), `"${createHash('sha1').update(body).digest('base64url')}"`);
      assert.equal(JSON.parse(body).data.secretNote, undefined);
      await server.db.query('UPDATE "posts" SET "secret_note" = $1 WHERE "id" = $2', ['changed again', post.id]);
      const stale = await server.fetch(`/v1/posts/${post.id}`, { method: 'DELETE', headers: { ...as(cast.ada), 'if-match': seen.etag as string } });
      assert.equal(stale.status, 412, 'her own change to the title did change what she sees');
      await stale.arrayBuffer();
      const removed = await server.fetch(`/v1/posts/${post.id}`, {
        method: 'DELETE',
        headers: { ...as(cast.ada), 'if-match': patched.headers.get('etag') as string },
      });
      assert.equal(removed.status, 204);
    });
  });
}
