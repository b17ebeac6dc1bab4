/**
 * Lifecycle hooks over HTTP: a before-hook changes the input (and may set readOnly fields), refuses
 * with a KilnError, or fails; its own writes commit or roll back with the write; after-hooks run once
 * the write committed and cannot change the answer; afterRead changes what reads return. Resources
 * without hooks keep their single-statement writes.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { calls, hooksModel, probe, seenAfterCommit } from './hooks-model.js';

for (const backend of BACKENDS) {
  describe(`lifecycle hooks (${backend})`, () => {
    let server: TestServer;
    const create = (json: unknown) => server.fetch('/v1/notes', { method: 'POST', json });
    const count = async (table: string) => Number((await server.db.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`))[0]?.n);

    before(async () => {
      server = await startTestServer(hooksModel, backend);
    });
    after(() => server.close());
    beforeEach(() => {
      calls.length = 0;
      seenAfterCommit.length = 0;
      probe.query = undefined;
    });

    test('beforeCreate sees the validated input and sets a readOnly field the client may not send', async () => {
      const res = await create({ title: 'Hello World' });
      assert.equal(res.status, 201);
      const { data } = await res.json();
      assert.equal(data.slug, 'hello-world');
      assert.equal(data.title, 'Hello World', 'the create answers the row written, not one changed by afterCreate or afterRead');
      assert.deepEqual(calls[0], { hook: 'beforeCreate', detail: { title: 'Hello World' } });
      const sent = await expectProblem(await create({ title: 'x', slug: 'mine' }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(sent.errors, [{ path: '/slug', code: 'readOnly', message: '"slug" is set by the server and cannot be written' }]);
    });

    test('a bulk create runs beforeCreate once per record, in order; one refusal writes none of them', async () => {
      const bulk = (json: unknown) => server.fetch('/v1/notes/bulk', { method: 'POST', json });
      const res = await bulk([{ title: 'Bulk One' }, { title: 'Bulk Two' }]);
      assert.equal(res.status, 201);
      const { data } = await res.json();
      assert.deepEqual(
        data.map((n: { slug: string }) => n.slug),
        ['bulk-one', 'bulk-two'],
      );
      assert.deepEqual(
        calls.filter((c) => c.hook === 'beforeCreate').map((c) => c.detail),
        [{ title: 'Bulk One' }, { title: 'Bulk Two' }],
      );
      const before = await count('notes');
      await expectProblem(await bulk([{ title: 'Bulk Three' }, { title: 'refuse' }]), 409, 'TEST_TITLE_TAKEN');
      assert.equal(await count('notes'), before, 'the record before the refusal was rolled back with it');
    });

    test('a hook refusing with an app error code answers its problem+json, and nothing is written', async () => {
      const before = await count('notes');
      const body = await expectProblem(await create({ title: 'refuse' }), 409, 'TEST_TITLE_TAKEN');
      assert.equal(body.title, 'Title already taken');
      assert.equal(body.detail, 'the title "refuse" is taken');
      assert.equal(body.type, 'https://kiln.dev/errors/TEST_TITLE_TAKEN');
      assert.equal(await count('notes'), before);
    });

    test("a hook's own writes (through ops and raw SQL on tx) roll back with a refused write", async () => {
      const audits = await count('audits');
      await expectProblem(await create({ title: 'rollback' }), 409, 'TEST_TITLE_TAKEN');
      assert.equal(await count('audits'), audits, 'no audit row survives the refusal');
    });

    test("a hook's own writes commit with the write, and its reads see them", async () => {
      const audits = await count('audits');
      const res = await create({ title: 'audited' });
      assert.equal(res.status, 201);
      const { data } = await res.json();
      assert.match(data.body, /^audit \d+$/);
      assert.equal(await count('audits'), audits + 1);
    });

    test('a hook that throws anything but a KilnError answers 500 KILN_INTERNAL, logged, not leaked; the server keeps serving', async () => {
      const before = await count('notes');
      const res = await create({ title: 'crash' });
      const id = res.headers.get('x-request-id');
      const body = await expectProblem(res, 500, 'KILN_INTERNAL');
      assert.doesNotMatch(JSON.stringify(body), /secret internal failure/);
      const line = server.logs.find((l) => l.hook === 'notes.beforeCreate' && l.reqId === id);
      assert.ok(line, 'the log names the hook under the request id');
      assert.match(JSON.stringify(line), /secret internal failure/);
      assert.equal(await count('notes'), before);
      assert.equal((await create({ title: 'still serving' })).status, 201);
    });

    test('a database error in a hook’s own query is answered as that error (409 here), not as a bug of the hook', async () => {
      const before = await count('notes');
      const body = await expectProblem(await create({ title: 'raw duplicate' }), 409, 'KILN_UNIQUE_VIOLATION');
      assert.equal(body.detail, 'another note already has this value of slug');
      assert.equal(await count('notes'), before);
    });

    test('a hook handing back a value the model refuses is the hook’s fault: 500, with the field in the log', async () => {
      for (const [title, field] of [
        ['bad output', '/slug'],
        ['bad enum', '/mood'],
      ] as const) {
        const res = await create({ title });
        const id = res.headers.get('x-request-id');
        const body = await expectProblem(res, 500, 'KILN_INTERNAL');
        assert.equal(body.errors, undefined);
        const line = server.logs.find((l) => l.hook === 'notes.beforeCreate' && l.reqId === id);
        assert.ok(line);
        assert.match(JSON.stringify(line), new RegExp(`${field}: `));
      }
    });

    test('afterCreate runs after the commit, with a copy of the row', async () => {
      probe.query = async (id) => (await server.db.query(`SELECT "title" FROM "notes" WHERE "id" = $1`, [id]))[0];
      const res = await create({ title: 'committed first' });
      assert.equal(res.status, 201);
      const { data } = await res.json();
      assert.equal(data.title, 'committed first', 'what the hook did to its row is not in the answer');
      assert.deepEqual(seenAfterCommit, [{ title: 'committed first' }], 'another connection already sees the row');
      assert.deepEqual(
        calls.map((c) => c.hook),
        ['beforeCreate', 'afterCreate'],
      );
    });

    test('a failing after-hook is logged with the request id and does not change the answer', async () => {
      const res = await create({ title: 'mail', body: 'fail after' });
      assert.equal(res.status, 201);
      const id = res.headers.get('x-request-id');
      const line = server.logs.find((l) => l.hook === 'notes.afterCreate' && l.requestId === id);
      assert.ok(line, 'the failure is logged');
      assert.equal(line.msg, 'after-hook failed; the write stands and the answer is unchanged');
      assert.equal((await server.fetch(`/v1/notes/${(await res.json()).data.id}`)).status, 200, 'the write stands');
    });

    test('beforeUpdate gets the id and the changed fields, may change them, and may refuse', async () => {
      const { data } = await (await create({ title: 'Before' })).json();
      calls.length = 0;
      const res = await server.fetch(`/v1/notes/${data.id}`, { method: 'PATCH', json: { title: 'After Rename' } });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).data.slug, 'after-rename');
      assert.deepEqual(calls, [
        { hook: 'beforeUpdate', detail: { id: data.id, title: 'After Rename', replace: false } },
        { hook: 'afterUpdate', detail: data.id },
      ]);
      await expectProblem(await server.fetch(`/v1/notes/${data.id}`, { method: 'PATCH', json: { title: 'refuse' } }), 409, 'TEST_TITLE_TAKEN');
      const put = await server.fetch(`/v1/notes/${data.id}`, { method: 'PUT', json: { title: 'Replaced' } });
      assert.equal(put.status, 200);
      assert.equal((await put.json()).data.slug, 'replaced');
      assert.deepEqual(calls.at(-2)?.detail, { id: data.id, title: 'Replaced', replace: true });
    });

    test('beforeDelete may refuse; afterDelete gets the id', async () => {
      const first = await server.fetch('/v1/notes/1', { method: 'DELETE' });
      const body = await expectProblem(first, 403, 'KILN_FORBIDDEN');
      assert.equal(body.detail, 'the first note stays');
      const { data } = await (await create({ title: 'Doomed' })).json();
      calls.length = 0;
      assert.equal((await server.fetch(`/v1/notes/${data.id}`, { method: 'DELETE' })).status, 204);
      assert.deepEqual(calls, [
        { hook: 'beforeDelete', detail: { id: data.id } },
        { hook: 'afterDelete', detail: data.id },
      ]);
    });

    test('beforeUpdate and beforeDelete never see a record that does not exist or that the caller may not change: 404 first', async () => {
      for (const method of ['PATCH', 'DELETE']) {
        const missing = await server.fetch('/v1/notes/999999', { method, ...(method === 'PATCH' && { json: { title: 'refuse' } }) });
        const body = await expectProblem(missing, 404, 'KILN_NOT_FOUND');
        assert.equal(body.detail, 'no such note (id 999999)');
      }
      const closed = await (await server.fetch('/v1/pins', { method: 'POST', json: { label: 'closed', open: false } })).json();
      const open = await (await server.fetch('/v1/pins', { method: 'POST', json: { label: 'open' } })).json();
      for (const method of ['PATCH', 'DELETE']) {
        const res = await server.fetch(`/v1/pins/${closed.data.id}`, { method, ...(method === 'PATCH' && { json: { label: 'changed' } }) });
        const body = await expectProblem(res, 404, 'KILN_NOT_FOUND');
        assert.equal(body.detail, `no such pin (id ${closed.data.id})`);
      }
      assert.deepEqual(calls, [], 'no before-hook ran for a missing or hidden record');
      assert.equal((await server.fetch(`/v1/pins/${open.data.id}`, { method: 'PATCH', json: { label: 'changed' } })).status, 200);
      assert.equal((await server.fetch(`/v1/pins/${open.data.id}`, { method: 'DELETE' })).status, 204);
      assert.deepEqual(calls, [
        { hook: 'pins.beforeUpdate', detail: open.data.id },
        { hook: 'pins.beforeDelete', detail: open.data.id },
      ]);
      // If-Match is checked before the hook too.
      const other = await (await server.fetch('/v1/pins', { method: 'POST', json: { label: 'etag' } })).json();
      calls.length = 0;
      const stale = await server.fetch(`/v1/pins/${other.data.id}`, { method: 'PATCH', json: { label: 'x' }, headers: { 'if-match': '"stale"' } });
      await expectProblem(stale, 412, 'KILN_PRECONDITION_FAILED');
      assert.deepEqual(calls, []);
    });

    test('afterRead changes each record a get or a list returns; fields outside the schema are dropped', async () => {
      const { data } = await (await create({ title: 'quiet words' })).json();
      const one = await (await server.fetch(`/v1/notes/${data.id}`)).json();
      assert.equal(one.data.title, 'QUIET WORDS');
      assert.equal(one.data.secret, undefined);
      const list = await (await server.fetch('/v1/notes?slug=quiet-words')).json();
      assert.deepEqual(
        list.data.map((n: { title: string }) => n.title),
        ['QUIET WORDS'],
      );
      // A field the client did not select stays out, though the hook sets it.
      const sparse = await (await server.fetch(`/v1/notes/${data.id}?fields=slug`)).json();
      assert.deepEqual(sparse.data, { id: data.id, slug: 'quiet-words' });
      const sparseList = await (await server.fetch('/v1/notes?slug=quiet-words&fields=id')).json();
      assert.deepEqual(sparseList.data, [{ id: data.id }]);
    });

    test('an idempotent create runs the hooks once, in the key’s transaction', async () => {
      const headers = { 'idempotency-key': `hooks-${backend}` };
      const first = await server.fetch('/v1/notes', { method: 'POST', json: { title: 'Once Only' }, headers });
      const again = await server.fetch('/v1/notes', { method: 'POST', json: { title: 'Once Only' }, headers });
      assert.equal(first.status, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal((await again.json()).data.slug, 'once-only');
      assert.deepEqual(
        calls.map((c) => c.hook),
        ['beforeCreate', 'afterCreate'],
      );
    });

    test('the codes the hooks declare are in the OpenAPI document, on the operations those hooks run on', async () => {
      const doc = await (await server.fetch('/openapi.json')).json();
      const create = doc.paths['/v1/notes'].post.responses;
      assert.match(create['409'].description, /`TEST_TITLE_TAKEN`: Title already taken\./);
      assert.match(create['409'].description, /`KILN_UNIQUE_VIOLATION`/, 'the built-in 409 is still described');
      assert.equal(create['409'].content['application/problem+json'].schema.$ref, '#/components/schemas/AppProblem');
      assert.ok(doc.components.schemas.AppProblem, 'a schema whose code is open to the app’s codes');
      // KILN_FORBIDDEN (beforeDelete refuses the first note) on a resource whose access rules never answer 403.
      assert.ok(doc.paths['/v1/notes/{id}'].delete.responses['403'], 'the delete documents 403');
      assert.ok(doc.paths['/v1/notes/{id}'].patch.responses['409']);
      // A resource without hooks, and operations no hook of this one runs on, are unchanged.
      assert.doesNotMatch(JSON.stringify(doc.paths['/v1/tags'].post.responses), /TEST_TITLE_TAKEN|AppProblem/);
      assert.equal(doc.paths['/v1/pins/{id}'].delete.responses['403'], undefined);
    });

    test('a resource without hooks writes without a transaction, as before', async () => {
      const statements: string[] = [];
      const stop = server.db.observe((text) => statements.push(text));
      try {
        assert.equal((await server.fetch('/v1/tags', { method: 'POST', json: { name: 'plain' } })).status, 201);
      } finally {
        stop();
      }
      assert.equal(statements.length, 1, statements.join('\n'));
      assert.match(statements[0] ?? '', /^INSERT/);
    });
  });
}
