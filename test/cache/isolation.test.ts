/**
 * Callers with different rights never share an entry: a draft post is seen by its author and by
 * editors only, and its `draftNote` by editors only, so the same URL answers differently for each,
 * cached or not. Anonymous callers share their entries; a signed-in caller gets entries of their own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { asUser, cacheModel, created, headerCaller, read } from './cache-world.js';

const titles = (body: { data: { title: string }[] }) => body.data.map((p) => p.title).sort();

for (const backend of BACKENDS) {
  describe(`response cache: callers with different rights (${backend})`, () => {
    let server: TestServer;
    let draft: { id: number };
    let author: { id: number };
    before(async () => {
      server = await startTestServer(cacheModel(), backend, { cacheTtl: 300 }, undefined, { authenticators: [headerCaller] });
      author = await created(server, '/v1/authors', { name: 'Ada' });
      await created(server, '/v1/posts', { title: 'Public', published: true, authorId: author.id, draftNote: 'p' });
      draft = await created(server, '/v1/posts', { title: 'Draft', published: false, authorId: author.id, draftNote: 'secret' });
    });
    after(() => server?.close());

    test('a list: anonymous, the author, another user and an editor each get their own answer', async () => {
      const editor = asUser(99, ['editor']);
      const anonymous = await read(server, '/v1/posts');
      assert.equal(anonymous.cache, 'MISS');
      assert.deepEqual(titles(anonymous.body), ['Public']);
      const again = await read(server, '/v1/posts');
      assert.equal(again.cache, 'HIT', 'anonymous callers share an entry');

      const own = await read(server, '/v1/posts', asUser(author.id));
      assert.equal(own.cache, 'MISS', "the author is not served the anonymous callers' entry");
      assert.deepEqual(titles(own.body), ['Draft', 'Public']);
      assert.ok(
        own.body.data.every((p: Record<string, unknown>) => !('draftNote' in p)),
        'only editors read draftNote',
      );

      const other = await read(server, '/v1/posts', asUser(author.id + 1000));
      assert.equal(other.cache, 'MISS', "another user is not served the author's entry");
      assert.deepEqual(titles(other.body), ['Public']);

      const edited = await read(server, '/v1/posts', editor);
      assert.equal(edited.cache, 'MISS');
      assert.deepEqual(titles(edited.body), ['Draft', 'Public']);
      assert.deepEqual(edited.body.data.map((p: { draftNote: string }) => p.draftNote).sort(), ['p', 'secret']);

      const sameIdOtherRoles = await read(server, '/v1/posts', asUser(99));
      assert.equal(sameIdOtherRoles.cache, 'MISS', "the same id without the editor role is not served the editor's entry");
      assert.ok(sameIdOtherRoles.body.data.every((p: Record<string, unknown>) => !('draftNote' in p)));

      for (const [headers, expected] of [
        [asUser(author.id), ['Draft', 'Public']],
        [editor, ['Draft', 'Public']],
        [{}, ['Public']],
      ] as const) {
        const hit = await read(server, '/v1/posts', headers);
        assert.equal(hit.cache, 'HIT');
        assert.deepEqual(titles(hit.body), expected);
      }
    });

    test('a get of a draft: cached for its author, still 404 for anyone else', async () => {
      const path = `/v1/posts/${draft.id}`;
      assert.equal((await read(server, path, asUser(author.id))).status, 200);
      const cached = await read(server, path, asUser(author.id));
      assert.equal(cached.cache, 'HIT');
      assert.equal(cached.body.data.title, 'Draft');
      for (const headers of [{}, asUser(author.id + 1000)]) {
        const res = await server.fetch(path, { headers });
        assert.equal(res.status, 404);
        assert.deepEqual(await res.json(), {
          type: 'https://kiln.dev/errors/KILN_NOT_FOUND',
          title: 'Resource not found',
          status: 404,
          detail: `no such post (id ${draft.id})`,
          code: 'KILN_NOT_FOUND',
          instance: res.headers.get('x-request-id'),
        });
      }
      const editor = await read(server, path, asUser(7, ['editor']));
      assert.equal(editor.cache, 'MISS');
      assert.equal(editor.body.data.draftNote, 'secret');
    });
  });
}
