/**
 * Two instances of one app (two servers over one database, one Redis): a write on either makes the
 * cached reads of both stale, and an entry one instance filled is a hit on the other.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import { type RunningKiln, startKiln } from '../../src/start.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { cacheModel, created, dropRedisKeys, headerCaller, REDIS_URL, read, redisPrefix } from './cache-world.js';

for (const backend of BACKENDS) {
  describe(`response cache: two instances sharing Redis (${backend})`, () => {
    const prefix = redisPrefix('instances');
    let a: TestServer;
    let b: RunningKiln;
    /** B as a TestServer-like fetcher. */
    let onB: TestServer;

    before(async () => {
      const model = cacheModel();
      const cache = { cacheTtl: 300, redisUrl: REDIS_URL, redisKeyPrefix: prefix };
      a = await startTestServer(model, backend, cache, undefined, { authenticators: [headerCaller] });
      const settings = { ...resolveSettings({}), host: '127.0.0.1', port: 0, logLevel: 'silent', dbSchema: a.schema, ...cache };
      b = await startKiln({ model, settings, db: a.db, authenticators: [headerCaller] });
      onB = { ...a, url: b.url, fetch: (path, init = {}) => fetchJson(b.url, path, init) } as TestServer;
    });
    after(async () => {
      await b?.close({ keepDatabase: true });
      await a?.close();
      await dropRedisKeys(prefix);
    });

    test('an entry filled on A is a hit on B', async () => {
      await created(a, '/v1/authors', { name: 'Shared' });
      assert.equal((await read(a, '/v1/authors')).cache, 'MISS');
      const onOther = await read(onB, '/v1/authors');
      assert.equal(onOther.cache, 'HIT');
      assert.deepEqual(
        onOther.body.data.map((x: { name: string }) => x.name),
        ['Shared'],
      );
    });

    test('a write on B makes the entries of A stale, and the other way round', async () => {
      const ada = await created(a, '/v1/authors', { name: 'Ada' });
      const path = `/v1/authors/${ada.id}`;
      await read(a, path);
      assert.equal((await read(a, path)).cache, 'HIT');
      assert.equal((await onB.fetch(path, { method: 'PATCH', json: { name: 'Ada (B)' } })).status, 200);
      const onA = await read(a, path);
      assert.equal(onA.cache, 'MISS', "B's write reached A's cache");
      assert.equal(onA.body.data.name, 'Ada (B)');

      assert.equal((await read(onB, path)).cache, 'HIT');
      assert.equal((await a.fetch(path, { method: 'PATCH', json: { name: 'Ada (A)' } })).status, 200);
      const fromB = await read(onB, path);
      assert.equal(fromB.cache, 'MISS');
      assert.equal(fromB.body.data.name, 'Ada (A)');
    });

    test('a cascade on A makes the entries of B stale', async () => {
      const author = await created(a, '/v1/authors', { name: 'Gone' });
      const post = await created(a, '/v1/posts', { title: 'Going', published: true, authorId: author.id });
      await read(onB, `/v1/posts/${post.id}`);
      assert.equal((await read(onB, `/v1/posts/${post.id}`)).cache, 'HIT');
      assert.equal((await a.fetch(`/v1/authors/${author.id}`, { method: 'DELETE' })).status, 204);
      assert.equal((await read(onB, `/v1/posts/${post.id}`)).status, 404);
    });
  });
}

function fetchJson(url: string, path: string, init: RequestInit & { json?: unknown }): Promise<any> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  return fetch(`${url}${path}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
}
