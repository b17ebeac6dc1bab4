/**
 * REDIS_URL in the Sentinel form (redis+sentinel://host:port/master): a real Redis Sentinel the test
 * starts (redis-server --sentinel on a free port) monitors the local Redis; Kiln asks it for the
 * primary and keeps its shared state there, here the response cache. Malformed Sentinel URLs stop
 * the start with what is wrong.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { openRedis } from '../../src/redis/connect.js';
import { blogModel } from '../helpers/blog.js';
import { freePort } from '../helpers/replica-cluster.js';
import { startTestServer } from '../helpers/server.js';

const MASTER = 'kilnmaster';

describe('Redis through Sentinel', () => {
  let dir: string;
  let sentinel: ChildProcess;
  let url: string;
  const prefix = `kiln-test-sentinel-${randomBytes(4).toString('hex')}:`;
  const direct = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-sentinel-'));
    const port = await freePort();
    const conf = join(dir, 'sentinel.conf');
    // Down-after an hour: this Sentinel only answers where the primary is; it must never fail the shared Redis over.
    await writeFile(
      conf,
      `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor ${MASTER} 127.0.0.1 6379 1\nsentinel down-after-milliseconds ${MASTER} 3600000\n`,
    );
    sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    url = `redis+sentinel://127.0.0.1:${port}/${MASTER}`;
    // Ready once it answers which server is the primary.
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
    probe.on('error', () => {});
    await probe.connect().catch(() => {});
    for (;;) {
      const answer = await probe.call('SENTINEL', 'get-master-addr-by-name', MASTER).catch(() => null);
      if (Array.isArray(answer) && answer[1] === '6379') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    probe.disconnect();
  });
  after(async () => {
    const keys = await direct.keys(`${prefix}*`);
    if (keys.length > 0) await direct.del(...keys);
    direct.disconnect();
    sentinel?.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  test('a client made from the Sentinel URL reaches the primary the Sentinel names', async () => {
    const client = openRedis(url, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
    try {
      await client.set('probe', 'through sentinel');
      assert.equal(await direct.get(`${prefix}probe`), 'through sentinel');
    } finally {
      client.disconnect();
    }
  });

  test('Kiln keeps its response cache in the Redis the Sentinel names', async () => {
    const server = await startTestServer(await blogModel(), 'pglite', { redisUrl: url, redisKeyPrefix: prefix, cacheTtl: 60 });
    try {
      const first = await server.fetch('/v1/tags');
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('x-cache'), 'MISS');
      const second = await server.fetch('/v1/tags');
      assert.equal(second.headers.get('x-cache'), 'HIT');
      assert.ok((await direct.keys(`${prefix}cache:*`)).length > 0, 'the entries are in that Redis');
    } finally {
      await server.close();
    }
  });

  test('a malformed Sentinel URL stops the start, saying what is wrong', () => {
    const cases: [string, string][] = [
      ['redis+sentinel://127.0.0.1:26379', 'REDIS_URL: name the master after the Sentinel addresses: redis+sentinel://host:26379,host:26379/mymaster'],
      ['redis+sentinel://127.0.0.1/mymaster', 'REDIS_URL: "127.0.0.1" is not a Sentinel address: write host:port, several separated by commas'],
      ['redis+sentinel://127.0.0.1:26379/mymaster/zero', 'REDIS_URL: "zero" is not a database number'],
    ];
    for (const [bad, message] of cases) {
      assert.throws(() => openRedis(bad, { lazyConnect: true }), { name: 'StartupError', message }, bad);
    }
  });
});
