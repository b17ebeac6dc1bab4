/**
 * A collector that refuses exports, then accepts them again: the refusal is logged once at warn,
 * the recovery once at info, and the spans of the refused batch are not sent again. The batch
 * interval is shortened through the SDK's own OTEL_BSP_SCHEDULE_DELAY so exports happen while the
 * app runs. The behaviour is the exporter's, not the database's: one backend is enough.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { type OtlpReceiver, spansOf, startOtlpReceiver } from './otlp-receiver.js';

const backend = BACKENDS[0] ?? 'pglite';

/** Waits until `done` holds, checking every 20 ms; fails after 15 s rather than hang the suite. */
async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 750 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(done(), `waited for ${what}`);
}

describe(`traces when the collector refuses, then accepts (${backend})`, () => {
  let receiver: OtlpReceiver;
  let server: TestServer;
  const saved = process.env.OTEL_BSP_SCHEDULE_DELAY;
  const ids: string[] = [];

  const get = async (path: string) => {
    const res = await server.fetch(path);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    ids.push(res.headers.get('x-request-id') as string);
  };

  before(async () => {
    process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
    receiver = await startOtlpReceiver({ failFirst: 1 });
    server = await startTestServer(await blogModel(), backend, { otelEndpoint: receiver.url });
    await get('/v1/tags');
    await until('the first export', () => receiver.bodies.length >= 1);
    await get('/v1/posts');
    await until('the second export', () => receiver.bodies.length >= 2);
    await server.close();
  });
  after(async () => {
    if (saved === undefined) delete process.env.OTEL_BSP_SCHEDULE_DELAY;
    else process.env.OTEL_BSP_SCHEDULE_DELAY = saved;
    await receiver?.close();
  });

  test('the refusal is logged once at warn, the recovery once at info', () => {
    const lines = server.logs.filter((l) => typeof l.msg === 'string' && /export/.test(l.msg));
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.endpoint]),
      [
        [40, 'could not export traces; spans are dropped until the collector answers', `${receiver.url}/v1/traces`],
        [30, 'trace export resumed', `${receiver.url}/v1/traces`],
      ],
    );
  });

  test('the refused spans are dropped; the later ones arrive', () => {
    const refused = new Set(spansOf(receiver.bodies[0] as string).map((s) => s.spanId));
    assert.ok(refused.size > 0);
    assert.ok(!receiver.spans.some((s) => refused.has(s.spanId)), 'the refused batch was not sent again');
    assert.ok(receiver.spans.some((s) => s.attributes['kiln.request_id'] === ids[1]));
  });
});
