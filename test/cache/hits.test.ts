/**
 * The response cache in one instance (memory): a second identical read is a HIT with the same body
 * and the same ETag as an uncached read, and runs no SQL; a conditional GET of a cached entry is a
 * 304 without SQL; concurrent misses of one key share one fill; an entry expires after its TTL; a
 * resource with `cache: false` is never cached; errors are never cached.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KilnError } from '../../src/core/errors.js';
import { compileOrThrow } from '../../src/model/load.js';
import type { RateLimiter } from '../../src/pipeline/rate-limit.js';
import { expectExactProblem } from '../auth/accounts-helpers.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { cacheDeclaration, cacheModel, created, headerCaller, read, statementsOf } from './cache-world.js';

for (const backend of BACKENDS) {
  describe(`response cache: hits and misses (${backend})`, () => {
    let cached: TestServer;
    let uncached: TestServer;
    let author: { id: number };
    let post: { id: number };

    before(async () => {
      const model = cacheModel();
      cached = await startTestServer(model, backend, { cacheTtl: 60 }, undefined, { authenticators: [headerCaller] });
      uncached = await startTestServer(model, backend, {}, undefined, { authenticators: [headerCaller] });
      for (const server of [cached, uncached]) {
        author = await created(server, '/v1/authors', { name: 'Ada' });
        post = await created(server, '/v1/posts', { title: 'Engines', published: true, authorId: author.id });
        await created(server, '/v1/notes', { text: 'n' });
        // The same rows on both servers, to the millisecond: their representations can be compared byte for byte.
        for (const table of ['authors', 'posts'])
          await server.db.query(`UPDATE "${table}" SET "created_at" = '2026-01-01T00:00:00Z', "updated_at" = '2026-01-01T00:00:00Z'`);
      }
    });
    after(async () => {
      await cached?.close();
      await uncached?.close();
    });

    test('a get: MISS, then HIT with no SQL; body and ETag equal to an uncached server', async () => {
      const path = `/v1/posts/${post.id}?include=author`;
      const first = await statementsOf(cached, () => read(cached, path));
      assert.equal(first.result.status, 200);
      assert.equal(first.result.cache, 'MISS');
      assert.ok(first.statements.length > 0, 'the miss ran SQL');
      const second = await statementsOf(cached, () => read(cached, path));
      assert.equal(second.result.status, 200);
      assert.equal(second.result.cache, 'HIT');
      assert.deepEqual(second.statements, [], 'a hit runs no SQL');
      assert.deepEqual(second.result.body, first.result.body);
      assert.equal(second.result.etag, first.result.etag);
      const plain = await read(uncached, path);
      assert.equal(plain.cache, null, 'an uncached server says nothing of a cache');
      assert.deepEqual(plain.body, first.result.body);
      assert.equal(plain.etag, first.result.etag, 'the ETag of a cached response is the ETag of the uncached one');
    });

    test('a list: MISS then HIT, a different query is its own entry', async () => {
      assert.equal((await read(cached, '/v1/posts?sort=-id')).cache, 'MISS');
      const hit = await statementsOf(cached, () => read(cached, '/v1/posts?sort=-id'));
      assert.equal(hit.result.cache, 'HIT');
      assert.deepEqual(hit.statements, []);
      assert.equal(hit.result.body.data[0].title, 'Engines');
      assert.equal((await read(cached, '/v1/posts?sort=id')).cache, 'MISS');
    });

    test('If-None-Match on a cached entry: 304 with the ETag and no SQL', async () => {
      const path = `/v1/posts/${post.id}`;
      const { etag } = await read(cached, path);
      assert.ok(etag);
      const conditional = await statementsOf(cached, () => read(cached, path, { 'if-none-match': etag }));
      assert.equal(conditional.result.status, 304);
      assert.equal(conditional.result.cache, 'HIT');
      assert.equal(conditional.result.etag, etag);
      assert.deepEqual(conditional.statements, [], 'a 304 from the cache runs no SQL');
      const other = await read(cached, path, { 'if-none-match': '"something-else"' });
      assert.equal(other.status, 200);
    });

    test('twenty concurrent requests of one key run the read once', async () => {
      const path = '/v1/posts?title=Engines&limit=7';
      const { result, statements } = await statementsOf(cached, () => Promise.all(Array.from({ length: 20 }, () => read(cached, path))));
      assert.ok(result.every((r) => r.status === 200 && r.body.data.length === 1));
      assert.ok(result.every((r) => r.cache === 'MISS' || r.cache === 'HIT'));
      const selects = statements.filter((s) => /^\s*(WITH|SELECT)/i.test(s));
      assert.equal(selects.length, 1, `one fill for twenty misses:\n${statements.join('\n')}`);
    });

    test('cache: false — the resource is never cached', async () => {
      for (let i = 0; i < 2; i++) {
        const { result, statements } = await statementsOf(cached, () => read(cached, '/v1/notes'));
        assert.equal(result.status, 200);
        assert.equal(result.cache, null, 'a resource that is not cached answers as without a cache');
        assert.ok(statements.length > 0);
      }
    });

    test('errors are never cached: a 404 and a 400 run the operation each time', async () => {
      for (let i = 0; i < 2; i++) {
        const missing = await statementsOf(cached, () => cached.fetch('/v1/posts/999999'));
        await expectExactProblem(missing.result, 404, 'KILN_NOT_FOUND', 'no such post (id 999999)');
        assert.ok(missing.statements.length > 0);
      }
      for (let i = 0; i < 2; i++) {
        const res = await cached.fetch('/v1/posts?sort=nope');
        assert.equal(res.status, 400);
        assert.equal((await res.json()).code, 'KILN_QUERY_INVALID');
      }
    });
  });

  describe(`response cache: TTL (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(cacheModel(), backend, { cacheTtl: 1 }, undefined, { authenticators: [headerCaller] });
      await created(server, '/v1/authors', { name: 'Ada' });
    });
    after(() => server?.close());

    test('an entry is served until its TTL, then read again', async () => {
      assert.equal((await read(server, '/v1/authors')).cache, 'MISS');
      assert.equal((await read(server, '/v1/authors')).cache, 'HIT');
      await new Promise((done) => setTimeout(done, 1100));
      const expired = await statementsOf(server, () => read(server, '/v1/authors'));
      assert.equal(expired.result.cache, 'MISS', 'past its TTL the entry is gone');
      assert.ok(expired.statements.length > 0);
    });
  });
}

for (const backend of BACKENDS) {
  describe(`response cache: rate limits (${backend})`, () => {
    let server: TestServer;
    const calls: string[] = [];
    before(async () => {
      const twoReads: RateLimiter = ({ operation, resource }) => {
        if (resource !== 'authors') return;
        calls.push(operation);
        if (calls.length > 2) throw new KilnError('KILN_RATE_LIMITED', { detail: 'two reads, no more', headers: { 'retry-after': '7' } });
      };
      server = await startTestServer(cacheModel(), backend, { cacheTtl: 60 }, undefined, { authenticators: [headerCaller], rateLimiters: [twoReads] });
    });
    after(() => server?.close());

    test('a read answered from the cache still passes the rate limits, once', async () => {
      assert.equal((await read(server, '/v1/authors')).cache, 'MISS');
      assert.equal((await read(server, '/v1/authors')).cache, 'HIT');
      assert.deepEqual(calls, ['list', 'list'], 'the limiter ran once per read, the miss included');
      const refused = await server.fetch('/v1/authors');
      await expectExactProblem(refused, 429, 'KILN_RATE_LIMITED', 'two reads, no more');
    });
  });
}

describe('response cache: a resource with an afterRead hook', () => {
  let server: TestServer;
  let reads = 0;
  before(async () => {
    const declaration = cacheDeclaration();
    const authors = declaration.resources.authors as Record<string, unknown>;
    const hooks = {
      afterRead: ({ row }: { row: Record<string, unknown> }) => {
        reads++;
        return { ...row, name: `${String(row.name)} (read ${reads})` };
      },
    };
    const model = compileOrThrow('afterRead', { ...declaration, resources: { ...declaration.resources, authors: { ...authors, hooks } } });
    server = await startTestServer(model, BACKENDS[0] ?? 'pglite', { cacheTtl: 60 }, undefined, { authenticators: [headerCaller] });
    await created(server, '/v1/authors', { name: 'Ada' });
  });
  after(() => server?.close());

  test('is never cached: its hook runs on every read', async () => {
    const first = await read(server, '/v1/authors');
    const second = await read(server, '/v1/authors');
    assert.equal(first.cache, null);
    assert.equal(second.cache, null);
    assert.notEqual(first.body.data[0].name, second.body.data[0].name, 'the hook ran for each read');
    assert.equal((await read(server, '/v1/tags')).cache, 'MISS', 'the other resources are cached');
  });
});
