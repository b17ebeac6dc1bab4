/**
 * A collector that is down costs the spans, never a request: the app keeps answering, shutdown
 * completes, nothing is rejected unhandled, and the failure is logged once, without the
 * credentials an endpoint URL may carry.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { closedPort } from './otlp-receiver.js';

for (const backend of BACKENDS) {
  describe(`traces with the collector down (${backend})`, () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    let server: TestServer;
    let endpoint: string;
    const statuses: number[] = [];

    before(async () => {
      process.on('unhandledRejection', onUnhandled);
      endpoint = `http://127.0.0.1:${await closedPort()}/v1/traces`;
      server = await startTestServer(await blogModel(), backend, { otelTracesEndpoint: `http://collector:s3cret@${endpoint.slice('http://'.length)}` });
      for (const path of ['/v1/posts?include=author', '/v1/tags', '/v1/posts/999999']) {
        const res = await server.fetch(path);
        statuses.push(res.status);
        await res.arrayBuffer();
      }
      const write = await server.fetch('/v1/tags', { method: 'POST', json: { name: `down-${backend}` } });
      statuses.push(write.status);
      await write.arrayBuffer();
      // Flushes the spans to the dead endpoint: the export fails here, and close must still complete.
      await server.close();
    });
    after(() => {
      process.off('unhandledRejection', onUnhandled);
    });

    test('every request was answered as usual', () => {
      assert.deepEqual(statuses, [200, 200, 404, 201]);
    });

    test('the SDK was loaded: traces were on', () => {
      assert.ok(Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/@opentelemetry/exporter-trace-otlp-http/')));
    });

    test('the failed export is logged once, at warn, with the endpoint but not its credentials', () => {
      const failures = server.logs.filter((l) => l.msg === 'could not export traces; spans are dropped until the collector answers');
      assert.equal(failures.length, 1, JSON.stringify(server.logs.filter((l) => (l.level as number) >= 40)));
      const [failure] = failures as [Record<string, unknown>];
      assert.equal(failure.level, 40);
      assert.equal(failure.endpoint, endpoint);
      assert.ok(!JSON.stringify(server.logs).includes('s3cret'));
    });

    test('no promise was rejected unhandled', () => {
      assert.deepEqual(unhandled, []);
    });
  });
}
