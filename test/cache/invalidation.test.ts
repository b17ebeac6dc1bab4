/**
 * A committed write makes stale every cached read it could change: creates, updates and deletes of
 * the resource itself; the rows an ON DELETE CASCADE or SET NULL changed in other resources; both
 * ends of a manyToMany link; and responses that include a changed resource. A read of a resource the
 * write did not touch stays cached.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { cacheModel, created, headerCaller, read } from './cache-world.js';

for (const backend of BACKENDS) {
  describe(`response cache: invalidation (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(cacheModel(), backend, { cacheTtl: 300 }, undefined, { authenticators: [headerCaller] });
    });
    after(() => server?.close());

    /** Reads `path` until it is cached (MISS then HIT), and answers its body. */
    async function warm(path: string): Promise<any> {
      await read(server, path);
      const hit = await read(server, path);
      assert.equal(hit.cache, 'HIT', `${path} is cached`);
      return hit.body;
    }

    test('create, update and delete of a resource make its gets and lists stale', async () => {
      const ada = await created(server, '/v1/authors', { name: 'Ada' });
      assert.deepEqual(
        (await warm('/v1/authors?sort=id')).data.map((a: { name: string }) => a.name),
        ['Ada'],
      );
      await created(server, '/v1/authors', { name: 'Bob' });
      const afterCreate = await read(server, '/v1/authors?sort=id');
      assert.equal(afterCreate.cache, 'MISS');
      assert.deepEqual(
        afterCreate.body.data.map((a: { name: string }) => a.name),
        ['Ada', 'Bob'],
      );

      await warm(`/v1/authors/${ada.id}`);
      const patched = await server.fetch(`/v1/authors/${ada.id}`, { method: 'PATCH', json: { name: 'Ada L.' } });
      assert.equal(patched.status, 200);
      const afterUpdate = await read(server, `/v1/authors/${ada.id}`);
      assert.equal(afterUpdate.cache, 'MISS');
      assert.equal(afterUpdate.body.data.name, 'Ada L.');
      assert.equal(afterUpdate.etag, patched.headers.get('etag'), 'the new ETag is the one the PATCH answered');

      await warm(`/v1/authors/${ada.id}`);
      assert.equal((await server.fetch(`/v1/authors/${ada.id}`, { method: 'DELETE' })).status, 204);
      const gone = await read(server, `/v1/authors/${ada.id}`);
      assert.equal(gone.status, 404);
    });

    test('a write to one resource leaves the cached reads of an unrelated one alone', async () => {
      await created(server, '/v1/notes', { text: 'x' });
      await warm('/v1/tags');
      await created(server, '/v1/authors', { name: 'Unrelated' });
      assert.equal((await read(server, '/v1/tags')).cache, 'HIT', 'tags do not depend on authors');
    });

    test('ON DELETE CASCADE: deleting an author makes cached posts and comments stale', async () => {
      const author = await created(server, '/v1/authors', { name: 'Cascading' });
      const post = await created(server, '/v1/posts', { title: 'Doomed', published: true, authorId: author.id });
      const comment = await created(server, '/v1/comments', { body: 'c', postId: post.id });
      await warm(`/v1/posts/${post.id}`);
      await warm(`/v1/comments/${comment.id}`);
      await warm(`/v1/comments?postId=${post.id}`);
      assert.equal((await server.fetch(`/v1/authors/${author.id}`, { method: 'DELETE' })).status, 204);
      assert.equal((await read(server, `/v1/posts/${post.id}`)).status, 404, 'the post went with its author');
      assert.equal((await read(server, `/v1/comments/${comment.id}`)).status, 404, "the comment went with its post (a cascade's cascade)");
      const list = await read(server, `/v1/comments?postId=${post.id}`);
      assert.equal(list.cache, 'MISS');
      assert.deepEqual(list.body.data, []);
    });

    test('ON DELETE SET NULL: deleting a reviewer makes cached posts stale', async () => {
      const author = await created(server, '/v1/authors', { name: 'Writer' });
      const reviewer = await created(server, '/v1/authors', { name: 'Reviewer' });
      const post = await created(server, '/v1/posts', { title: 'Reviewed', published: true, authorId: author.id, reviewerId: reviewer.id });
      assert.equal((await warm(`/v1/posts/${post.id}`)).data.reviewerId, reviewer.id);
      assert.equal((await server.fetch(`/v1/authors/${reviewer.id}`, { method: 'DELETE' })).status, 204);
      const after = await read(server, `/v1/posts/${post.id}`);
      assert.equal(after.cache, 'MISS');
      assert.equal(after.body.data.reviewerId, null);
    });

    test('manyToMany: linking and deleting a tag make both ends stale', async () => {
      const author = await created(server, '/v1/authors', { name: 'Tagger' });
      const post = await created(server, '/v1/posts', { title: 'Tagged', published: true, authorId: author.id });
      const tag = await created(server, '/v1/tags', { name: 'history' });
      assert.deepEqual((await warm(`/v1/tags/${tag.id}?include=posts`)).data.posts, []);
      assert.deepEqual((await warm(`/v1/posts/${post.id}?include=tags`)).data.tags, []);
      const linked = await server.fetch(`/v1/posts/${post.id}`, { method: 'PATCH', json: { tags: [tag.id] } });
      assert.equal(linked.status, 200, await linked.text());
      const fromTag = await read(server, `/v1/tags/${tag.id}?include=posts`);
      assert.equal(fromTag.cache, 'MISS');
      assert.deepEqual(
        fromTag.body.data.posts.map((p: { id: number }) => p.id),
        [post.id],
      );
      const fromPost = await read(server, `/v1/posts/${post.id}?include=tags`);
      assert.equal(fromPost.cache, 'MISS');
      assert.deepEqual(
        fromPost.body.data.tags.map((t: { id: number }) => t.id),
        [tag.id],
      );

      await warm(`/v1/posts/${post.id}?include=tags`);
      assert.equal((await server.fetch(`/v1/tags/${tag.id}`, { method: 'DELETE' })).status, 204);
      const unlinked = await read(server, `/v1/posts/${post.id}?include=tags`);
      assert.equal(unlinked.cache, 'MISS');
      assert.deepEqual(unlinked.body.data.tags, []);
    });

    test('a response that includes another resource is stale when that one changes', async () => {
      const author = await created(server, '/v1/authors', { name: 'Included' });
      const post = await created(server, '/v1/posts', { title: 'With author', published: true, authorId: author.id });
      assert.equal((await warm(`/v1/posts/${post.id}?include=author`)).data.author.name, 'Included');
      assert.equal((await warm(`/v1/posts?author.name=Included`)).data.length, 1);
      assert.equal((await server.fetch(`/v1/authors/${author.id}`, { method: 'PATCH', json: { name: 'Renamed' } })).status, 200);
      const included = await read(server, `/v1/posts/${post.id}?include=author`);
      assert.equal(included.cache, 'MISS');
      assert.equal(included.body.data.author.name, 'Renamed');
      const filtered = await read(server, `/v1/posts?author.name=Included`);
      assert.equal(filtered.cache, 'MISS', 'a relation filter depends on the related resource');
      assert.deepEqual(filtered.body.data, []);
    });
  });
}
