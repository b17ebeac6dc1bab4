import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/** Errors PostgreSQL raises (constraints), mapped by SQLSTATE and constraint name to registered codes. */
const model = compileOrThrow('constraints', {
  resources: {
    authors: { fields: { handle: { type: 'string', unique: true }, books: { type: 'hasMany', target: 'books' } } },
    books: {
      fields: {
        title: { type: 'string' },
        edition: { type: 'integer', default: 1 },
        author: { type: 'belongsTo', target: 'authors' }, // onDelete: restrict (the default)
        labels: { type: 'manyToMany', target: 'labels' },
      },
      unique: [['title', 'edition']],
    },
    labels: { fields: { name: { type: 'string' }, books: { type: 'manyToMany', target: 'books' } } },
  },
});

for (const backend of BACKENDS) {
  describe(`constraint errors (${backend})`, () => {
    let server: TestServer;
    let authorId: number;
    let labelId: number;
    const post = async (path: string, json: unknown) => server.fetch(path, { method: 'POST', json });
    const total = async (path: string) => (await (await server.fetch(`${path}?count=true`)).json()).page.total as number;

    before(async () => {
      server = await startTestServer(model, backend);
      authorId = (await (await post('/v1/authors', { handle: 'ada' })).json()).data.id;
      labelId = (await (await post('/v1/labels', { name: 'classic' })).json()).data.id;
    });
    after(() => server.close());

    test('a duplicate unique value is 409 KILN_UNIQUE_VIOLATION naming the field', async () => {
      const problem = await expectProblem(await post('/v1/authors', { handle: 'ada' }), 409, 'KILN_UNIQUE_VIOLATION');
      assert.equal(problem.detail, 'another author already has this value of handle');
      assert.deepEqual(problem.errors, [{ path: '/handle', code: 'unique', message: 'must be unique; the value is already taken' }]);
      const other = (await (await post('/v1/authors', { handle: 'grace' })).json()).data.id;
      const patch = await server.fetch(`/v1/authors/${other}`, { method: 'PATCH', json: { handle: 'ada' } });
      assert.deepEqual((await expectProblem(patch, 409, 'KILN_UNIQUE_VIOLATION')).errors?.[0]?.path, '/handle');
      const put = await server.fetch(`/v1/authors/${other}`, { method: 'PUT', json: { handle: 'ada' } });
      await expectProblem(put, 409, 'KILN_UNIQUE_VIOLATION');
      assert.equal((await (await server.fetch(`/v1/authors/${other}`)).json()).data.handle, 'grace');
    });

    test('a composite unique constraint names every field in it', async () => {
      assert.equal((await post('/v1/books', { title: 'Notes', edition: 1, authorId })).status, 201);
      assert.equal((await post('/v1/books', { title: 'Notes', edition: 2, authorId })).status, 201);
      const problem = await expectProblem(await post('/v1/books', { title: 'Notes', authorId }), 409, 'KILN_UNIQUE_VIOLATION');
      assert.equal(problem.detail, 'another book already has this value of title, edition');
      assert.deepEqual(
        problem.errors?.map((e) => [e.path, e.code]),
        [
          ['/title', 'unique'],
          ['/edition', 'unique'],
        ],
      );
    });

    test('a relation to a record that does not exist is 422 KILN_REFERENCE_NOT_FOUND', async () => {
      const before = await total('/v1/books');
      const problem = await expectProblem(await post('/v1/books', { title: 'Ghost', authorId: 999999 }), 422, 'KILN_REFERENCE_NOT_FOUND');
      assert.equal(problem.detail, 'relation "author" points at a record that does not exist');
      assert.deepEqual(problem.errors, [{ path: '/authorId', code: 'reference', message: 'no such author' }]);
      const book = (await (await post('/v1/books', { title: 'Real', authorId })).json()).data.id;
      const patch = await server.fetch(`/v1/books/${book}`, { method: 'PATCH', json: { authorId: 999999 } });
      assert.deepEqual((await expectProblem(patch, 422, 'KILN_REFERENCE_NOT_FOUND')).errors?.[0]?.path, '/authorId');
      assert.equal(await total('/v1/books'), before + 1);
    });

    test('a manyToMany link to a missing record is 422 too, and the whole write is rolled back', async () => {
      const before = await total('/v1/books');
      const create = await post('/v1/books', { title: 'Linked', authorId, labels: [labelId, 999999] });
      const problem = await expectProblem(create, 422, 'KILN_REFERENCE_NOT_FOUND');
      assert.equal(problem.detail, 'relation "labels" points at a record that does not exist');
      assert.deepEqual(problem.errors, [{ path: '/labels', code: 'reference', message: 'no such label: 999999' }]);
      assert.equal(await total('/v1/books'), before, 'the book was not created without its links');

      const book = (await (await post('/v1/books', { title: 'Linked', authorId, labels: [labelId] })).json()).data.id;
      const patch = await server.fetch(`/v1/books/${book}`, { method: 'PATCH', json: { title: 'Renamed', labels: [999999] } });
      await expectProblem(patch, 422, 'KILN_REFERENCE_NOT_FOUND');
      const stored = (await (await server.fetch(`/v1/books/${book}?include=labels`)).json()).data;
      assert.equal(stored.title, 'Linked');
      assert.deepEqual(
        stored.labels.map((l: { id: number }) => l.id),
        [labelId],
      );
      const bulk = await post('/v1/labels/bulk', [{ name: 'ok' }, { name: 'bad', books: [999999] }]);
      assert.deepEqual((await expectProblem(bulk, 422, 'KILN_REFERENCE_NOT_FOUND')).errors?.[0]?.path, '/1/books', 'the item of the bulk request is named');
      assert.equal(await total('/v1/labels'), 1);
    });

    test('deleting a record a restrict relation still points at is 409 KILN_REFERENCE_IN_USE', async () => {
      const author = (await (await post('/v1/authors', { handle: 'kept' })).json()).data.id;
      const book = (await (await post('/v1/books', { title: 'Pinned', authorId: author })).json()).data.id;
      const res = await server.fetch(`/v1/authors/${author}`, { method: 'DELETE' });
      const problem = await expectProblem(res, 409, 'KILN_REFERENCE_IN_USE');
      assert.equal(problem.detail, 'records of "books" still reference this record through "author"; delete them first or use onDelete: cascade');
      assert.equal((await server.fetch(`/v1/authors/${author}`)).status, 200, 'the author is still there');
      assert.equal((await server.fetch(`/v1/books/${book}`, { method: 'DELETE' })).status, 204);
      assert.equal((await server.fetch(`/v1/authors/${author}`, { method: 'DELETE' })).status, 204, 'once unreferenced it can go');
    });

    test('deleting a linked record removes its links instead of refusing', async () => {
      const label = (await (await post('/v1/labels', { name: 'temp' })).json()).data.id;
      const book = (await (await post('/v1/books', { title: 'Tagged', authorId, labels: [label] })).json()).data.id;
      assert.equal((await server.fetch(`/v1/labels/${label}`, { method: 'DELETE' })).status, 204);
      assert.deepEqual((await (await server.fetch(`/v1/books/${book}?include=labels`)).json()).data.labels, []);
    });
  });
}
