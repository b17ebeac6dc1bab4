/**
 * A cursor is never longer than a client may send back (8192 characters, as the OpenAPI document
 * says): sorted on long text, it holds the last row's id instead of its sort values, and the next page
 * reads them again; if that row is gone by then, the cursor is refused rather than silently wrong.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FIXED_LIMITS } from '../../src/core/limits.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

for (const backend of BACKENDS) {
  describe(`cursors on long sort values (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend);
      const author = (await (await server.fetch('/v1/users', { method: 'POST', json: { email: 'long@example.com', name: 'L' } })).json()).data.id;
      const posts = ['a', 'b', 'c', 'd', 'e'].map((letter) => ({ title: letter, body: letter.repeat(9000), authorId: author }));
      assert.equal((await server.fetch('/v1/posts/bulk', { method: 'POST', json: posts })).status, 201);
    });
    after(() => server.close());

    const page = async (query: string) => {
      const res = await server.fetch(`/v1/posts?${query}`);
      assert.equal(res.status, 200, await res.clone().text());
      return res.json();
    };

    test('pages sorted on 9000-character values get short cursors and walk every row once', async () => {
      const titles: string[] = [];
      let cursor: string | null = null;
      do {
        const body: any = await page(`sort=-body&limit=2&fields=id,title${cursor ? `&cursor=${cursor}` : ''}`);
        titles.push(...body.data.map((p: { title: string }) => p.title));
        cursor = body.page.nextCursor;
        if (cursor) assert.ok(cursor.length <= FIXED_LIMITS.cursorLength, `cursor of ${cursor.length} characters`);
      } while (cursor);
      assert.deepEqual(titles, ['e', 'd', 'c', 'b', 'a']);
    });

    test('a long-value cursor whose row was deleted since is 400 KILN_CURSOR_INVALID', async () => {
      const first: any = await page('sort=body&limit=1&fields=id,title');
      assert.equal(first.data[0].title, 'a');
      assert.equal((await server.fetch(`/v1/posts/${first.data[0].id}`, { method: 'DELETE' })).status, 204);
      const problem = await expectProblem(await server.fetch(`/v1/posts?sort=body&limit=1&cursor=${first.page.nextCursor}`), 400, 'KILN_CURSOR_INVALID');
      assert.match(String(problem.detail), /no longer exists/);
    });
  });
}
