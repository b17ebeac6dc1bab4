/**
 * Field write rules over HTTP, and what write answers show: a body of create, PATCH, PUT or bulk
 * create that sets a field the caller may not write is refused with 403 naming every such field,
 * before any SQL; a PUT keeps the fields its caller may not write; the answer of a write shows what
 * the caller may read of the written row; admins and Kiln itself (SYSTEM) write and read everything
 * that is not hidden.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../../src/pipeline/context.js';
import { expectExactProblem } from '../auth/accounts-helpers.js';
import { as } from '../helpers/callers.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { ADMIN, type Cast, fieldRulesModel, seedCast } from './field-rules-model.js';

type Row = Record<string, any>;

const forbidden = (path: string, field: string) => ({ path, code: 'forbidden', message: `you may not write "${field}"` });

for (const backend of BACKENDS) {
  describe(`field write rules (${backend})`, () => {
    let server: TestServer;
    let cast: Cast;
    before(async () => {
      server = await startTestServer(fieldRulesModel(), backend);
      cast = await seedCast(server);
    });
    after(() => server.close());

    const send = (method: string, path: string, json: unknown, headers: Record<string, string> = {}) => server.fetch(path, { method, json, headers });
    const ok = async (method: string, path: string, json: unknown, headers: Record<string, string>, status = 200): Promise<Row> => {
      const res = await send(method, path, json, headers);
      const text = await res.text();
      assert.equal(res.status, status, text);
      return JSON.parse(text).data;
    };
    const stored = async (resource: string, id: number): Promise<Row> =>
      (await (await server.fetch(`/v1/${resource}/${id}`, { headers: ADMIN(cast.admin) })).json()).data;
    const count = async (resource: string): Promise<number> => (await (await server.fetch(`/v1/${resource}?count=true&limit=1`)).json()).page.total;

    test('a body setting a field the caller may not write is refused with 403 naming it, for every kind of write and caller', async () => {
      const ada = `/v1/users/${cast.ada}`;
      const before = await stored('users', cast.ada);
      await expectExactProblem(
        await send('PATCH', ada, { email: 'ada@elsewhere.org' }, as(cast.ada)),
        403,
        'KILN_FORBIDDEN',
        '/email: you may not write "email"',
        [forbidden('/email', 'email')],
      );
      await expectExactProblem(
        await send('PUT', ada, { name: 'Ada', salary: 9000, email: 'ada@elsewhere.org' }, as(cast.ada)),
        403,
        'KILN_FORBIDDEN',
        'the body sets 2 fields you may not write',
        [forbidden('/salary', 'salary'), forbidden('/email', 'email')],
      );
      await expectExactProblem(
        await send('PATCH', ada, { salary: null }, as(cast.bob, ['moderator'])),
        403,
        'KILN_FORBIDDEN',
        '/salary: you may not write "salary"',
        [forbidden('/salary', 'salary')],
      );
      // Anyone may create a user, but only an admin may write its email.
      await expectExactProblem(
        await send('POST', '/v1/users', { email: 'eve@example.com', name: 'Eve' }),
        403,
        'KILN_FORBIDDEN',
        '/email: you may not write "email"',
        [forbidden('/email', 'email')],
      );
      await expectExactProblem(
        await send('POST', '/v1/posts', { title: 't', secretNote: 'mine' }, as(cast.bob)),
        403,
        'KILN_FORBIDDEN',
        '/secretNote: you may not write "secretNote"',
        [forbidden('/secretNote', 'secretNote')],
      );
      const posts = await count('posts');
      await expectExactProblem(
        await send('POST', '/v1/posts/bulk', [{ title: 'a' }, { title: 'b', secretNote: 'x' }, { secretNote: null, title: 'c' }], as(cast.bob, ['auditor'])),
        403,
        'KILN_FORBIDDEN',
        'the body sets 2 fields you may not write',
        [forbidden('/1/secretNote', 'secretNote'), forbidden('/2/secretNote', 'secretNote')],
      );
      assert.equal(await count('posts'), posts, 'no item of a refused bulk create was written');
      assert.deepEqual(await stored('users', cast.ada), before, 'no refused write changed anything');
    });

    test('the body is validated first (400), then the caller authorized for the operation (401, 403), then for its fields', async () => {
      await expectExactProblem(
        await send('POST', '/v1/posts', { title: 7, secretNote: 'x' }, as(cast.bob)),
        400,
        'KILN_VALIDATION_FAILED',
        '/title: must be a string of at most 200 characters',
        [{ path: '/title', code: 'type', message: 'must be a string of at most 200 characters' }],
      );
      await expectExactProblem(await send('POST', '/v1/posts', { title: 't', secretNote: 'x' }), 401, 'KILN_UNAUTHENTICATED', 'sign in to create posts');
    });

    test('the answer of a write shows what the caller may read of the row written', async () => {
      const created = await ok('POST', '/v1/posts', { title: 'new', editorId: cast.bob, reviewerId: cast.ada }, as(cast.bob), 201);
      assert.deepEqual(Object.keys(created).sort(), ['authorId', 'createdAt', 'editorId', 'id', 'title', 'updatedAt']);
      const bulk = await ok(
        'POST',
        '/v1/posts/bulk',
        [
          { title: 'x', editorId: cast.ada },
          { title: 'y', editorId: cast.bob },
        ],
        as(cast.bob),
        201,
      );
      assert.deepEqual(
        bulk.map((p: Row) => [p.title, p.editorId]),
        [
          ['x', undefined],
          ['y', cast.bob],
        ],
      );
      assert.equal(Object.hasOwn(bulk[0], 'editorId'), false, 'absent, not null');
      const own = await ok('PATCH', `/v1/users/${cast.ada}`, { nickname: 'countess' }, as(cast.ada));
      assert.equal(own.email, 'ada@example.com');
      assert.equal(Object.hasOwn(own, 'salary'), false);
      const moderated = await ok('PATCH', `/v1/users/${cast.ada}`, { nickname: 'ada' }, as(cast.bob, ['moderator']));
      assert.equal(Object.hasOwn(moderated, 'email'), false, 'the email rule does not hold for the moderator');
      const adminPost = await ok('POST', '/v1/posts', { title: 'by root', secretNote: 'root only' }, ADMIN(cast.admin), 201);
      assert.equal(adminPost.secretNote, 'root only');
    });

    test('PUT keeps the fields its caller may not write, and resets the others it leaves out', async () => {
      const user = await ok('POST', '/v1/users', { email: 'grace@example.com', name: 'Grace', nickname: 'amazing', salary: 7000 }, ADMIN(cast.admin), 201);
      const replaced = await ok('PUT', `/v1/users/${user.id}`, { name: 'Grace Hopper' }, as(user.id));
      assert.equal(replaced.name, 'Grace Hopper');
      assert.equal(replaced.nickname, null, 'a writable field left out goes back to its default');
      assert.equal(replaced.email, 'grace@example.com', 'kept: she may not write it (and it is required)');
      const after = await stored('users', user.id);
      assert.equal(after.salary, 7000, 'kept: she may neither write nor read it');
      assert.equal(after.email, 'grace@example.com');
      // An admin's PUT writes every field: one left out is reset.
      const byAdmin = await ok('PUT', `/v1/users/${user.id}`, { name: 'G', email: 'grace@example.com' }, ADMIN(cast.admin));
      assert.equal(byAdmin.salary, null);
      await expectExactProblem(
        await send('PUT', `/v1/users/${user.id}`, { nickname: 'x' }, as(user.id)),
        400,
        'KILN_VALIDATION_FAILED',
        '/name: "name" is required',
        [{ path: '/name', code: 'required', message: '"name" is required' }],
      );
    });

    test('admins write and read every field but the hidden ones', async () => {
      const updated = await ok('PATCH', `/v1/users/${cast.bob}`, { salary: 4100, email: 'robert@example.com' }, ADMIN(cast.admin));
      assert.equal(updated.salary, 4100);
      assert.equal(updated.email, 'robert@example.com');
      assert.equal(Object.hasOwn(updated, 'passwordHash'), false);
      await expectExactProblem(
        await server.fetch('/v1/users?passwordHash=x', { headers: ADMIN(cast.admin) }),
        400,
        'KILN_QUERY_INVALID',
        'passwordHash: unknown query parameter "passwordHash": "passwordHash" is not a user field',
        [{ path: 'passwordHash', code: 'unknown', message: 'unknown query parameter "passwordHash": "passwordHash" is not a user field' }],
      );
    });

    test('Kiln’s own flows (SYSTEM) write and read every field', async () => {
      const ops = server.kiln.ops;
      const ctx = server.kiln.context({ principal: SYSTEM });
      const row = await ops.create(ctx, 'users', { email: 'sys@example.com', name: 'Sys', salary: 1 });
      assert.equal(row.email, 'sys@example.com');
      assert.equal(row.salary, 1);
      const { rows } = await ops.list(ctx, 'users', { filters: [{ path: ['salary'], operator: 'eq', value: '1' }], sort: ['email'] });
      assert.deepEqual(
        rows.map((r) => r.email),
        ['sys@example.com'],
      );
    });
  });
}
