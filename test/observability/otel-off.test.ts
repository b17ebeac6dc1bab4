/**
 * Without an OTLP endpoint in the settings, traces cost nothing: the OpenTelemetry SDK is never
 * loaded, and nothing is sent, even with the standard variables set in the process environment where
 * the SDK would find them. Its own file: the check of loaded modules needs a process in which no
 * traced app ever started.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer } from '../helpers/server.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';

/** The SDK's modules loaded in this process (the API alone is a no-op facade other packages may load). */
const loadedSdk = () =>
  Object.keys(createRequire(import.meta.url).cache).filter((path) => path.includes('/@opentelemetry/') && !path.includes('/@opentelemetry/api/'));

for (const backend of BACKENDS) {
  describe(`traces not configured (${backend})`, () => {
    let receiver: OtlpReceiver;
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

    before(async () => {
      receiver = await startOtlpReceiver();
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
      const server = await startTestServer(await blogModel(), backend);
      try {
        for (const path of ['/v1/posts?include=author', '/v1/tags']) {
          const res = await server.fetch(path, { headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } });
          assert.equal(res.status, 200);
          await res.arrayBuffer();
        }
        const write = await server.fetch('/v1/tags', { method: 'POST', json: { name: `off-${backend}` } });
        assert.equal(write.status, 201);
        await write.arrayBuffer();
      } finally {
        await server.close();
      }
    });
    after(async () => {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
      await receiver?.close();
    });

    test('nothing is exported', () => {
      assert.deepEqual(receiver.bodies, []);
      assert.deepEqual(receiver.refused, []);
    });

    test('the OpenTelemetry SDK was never loaded', () => {
      assert.deepEqual(loadedSdk(), []);
    });
  });
}
