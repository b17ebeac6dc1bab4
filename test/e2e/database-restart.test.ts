/**
 * PostgreSQL stopped and started again under a running Kiln, on a server of the test's own (the
 * shared one cannot be stopped): while it is down every request is answered at once with 503
 * KILN_DATABASE_UNAVAILABLE problem+json and Retry-After (never a hang, never a 500), /readyz is 503
 * and the process lives; once it is back the service answers again by itself, with no restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import { type RunningKiln, startKiln } from '../../src/start.js';
import { blogModel } from '../helpers/blog.js';
import { as } from '../helpers/callers.js';
import { type ReplicaCluster, startReplicaCluster } from '../helpers/replica-cluster.js';
import { BACKENDS, TEST_CURSOR_SECRET, TEST_JWT_SECRET } from '../helpers/server.js';

const EDITOR = as(1, ['editor']);

describe('PostgreSQL stopped and started again (postgres)', { skip: !BACKENDS.includes('postgres') }, () => {
  let cluster: ReplicaCluster;
  let kiln: RunningKiln;
  const call = async (method: string, path: string, json?: unknown) => {
    const res = await fetch(`${kiln.url}${path}`, {
      method,
      headers: { ...EDITOR, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
    return { status: res.status, type: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
  };

  before(async () => {
    cluster = await startReplicaCluster();
    const settings = {
      ...resolveSettings({}),
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      databaseUrl: cluster.primaryUrl,
      cursorSecret: TEST_CURSOR_SECRET,
      authJwtSecret: TEST_JWT_SECRET,
      dbConnectTimeoutMs: 2000,
    } as const;
    kiln = await startKiln({ model: await blogModel(), settings });
  });
  after(async () => {
    await kiln?.close();
    await cluster?.stop();
  });

  test('down: 503 problem+json with Retry-After for reads, writes and /readyz; back: answers again without a restart', async () => {
    assert.equal((await call('POST', '/v1/tags', { name: 'before' })).status, 201);

    await cluster.stopServer('primary');
    for (const [method, path, json] of [
      ['GET', '/v1/tags'],
      ['GET', '/v1/tags/1'],
      ['POST', '/v1/tags', { name: 'during' }],
    ] as const) {
      const answer = await call(method, path, json);
      assert.deepEqual(
        { status: answer.status, type: answer.type, code: answer.body.code, title: answer.body.title },
        { status: 503, type: 'application/problem+json; charset=utf-8', code: 'KILN_DATABASE_UNAVAILABLE', title: 'Database unavailable' },
        `${method} ${path}`,
      );
      assert.match(answer.retryAfter ?? '', /^\d+$/, `${method} ${path}: Retry-After`);
    }
    const ready = await fetch(`${kiln.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { code: string }).code, 'KILN_DATABASE_UNAVAILABLE');

    await cluster.startServer('primary');
    let readyAgain = 503;
    while (readyAgain !== 200) {
      readyAgain = (await fetch(`${kiln.url}/readyz`)).status;
      if (readyAgain !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await call('POST', '/v1/tags', { name: 'after' })).status, 201);
    const names = (await call('GET', '/v1/tags')).body.data.map((t: { name: string }) => t.name);
    assert.deepEqual(names, ['before', 'after'], 'the write refused while down made nothing');
  });
});
