/**
 * The blog example's own code: a post's slug is computed by its beforeCreate hook (unique among
 * posts), and POST /v1/posts/:id/publish publishes a draft through the operations.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { as } from '../helpers/callers.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

for (const backend of BACKENDS) {
  describe(`the blog's hooks and routes (${backend})`, () => {
    let server: TestServer;
    let authorId: number;
    const post = (title: string) => server.fetch('/v1/posts', { method: 'POST', json: { title, authorId } });

    before(async () => {
      server = await startTestServer(await blogModel(), backend);
      authorId = (await (await server.fetch('/v1/users', { method: 'POST', json: { email: 'ada@example.com', name: 'Ada' } })).json()).data.id;
    });
    after(() => server.close());

    test('a new post gets a slug from its title, unique among posts; clients cannot set it', async () => {
      const first = (await (await post('Notes on the Analytical Engine!')).json()).data;
      const second = (await (await post('Notes on the analytical engine')).json()).data;
      assert.equal(first.slug, 'notes-on-the-analytical-engine');
      assert.equal(second.slug, 'notes-on-the-analytical-engine-2');
      const problem = await expectProblem(
        await server.fetch('/v1/posts', { method: 'POST', json: { title: 'x', authorId, slug: 'mine' } }),
        400,
        'KILN_VALIDATION_FAILED',
      );
      assert.deepEqual(problem.errors, [{ path: '/slug', code: 'readOnly', message: '"slug" is set by the server and cannot be written' }]);
    });

    test('publishing a draft answers the published post; publishing it again is 409', async () => {
      const { data } = await (await post('Ready')).json();
      // The route is for signed-in callers, whatever the model's rules (test/access/ has them at work).
      const publish = (id: number | string) => server.fetch(`/v1/posts/${id}/publish`, { method: 'POST', headers: as(authorId) });
      const anonymous = await server.fetch(`/v1/posts/${data.id}/publish`, { method: 'POST' });
      assert.equal(
        (await expectProblem(anonymous, 401, 'KILN_UNAUTHENTICATED')).detail,
        'this route needs a signed-in caller: send Authorization: Bearer <access token>, an API key or the session cookie',
      );
      const res = await publish(data.id);
      assert.equal(res.status, 200);
      const published = (await res.json()).data;
      assert.equal(published.status, 'published');
      assert.equal(published.slug, 'ready');
      const again = await expectProblem(await publish(data.id), 409, 'BLOG_ALREADY_PUBLISHED');
      assert.equal(again.title, 'Post already published');
      assert.equal(again.detail, `post ${data.id} is already published`);
      await expectProblem(await publish(999999), 404, 'KILN_NOT_FOUND');
      await expectProblem(await publish('first'), 400, 'KILN_PATH_INVALID');
    });

    test('the publish route is in the OpenAPI document', async () => {
      const doc = await (await server.fetch('/openapi.json')).json();
      const op = doc.paths['/v1/posts/{id}/publish'].post;
      assert.equal(op.summary, 'Publish a post');
      assert.deepEqual(op.tags, ['posts']);
      assert.match(op.responses['409'].description, /`BLOG_ALREADY_PUBLISHED`: Post already published\./);
    });
  });
}
