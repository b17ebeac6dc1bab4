/**
 * Redis cannot be reached (REDIS_URL names a port nothing listens on): writes still answer at once
 * and the process lives; this instance's own subscribers still get their events (delivered without
 * Redis), and the outage is logged once, not once per write. The database plays no part: one backend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { subscribed, wsClient } from './live-clients.js';

describe('change events while Redis is down', () => {
  let server: TestServer;
  let client: ReturnType<typeof wsClient>;

  before(async () => {
    server = await startTestServer(await blogModel(), BACKENDS[0] ?? 'pglite', { redisUrl: 'redis://127.0.0.1:1', redisKeyPrefix: 'kiln-test-down:' });
    client = wsClient(server.url);
  });
  after(async () => {
    await client.dispose();
    await server.close();
  });

  test('writes answer 2xx, local subscribers still hear them, the outage is logged once', async () => {
    const sub = await subscribed(server, client, 'subscription { tagEvents { type record { name } } }');
    for (const name of ['one', 'two', 'three']) {
      const res = await server.fetch('/v1/tags', { method: 'POST', json: { name } });
      assert.equal(res.status, 201, await res.text());
      assert.deepEqual(await sub.next(), { data: { tagEvents: { type: 'created', record: { name } } } });
    }
    const warnings = server.logs.filter((line) => String(line.msg).startsWith('change events: Redis cannot be reached'));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.channel, 'kiln-test-down:events');
    assert.equal((await server.fetch('/healthz')).status, 200);
  });
});
