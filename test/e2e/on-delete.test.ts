import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Every onDelete of belongsTo, chained: deleting an author cascades to its books, which cascade to
 * their chapters and set the key of their notes to null; loans and contracts restrict.
 */
const model = compileOrThrow('on-delete', {
  resources: {
    authors: { fields: { name: { type: 'string' } } },
    editors: { fields: { name: { type: 'string' } } },
    books: {
      fields: {
        title: { type: 'string' },
        author: { type: 'belongsTo', target: 'authors', onDelete: 'cascade' },
        editor: { type: 'belongsTo', target: 'editors', onDelete: 'setNull', nullable: true },
      },
    },
    chapters: { fields: { heading: { type: 'string' }, book: { type: 'belongsTo', target: 'books', onDelete: 'cascade' } } },
    notes: { fields: { text: { type: 'string' }, book: { type: 'belongsTo', target: 'books', onDelete: 'setNull', nullable: true } } },
    loans: { fields: { reader: { type: 'string' }, book: { type: 'belongsTo', target: 'books' } } }, // onDelete: restrict (the default)
    contracts: { fields: { terms: { type: 'string' }, author: { type: 'belongsTo', target: 'authors', onDelete: 'restrict' } } },
  },
});

for (const backend of BACKENDS) {
  describe(`belongsTo onDelete (${backend})`, () => {
    let server: TestServer;
    const create = async (path: string, json: unknown): Promise<number> => {
      const res = await server.fetch(path, { method: 'POST', json });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()).data.id;
    };
    const get = async (path: string) => (await (await server.fetch(path)).json()).data;
    const expectGone = async (path: string, resource: string, id: number) => {
      const problem = await expectProblem(await server.fetch(`${path}/${id}`), 404, 'KILN_NOT_FOUND');
      assert.deepEqual(problem, {
        type: 'https://kiln.dev/errors/KILN_NOT_FOUND',
        title: 'Resource not found',
        status: 404,
        detail: `no such ${resource} (id ${id})`,
        code: 'KILN_NOT_FOUND',
        instance: problem.instance,
      });
    };

    before(async () => {
      server = await startTestServer(model, backend);
    });
    after(() => server.close());

    test('cascade: deleting the parent is 204 and its children are gone', async () => {
      const author = await create('/v1/authors', { name: 'Ada' });
      const other = await create('/v1/authors', { name: 'Grace' });
      const books = [await create('/v1/books', { title: 'One', authorId: author }), await create('/v1/books', { title: 'Two', authorId: author })];
      const kept = await create('/v1/books', { title: 'Kept', authorId: other });

      const res = await server.fetch(`/v1/authors/${author}`, { method: 'DELETE' });
      assert.equal(res.status, 204);
      assert.equal(await res.text(), '');
      await expectGone('/v1/authors', 'author', author);
      for (const book of books) await expectGone('/v1/books', 'book', book);
      assert.deepEqual(
        (await get(`/v1/books?authorId=${author}`)).map((b: { id: number }) => b.id),
        [],
      );
      assert.equal((await get(`/v1/books/${kept}`)).authorId, other, "another author's book is untouched");
    });

    test('cascade runs down a chain: grandchildren are deleted too', async () => {
      const author = await create('/v1/authors', { name: 'Chained' });
      const book = await create('/v1/books', { title: 'Deep', authorId: author });
      const chapters = [await create('/v1/chapters', { heading: 'I', bookId: book }), await create('/v1/chapters', { heading: 'II', bookId: book })];
      assert.equal((await server.fetch(`/v1/authors/${author}`, { method: 'DELETE' })).status, 204);
      await expectGone('/v1/books', 'book', book);
      for (const chapter of chapters) await expectGone('/v1/chapters', 'chapter', chapter);
    });

    test('setNull: deleting the parent is 204 and the children stay with a null key', async () => {
      const author = await create('/v1/authors', { name: 'Edited' });
      const editor = await create('/v1/editors', { name: 'Max' });
      const otherEditor = await create('/v1/editors', { name: 'Maxine' });
      const book = await create('/v1/books', { title: 'Edited', authorId: author, editorId: editor });
      const other = await create('/v1/books', { title: 'Other', authorId: author, editorId: otherEditor });
      const before = await get(`/v1/books/${book}`);

      assert.equal((await server.fetch(`/v1/editors/${editor}`, { method: 'DELETE' })).status, 204);
      await expectGone('/v1/editors', 'editor', editor);
      const after = await get(`/v1/books/${book}`);
      assert.equal(after.editorId, null);
      assert.deepEqual({ ...after, editorId: before.editorId, updatedAt: before.updatedAt }, before, 'only the key changed');
      assert.equal((await get(`/v1/books/${other}`)).editorId, otherEditor);
      assert.deepEqual(
        (await get(`/v1/books?authorId=${author}&editorId[isNull]=true`)).map((b: { id: number }) => b.id),
        [book],
      );
    });

    test('a cascade sets the keys of its own children to null where they say setNull', async () => {
      const author = await create('/v1/authors', { name: 'Noted' });
      const book = await create('/v1/books', { title: 'Annotated', authorId: author });
      const note = await create('/v1/notes', { text: 'margin', bookId: book });
      assert.equal((await server.fetch(`/v1/authors/${author}`, { method: 'DELETE' })).status, 204);
      await expectGone('/v1/books', 'book', book);
      const stored = await get(`/v1/notes/${note}`);
      assert.deepEqual([stored.text, stored.bookId], ['margin', null]);
    });

    test('restrict: deleting a referenced parent is 409 KILN_REFERENCE_IN_USE and nothing is deleted', async () => {
      const author = await create('/v1/authors', { name: 'Signed' });
      const book = await create('/v1/books', { title: 'Contracted', authorId: author });
      const contract = await create('/v1/contracts', { terms: 'net 30', authorId: author });
      const res = await server.fetch(`/v1/authors/${author}`, { method: 'DELETE' });
      const problem = await expectProblem(res, 409, 'KILN_REFERENCE_IN_USE');
      assert.deepEqual(problem, {
        type: 'https://kiln.dev/errors/KILN_REFERENCE_IN_USE',
        title: 'Record is still referenced',
        status: 409,
        detail: 'records of "contracts" still reference this record through "author"; delete them first or use onDelete: cascade',
        code: 'KILN_REFERENCE_IN_USE',
        instance: problem.instance,
      });
      assert.equal((await get(`/v1/authors/${author}`)).name, 'Signed');
      assert.equal((await get(`/v1/books/${book}`)).authorId, author, 'the cascade to books was rolled back');
      assert.equal((await server.fetch(`/v1/contracts/${contract}`, { method: 'DELETE' })).status, 204);
      assert.equal((await server.fetch(`/v1/authors/${author}`, { method: 'DELETE' })).status, 204, 'once unreferenced it can go');
      await expectGone('/v1/books', 'book', book);
    });

    test('a restrict further down a cascade refuses the whole delete', async () => {
      const author = await create('/v1/authors', { name: 'Lent' });
      const book = await create('/v1/books', { title: 'On loan', authorId: author });
      const chapter = await create('/v1/chapters', { heading: 'I', bookId: book });
      const loan = await create('/v1/loans', { reader: 'Bob', bookId: book });
      const problem = await expectProblem(await server.fetch(`/v1/authors/${author}`, { method: 'DELETE' }), 409, 'KILN_REFERENCE_IN_USE');
      assert.deepEqual(problem, {
        type: 'https://kiln.dev/errors/KILN_REFERENCE_IN_USE',
        title: 'Record is still referenced',
        status: 409,
        detail: 'records of "loans" still reference this record through "book"; delete them first or use onDelete: cascade',
        code: 'KILN_REFERENCE_IN_USE',
        instance: problem.instance,
      });
      assert.equal((await get(`/v1/authors/${author}`)).id, author);
      assert.equal((await get(`/v1/books/${book}`)).id, book);
      assert.equal((await get(`/v1/chapters/${chapter}`)).bookId, book);
      assert.equal((await server.fetch(`/v1/loans/${loan}`, { method: 'DELETE' })).status, 204);
      assert.equal((await server.fetch(`/v1/authors/${author}`, { method: 'DELETE' })).status, 204);
      await expectGone('/v1/chapters', 'chapter', chapter);
    });
  });
}
