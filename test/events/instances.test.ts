/**
 * Two instances of one application on the same database and the same Redis (REDIS_URL, a key prefix
 * of this suite's own): a write through A reaches the subscribers of B, over graphql-ws and over
 * Server-Sent Events, each reading the record as itself on B, so a subscriber who may not read the
 * row gets nothing. When B's connection to Redis is cut, it reconnects and subscribes again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { ALAN, GRACE } from '../access/blog-world.js';
import { BLOG_SEED_PATH, blogModelWithRules } from '../helpers/blog.js';
import { as } from '../helpers/callers.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { secondInstance, subscribed, until, wsClient } from './live-clients.js';
import { SseClient } from './sse-client.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POST_EVENTS = 'subscription { postEvents { type id record { title status } } }';

for (const backend of BACKENDS) {
  describe(`change events across two instances over Redis (${backend})`, () => {
    const prefix = `kiln-test-events-${randomBytes(4).toString('hex')}:`;
    const settings = { redisUrl: REDIS_URL, redisKeyPrefix: prefix };
    const redis = new Redis(REDIS_URL);
    let a: TestServer;
    let b: Awaited<ReturnType<typeof secondInstance>>;
    const clients: ReturnType<typeof wsClient>[] = [];
    /** Both instances listen on the channel: an event published now reaches them. */
    const bothListening = async () =>
      until(async () => {
        const [, count] = (await redis.pubsub('NUMSUB', `${prefix}events`)) as [string, number];
        return count >= 2;
      });
    const write = async (headers: Record<string, string>, method: string, path: string, status: number, json?: unknown) => {
      const res = await a.fetch(path, { method, headers, ...(json !== undefined && { json }) });
      const text = await res.text();
      assert.equal(res.status, status, `${method} ${path}: ${text}`);
      return text ? JSON.parse(text).data : undefined;
    };
    const event = (type: string, id: number, record: unknown) => ({ data: { postEvents: { type, id: String(id), record } } });

    before(async () => {
      a = await startTestServer(await blogModelWithRules(), backend, settings, BLOG_SEED_PATH);
      b = await secondInstance(a, await blogModelWithRules(), backend, settings);
      await bothListening();
    });
    after(async () => {
      for (const client of clients) await client.dispose();
      await b.close();
      await a.close();
      redis.disconnect();
    });

    test('a write through A reaches the subscribers of B, each as itself, over graphql-ws and SSE', async () => {
      const client = (params?: Record<string, unknown>) => {
        const c = wsClient(b.kiln.url, params);
        clients.push(c);
        return c;
      };
      const anonymous = await subscribed(b, client(), POST_EVENTS);
      const alan = await subscribed(b, client({ authorization: as(ALAN).authorization }), POST_EVENTS);
      const withoutStream = b.kiln.events.size;
      const stream = await SseClient.open(`${b.kiln.url}/v1/posts/events`);

      const draft = await write(as(ALAN), 'POST', '/v1/posts', 201, { title: 'Draft through A' });
      assert.deepEqual(await alan.next(), event('created', draft.id, { title: 'Draft through A', status: 'draft' }));
      const published = await write(as(GRACE, ['editor']), 'POST', '/v1/posts', 201, { title: 'Published through A', status: 'published' });
      await write(as(ALAN), 'DELETE', `/v1/posts/${draft.id}`, 204);

      // Neither anonymous subscriber receives the draft, nor its deletion.
      assert.deepEqual(await anonymous.next(), event('created', published.id, { title: 'Published through A', status: 'published' }));
      const sse = await stream.next();
      assert.deepEqual([sse?.event, sse?.id, sse?.data.data.title], ['created', String(published.id), 'Published through A']);
      assert.deepEqual(await alan.next(), event('created', published.id, { title: 'Published through A', status: 'published' }));
      assert.deepEqual(await alan.next(), event('deleted', draft.id, null));
      await stream.close();
      await until(() => b.kiln.events.size === withoutStream);
    });

    test("B resubscribes when its Redis connection is cut, and hears A's writes again", async () => {
      const c = wsClient(b.kiln.url);
      clients.push(c);
      const sub = await subscribed(b, c, POST_EVENTS);
      const listed = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      const ids = listed
        .split('\n')
        .filter((line) => line.includes(` name=kiln-events-subscribe:${prefix}events `))
        .map((line) => /(?:^| )id=(\d+)/.exec(line)?.[1]);
      assert.equal(ids.length, 2, listed);
      // Cut every events subscriber of this suite's two instances; ioredis reconnects each and subscribes again.
      for (const id of ids) await redis.call('CLIENT', 'KILL', 'ID', String(id)).catch(() => {});
      await bothListening();
      const post = await write(as(GRACE, ['editor']), 'POST', '/v1/posts', 201, { title: 'After the cut', status: 'published' });
      assert.deepEqual(await sub.next(), event('created', post.id, { title: 'After the cut', status: 'published' }));
    });
  });
}
