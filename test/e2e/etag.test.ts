import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestResponse, type TestServer } from '../helpers/server.js';

const STRONG = /^"[\w-]+"$/;

function etagOf(res: TestResponse): string {
  const etag = res.headers.get('etag');
  assert.match(etag ?? '', STRONG, `${res.url} has a strong ETag`);
  return etag as string;
}

for (const backend of BACKENDS) {
  describe(`ETags and conditional requests (${backend})`, () => {
    let server: TestServer;
    let n = 0;

    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, BLOG_SEED_PATH);
    });
    after(() => server.close());

    const newTag = async () => {
      const res = await server.fetch('/v1/tags', { method: 'POST', json: { name: `etag-${++n}` } });
      assert.equal(res.status, 201);
      return { id: (await res.json()).data.id as number, etag: etagOf(res) };
    };
    const current = async (id: number) => {
      const res = await server.fetch(`/v1/tags/${id}`);
      assert.equal(res.status, 200);
      return { etag: etagOf(res), data: (await res.json()).data };
    };

    test('every GET has a strong ETag that follows the representation', async () => {
      const paths = ['/v1/posts', '/v1/posts?status=draft', '/v1/posts?title=none', '/v1/posts?include=author,tags', '/v1/posts/1', '/v1/posts/1?fields=title'];
      const etags = [];
      for (const path of paths) {
        const res = await server.fetch(path);
        assert.equal(res.status, 200, path);
        etags.push(etagOf(res));
        assert.equal(etagOf(await server.fetch(path)), etags.at(-1), `${path}: same body, same ETag`);
      }
      assert.equal(new Set(etags).size, paths.length, 'different representations, different ETags');
    });

    test('If-None-Match with the current ETag answers 304 with an empty body', async () => {
      for (const path of ['/v1/posts?limit=2', '/v1/posts/2?include=comments']) {
        const etag = etagOf(await server.fetch(path));
        for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
          const res = await server.fetch(path, { headers: { 'if-none-match': header } });
          assert.equal(res.status, 304, `${path} ${header}`);
          assert.equal(await res.text(), '');
          assert.equal(res.headers.get('etag'), etag);
        }
        const stale = await server.fetch(path, { headers: { 'if-none-match': '"stale"' } });
        assert.equal(stale.status, 200);
        assert.ok((await stale.json()).data);
      }
    });

    test('a write changes the ETag; the write answers with the new one', async () => {
      const tag = await newTag();
      const before = await current(tag.id);
      assert.equal(before.etag, tag.etag, 'the 201 carries the ETag a GET gives');
      const patched = await server.fetch(`/v1/tags/${tag.id}`, { method: 'PATCH', json: { name: `etag-renamed-${tag.id}` } });
      assert.equal(patched.status, 200);
      const after = await current(tag.id);
      assert.notEqual(after.etag, before.etag);
      assert.equal(etagOf(patched), after.etag);
      const revalidated = await server.fetch(`/v1/tags/${tag.id}`, { headers: { 'if-none-match': before.etag } });
      assert.equal(revalidated.status, 200);
      assert.equal((await revalidated.json()).data.name, `etag-renamed-${tag.id}`);
    });

    test('If-Match on PATCH and PUT: the current ETag or * succeeds', async () => {
      const tag = await newTag();
      const first = await server.fetch(`/v1/tags/${tag.id}`, { method: 'PATCH', json: { name: `m-${tag.id}-1` }, headers: { 'if-match': tag.etag } });
      assert.equal(first.status, 200);
      const second = await server.fetch(`/v1/tags/${tag.id}`, {
        method: 'PUT',
        json: { name: `m-${tag.id}-2` },
        headers: { 'if-match': `"other", ${etagOf(first)}` },
      });
      assert.equal(second.status, 200);
      const third = await server.fetch(`/v1/tags/${tag.id}`, { method: 'PATCH', json: { name: `m-${tag.id}-3` }, headers: { 'if-match': '*' } });
      assert.equal(third.status, 200);
      assert.equal((await current(tag.id)).data.name, `m-${tag.id}-3`);
    });

    test('If-Match with a stale or weak ETag is 412 and changes nothing', async () => {
      const tag = await newTag();
      await server.fetch(`/v1/tags/${tag.id}`, { method: 'PATCH', json: { name: `s-${tag.id}` } });
      const now = await current(tag.id);
      const attempts: [string, string, unknown][] = [
        ['PATCH', tag.etag, { name: 'lost-update' }],
        ['PUT', tag.etag, { name: 'lost-update' }],
        ['PATCH', `W/${now.etag}`, { name: 'lost-update' }],
        ['PUT', '"garbage"', { name: 'lost-update' }],
        ['DELETE', tag.etag, undefined],
        ['DELETE', `W/${now.etag}`, undefined],
      ];
      for (const [method, header, json] of attempts) {
        const res = await server.fetch(`/v1/tags/${tag.id}`, { method, json, headers: { 'if-match': header } });
        await expectProblem(res, 412, 'KILN_PRECONDITION_FAILED');
        assert.deepEqual(await current(tag.id), now, `${method} ${header} changed nothing`);
      }
      assert.equal((await server.fetch('/v1/tags?name=lost-update')).status, 200);
      assert.deepEqual((await (await server.fetch('/v1/tags?name=lost-update')).json()).data, []);
    });

    test('If-Match on DELETE: the current ETag or * deletes', async () => {
      for (const header of ['current', '*']) {
        const tag = await newTag();
        const res = await server.fetch(`/v1/tags/${tag.id}`, { method: 'DELETE', headers: { 'if-match': header === '*' ? '*' : tag.etag } });
        assert.equal(res.status, 204, header);
        await expectProblem(await server.fetch(`/v1/tags/${tag.id}`), 404, 'KILN_NOT_FOUND');
      }
    });

    test('If-Match on a record with links compares the record as GET returns it', async () => {
      const res = await server.fetch('/v1/posts', { method: 'POST', json: { title: 'Tagged', authorId: 1, tags: [1] } });
      const etag = etagOf(res);
      const id = (await res.json()).data.id;
      const ok = await server.fetch(`/v1/posts/${id}`, { method: 'PATCH', json: { tags: [2] }, headers: { 'if-match': etag } });
      assert.equal(ok.status, 200);
      const stale = await server.fetch(`/v1/posts/${id}`, { method: 'PATCH', json: { tags: [3] }, headers: { 'if-match': etag } });
      await expectProblem(stale, 412, 'KILN_PRECONDITION_FAILED');
      const tags = (await (await server.fetch(`/v1/posts/${id}?include=tags`)).json()).data.tags.map((t: { id: number }) => t.id);
      assert.deepEqual(tags, [2], 'the refused PATCH did not touch the links');
    });
  });
}
