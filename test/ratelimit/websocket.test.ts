/**
 * Subscriptions over the GraphQL WebSocket are counted by the rate limits as the HTTP calls are: an
 * anonymous client by its address, read from X-Forwarded-For of the upgrade only when
 * KILN_TRUST_PROXY trusts the proxy that sent it (the same rule as HTTP's, the same library).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type Received, Subscription, until, wsClient } from '../events/live-clients.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { notesModel } from './models.js';

const TAG_EVENTS = 'subscription { tagEvents { id } }';
const backend = BACKENDS[0] ?? 'pglite';

/** A subscription the limit refused: its one result is the KILN_RATE_LIMITED error. */
async function expectRefused(server: TestServer, forwardedFor: string): Promise<void> {
  const client = wsClient(server.url, undefined, { 'x-forwarded-for': forwardedFor });
  try {
    const result = (await new Subscription(client, TAG_EVENTS).next()) as Received;
    assert.equal(result.errors?.[0]?.extensions?.code, 'KILN_RATE_LIMITED', JSON.stringify(result));
  } finally {
    await client.dispose();
  }
}

for (const [trustProxy, sameBudget] of [
  ['127.0.0.1,::1', false],
  ['off', true],
] as const) {
  describe(`rate limits of WebSocket subscriptions, KILN_TRUST_PROXY=${trustProxy}`, () => {
    let server: TestServer;
    const clients: ReturnType<typeof wsClient>[] = [];
    after(async () => {
      for (const client of clients) await client.dispose();
      await server?.close();
    });

    /** A subscription the server now holds; its first result instead (an error) fails the test rather than hanging it. */
    async function expectAccepted(forwardedFor: string): Promise<void> {
      const client = wsClient(server.url, undefined, { 'x-forwarded-for': forwardedFor });
      clients.push(client);
      const before = server.kiln.events.size;
      const subscription = new Subscription(client, TAG_EVENTS);
      const outcome = await Promise.race([until(() => server.kiln.events.size > before).then(() => 'held'), subscription.next()]);
      assert.equal(outcome, 'held', `refused: ${JSON.stringify(outcome)}`);
    }

    test(sameBudget ? 'X-Forwarded-For changes nothing: every client of the proxy shares its budget' : 'each forwarded client has its own budget', {
      timeout: 30_000,
    }, async () => {
      server = await startTestServer(notesModel({}), backend, { graphql: true, rateLimit: '1/min', trustProxy });
      await expectAccepted('203.0.113.7');
      if (sameBudget) {
        await expectRefused(server, '198.51.100.1');
        return;
      }
      await expectAccepted('198.51.100.1');
      await expectRefused(server, '203.0.113.7');
    });
  });
}
