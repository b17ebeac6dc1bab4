/**
 * GET /metrics: off unless KILN_METRICS is set; then on a listener of its own (127.0.0.1 by default),
 * or on the public port behind KILN_METRICS_TOKEN. Requests are counted by route pattern, method and
 * status; the pool is reported on PostgreSQL; the app's parts report through its Signals.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ConfigError, resolveSettings } from '../../src/config/settings.js';
import { StartupError } from '../../src/config/startup-error.js';
import { startKiln } from '../../src/start.js';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { expectExactProblem, sample } from './helpers.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const JSON_ACCEPT = { accept: 'application/json' };

async function scrape(url: string, init: RequestInit = {}): Promise<string> {
  const res = await fetch(`${url}/metrics`, init);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return text;
}

test('KILN_METRICS_TOKEN must be 16 printable characters at least, and is never echoed', () => {
  assert.throws(
    () => resolveSettings({ KILN_METRICS_TOKEN: 'short-secret' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message.includes('KILN_METRICS_TOKEN: not of the form') &&
      error.message.includes('the value is not shown') &&
      !error.message.includes('short-secret'),
  );
  assert.equal(resolveSettings({ KILN_METRICS_TOKEN: TOKEN }).metricsToken, TOKEN);
});

test('a metrics port in use stops the start with a StartupError naming the settings', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as { port: number };
  const test = await createTestDatabase('pglite');
  try {
    const settings = { ...resolveSettings({}), host: '127.0.0.1', port: 0, logLevel: 'silent', metrics: true, metricsPort: port };
    await assert.rejects(startKiln({ model: await blogModel(), settings, db: test.db }), (error: unknown) => {
      assert.ok(error instanceof StartupError);
      assert.equal(
        error.message,
        `the metrics port 127.0.0.1:${port} is already in use: set KILN_METRICS_PORT to a free port (or 0), or serve the metrics on the public port with KILN_METRICS_TOKEN`,
      );
      return true;
    });
  } finally {
    blocker.close();
    await test.dispose();
  }
});

for (const backend of BACKENDS) {
  describe(`GET /metrics (${backend})`, () => {
    test('is not served without KILN_METRICS', async () => {
      const server = await startTestServer(await blogModel(), backend);
      try {
        assert.equal(server.kiln.metrics, undefined);
        assert.equal(server.kiln.metricsUrl, undefined);
        await expectExactProblem(await server.fetch('/metrics'), 404, 'KILN_ROUTE_NOT_FOUND', 'no route for GET /metrics');
      } finally {
        await server.close();
      }
    });

    describe('on a listener of its own', () => {
      let server: TestServer;
      let metricsUrl: string;
      before(async () => {
        server = await startTestServer(await blogModel(), backend, { metrics: true, metricsPort: 0 });
        metricsUrl = server.kiln.metricsUrl as string;
      });
      after(() => server.close());

      test('listens on 127.0.0.1, and the public port does not serve the metrics', async () => {
        assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.notEqual(metricsUrl, server.url);
        await expectExactProblem(await server.fetch('/metrics'), 404, 'KILN_ROUTE_NOT_FOUND', 'no route for GET /metrics');
      });

      test('counts requests and their durations by method, route pattern and status, never by URL', async () => {
        const created = await server.fetch('/v1/tags', { method: 'POST', headers: JSON_ACCEPT, json: { name: 'metrics' } });
        assert.equal(created.status, 201, await created.clone().text());
        const { id } = (await created.json()).data;
        for (let i = 0; i < 3; i++) assert.equal((await server.fetch(`/v1/tags/${id}`, { headers: JSON_ACCEPT })).status, 200);
        assert.equal((await server.fetch('/v1/tags/987654321', { headers: JSON_ACCEPT })).status, 404);
        const text = await scrape(metricsUrl);
        const labels = (method: string, route: string, status: string) => ({ method, route, status });
        assert.equal(sample(text, 'kiln_http_requests_total', labels('GET', '/v1/tags/:id', '200')), 3);
        assert.equal(sample(text, 'kiln_http_requests_total', labels('GET', '/v1/tags/:id', '404')), 1);
        assert.equal(sample(text, 'kiln_http_requests_total', labels('POST', '/v1/tags', '201')), 1);
        assert.equal(sample(text, 'kiln_http_request_duration_seconds_count', labels('GET', '/v1/tags/:id', '200')), 3);
        assert.equal(sample(text, 'kiln_http_request_duration_seconds_bucket', { ...labels('GET', '/v1/tags/:id', '200'), le: '+Inf' }), 3);
        assert.ok((sample(text, 'kiln_http_request_duration_seconds_sum', labels('GET', '/v1/tags/:id', '200')) ?? 0) > 0);
        assert.doesNotMatch(text, /route="\/v1\/tags\/\d/, 'a record id became a label');
      });

      test('a path no route serves is counted under one label', async () => {
        await server.fetch('/no/such/path/1', { headers: JSON_ACCEPT });
        await server.fetch('/no/such/path/2', { headers: JSON_ACCEPT });
        const text = await scrape(metricsUrl);
        assert.ok((sample(text, 'kiln_http_requests_total', { method: 'GET', route: '(unmatched)', status: '404' }) ?? 0) >= 2);
        assert.ok(!text.includes('/no/such/path'));
      });

      test('reports event-loop lag and the process, with prom-client’s standard names', async () => {
        const text = await scrape(metricsUrl);
        for (const name of [
          'nodejs_eventloop_lag_seconds',
          'nodejs_eventloop_lag_p99_seconds',
          'process_cpu_user_seconds_total',
          'nodejs_heap_size_used_bytes',
        ]) {
          assert.equal(typeof sample(text, name), 'number', `${name} is missing`);
        }
      });

      test('counts what the parts report through the signals: cache outcomes, rate-limit refusals, shed requests', async () => {
        const signals = server.kiln.metrics?.signals;
        assert.ok(signals);
        signals.cache('posts', 'hit');
        signals.cache('posts', 'hit');
        signals.cache('posts', 'miss');
        signals.cache('tags', 'bypass');
        signals.rateLimited('posts', 'create');
        signals.shed('pool');
        const text = await scrape(metricsUrl);
        assert.equal(sample(text, 'kiln_cache_requests_total', { resource: 'posts', outcome: 'hit' }), 2);
        assert.equal(sample(text, 'kiln_cache_requests_total', { resource: 'posts', outcome: 'miss' }), 1);
        assert.equal(sample(text, 'kiln_cache_requests_total', { resource: 'tags', outcome: 'bypass' }), 1);
        assert.equal(sample(text, 'kiln_rate_limited_total', { resource: 'posts', operation: 'create' }), 1);
        assert.equal(sample(text, 'kiln_shed_total', { reason: 'pool' }), 1);
      });

      test(backend === 'postgres' ? 'reports the pool and the wait for a connection' : 'reports no pool: PGlite has none', async () => {
        await server.fetch('/v1/tags', { headers: JSON_ACCEPT });
        const text = await scrape(metricsUrl);
        if (backend === 'pglite') {
          assert.ok(!text.includes('kiln_db_pool'), 'PGlite has no pool to report');
          return;
        }
        assert.equal(sample(text, 'kiln_db_pool_max_connections'), 10);
        const total = sample(text, 'kiln_db_pool_connections') ?? -1;
        const idle = sample(text, 'kiln_db_pool_idle_connections') ?? -1;
        assert.ok(total >= 1 && total <= 10, `total ${total}`);
        assert.ok(idle >= 0 && idle <= total, `idle ${idle}`);
        assert.equal(sample(text, 'kiln_db_pool_waiting'), 0);
        assert.ok((sample(text, 'kiln_db_pool_wait_seconds_count') ?? 0) >= 1);
      });

      test('the listener serves GET /metrics only', async () => {
        await expectExactProblem(await fetch(`${metricsUrl}/v1/tags`), 404, 'KILN_ROUTE_NOT_FOUND', 'this listener serves only GET /metrics');
        const post = await fetch(`${metricsUrl}/metrics`, { method: 'POST' });
        assert.equal(post.headers.get('allow'), 'GET, HEAD');
        await expectExactProblem(post, 405, 'KILN_METHOD_NOT_ALLOWED', 'POST is not allowed on /metrics; use GET');
      });
    });

    describe('on the public port with KILN_METRICS_TOKEN', () => {
      let server: TestServer;
      before(async () => {
        server = await startTestServer(await blogModel(), backend, { metrics: true, metricsPort: 0, metricsToken: TOKEN });
      });
      after(() => server.close());

      test('opens no listener of its own', () => {
        assert.equal(server.kiln.metricsUrl, undefined);
      });

      test('refuses a scrape without the token, or with another', async () => {
        const detail = 'GET /metrics needs Authorization: Bearer with KILN_METRICS_TOKEN';
        for (const headers of [
          {} as Record<string, string>,
          { authorization: `Bearer ${TOKEN}x` },
          { authorization: `Basic ${TOKEN}` },
          { authorization: 'Bearer' },
        ]) {
          const res = await server.fetch('/metrics', { headers });
          assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kiln"');
          await expectExactProblem(res, 401, 'KILN_UNAUTHENTICATED', detail);
        }
      });

      test('serves the bearer of the token', async () => {
        await server.fetch('/v1/tags', { headers: JSON_ACCEPT });
        const text = await scrape(server.url, { headers: { authorization: `Bearer ${TOKEN}` } });
        assert.equal(sample(text, 'kiln_http_requests_total', { method: 'GET', route: '/v1/tags', status: '200' }), 1);
      });
    });
  });
}
