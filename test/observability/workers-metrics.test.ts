/**
 * `kiln serve --workers 2` with KILN_METRICS: the primary opens the metrics listener and answers a
 * scrape with the metrics of both workers added up; the workers open none.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ServeProcess, spawnServe } from '../helpers/serve-process.js';
import { BACKENDS, createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/server.js';
import { getOnNewConnection, readyzPids, until } from '../helpers/workers.js';
import { sample } from './helpers.js';

describe('kiln serve --workers 2 with KILN_METRICS', { skip: !BACKENDS.includes('postgres') }, () => {
  let db: TestDatabase;
  let serve: ServeProcess;
  let metricsUrl: string;

  before(async () => {
    db = await createTestDatabase('postgres');
    serve = await spawnServe(
      { DATABASE_URL: TEST_DATABASE_URL, KILN_DB_SCHEMA: db.schema, KILN_LOG_FORMAT: 'json', KILN_METRICS: 'true', KILN_METRICS_PORT: '0' },
      ['--workers', '2'],
    );
    await until('both workers', () => /2 workers listening \(pids \d+, \d+\)/.test(serve.stderr()));
    metricsUrl = /metrics of every worker at (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(serve.stderr())?.[1] as string;
    assert.ok(metricsUrl, serve.stderr());
  });
  after(async () => {
    if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    await db.dispose();
  });

  test('a scrape of the primary adds up the requests both workers served', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await getOnNewConnection(`${serve.url}/readyz`)).status, 200);
    await until('log lines of both workers', () => readyzPids(serve.stdout()).size === 2);
    const res = await fetch(`${metricsUrl}/metrics`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal(sample(text, 'kiln_http_requests_total', { method: 'GET', route: '/readyz', status: '200' }), 6);
    // Each worker has a pool of KILN_DB_POOL_MAX (10) connections.
    assert.equal(sample(text, 'kiln_db_pool_max_connections'), 20);
    assert.equal(typeof sample(text, 'nodejs_eventloop_lag_seconds'), 'number');
  });

  test('the workers serve no /metrics on the public port', async () => {
    const res = await fetch(`${serve.url}/metrics`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'KILN_ROUTE_NOT_FOUND');
  });

  test('SIGTERM stops the workers and closes the metrics listener', async () => {
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0, serve.stderr());
    await assert.rejects(fetch(`${metricsUrl}/metrics`));
  });
});
