/**
 * Redis goes away under a running instance (a TCP relay to it is cut, then restored): reads go on,
 * uncached (X-Cache: BYPASS), writes go on, the outage is logged once; once Redis is back the cache
 * serves again by itself, and what was cached before the outage is not served (a write made during
 * the outage could not bump it). The database plays no part: one backend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { cacheModel, created, dropRedisKeys, headerCaller, read, redisPrefix } from './cache-world.js';

const OUTAGE = 'response cache: Redis cannot be reached; reads go to the database, uncached, until it is back';
const BACK = 'response cache: Redis is back; cached reads are served again';

describe('response cache: Redis goes down and comes back', () => {
  const prefix = redisPrefix('down');
  const relay = new TcpProxy({ host: '127.0.0.1', port: 6379 });
  let server: TestServer;

  before(async () => {
    await relay.start();
    server = await startTestServer(cacheModel(), BACKENDS[0] ?? 'pglite', { cacheTtl: 300, redisUrl: relay.url, redisKeyPrefix: prefix }, undefined, {
      authenticators: [headerCaller],
    });
  });
  after(async () => {
    await server?.close();
    await relay.stop();
    await dropRedisKeys(prefix);
  });

  test('bypass while it is down, one warning, then cached again and nothing stale', async () => {
    const ada = await created(server, '/v1/authors', { name: 'Before' });
    const path = `/v1/authors/${ada.id}`;
    assert.equal((await read(server, path)).cache, 'MISS');
    assert.equal((await read(server, path)).cache, 'HIT');

    await relay.stop();
    for (let i = 0; i < 3; i++) {
      const down = await read(server, path);
      assert.equal(down.status, 200);
      assert.equal(down.cache, 'BYPASS');
      assert.equal(down.body.data.name, 'Before');
    }
    // A write during the outage: its bump cannot reach Redis.
    const patched = await server.fetch(path, { method: 'PATCH', json: { name: 'During' } });
    assert.equal(patched.status, 200);
    const during = await read(server, path);
    assert.equal(during.cache, 'BYPASS');
    assert.equal(during.body.data.name, 'During');
    assert.equal(server.logs.filter((line) => line.msg === OUTAGE).length, 1, 'the outage is logged once');
    assert.equal(server.logs.find((line) => line.msg === OUTAGE)?.level, 40, 'as a warning');

    await relay.start();
    let back = await read(server, path);
    for (let i = 0; i < 200 && back.cache === 'BYPASS'; i++) {
      await new Promise((done) => setTimeout(done, 50));
      back = await read(server, path);
    }
    assert.equal(back.cache, 'MISS', 'once Redis is back, the entry cached before the outage is not served');
    assert.equal(back.body.data.name, 'During');
    assert.equal((await read(server, path)).cache, 'HIT');
    assert.equal(server.logs.filter((line) => line.msg === BACK).length, 1);
    assert.equal(server.logs.filter((line) => line.msg === OUTAGE).length, 1);
  });
});

describe('response cache: Redis unreachable from the start', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(
      cacheModel(),
      BACKENDS[0] ?? 'pglite',
      { cacheTtl: 300, redisUrl: 'redis://127.0.0.1:1', redisKeyPrefix: redisPrefix('never') },
      undefined,
      {
        authenticators: [headerCaller],
      },
    );
  });
  after(() => server?.close());

  test('the app starts and serves every read uncached; one warning', async () => {
    await created(server, '/v1/authors', { name: 'A' });
    for (let i = 0; i < 3; i++) {
      const res = await read(server, '/v1/authors');
      assert.equal(res.status, 200);
      assert.equal(res.cache, 'BYPASS');
    }
    assert.equal(server.logs.filter((line) => line.msg === OUTAGE).length, 1);
  });
});
