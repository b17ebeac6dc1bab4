/**
 * GraphQL subscriptions over graphql-ws on one instance (the memory bus), on the blog with open
 * access: a subscriber receives the posts created, updated and deleted after it subscribed, each
 * with the fields it selected; its filter and `types` decide what it receives; a write that rolls
 * back publishes nothing, and one inside ops.transaction publishes once it committed. The blog's
 * posts have a before-create hook (their writes run in a transaction of the operations); tags have
 * no hook (their writes run on their own).
 *
 * "Nothing was delivered" is shown without waiting: events reach a subscriber in the order they were
 * published, so when the next event it receives is a later write's, the earlier one was skipped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from 'graphql-ws';
import { KilnError } from '../../src/core/errors.js';
import { defineRoute } from '../../src/extensions/define.js';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { Subscription, subscribed, unsubscribe, until, wsClient } from './live-clients.js';

const POST_EVENTS = `subscription ($filter: PostFilter, $types: [EventType!]) {
  postEvents(filter: $filter, types: $types) { type id record { title status author { name } } }
}`;

/** Creates two posts in one ops.transaction; `fail` throws after both were written, so the transaction rolls back. */
const twoPosts = defineRoute<Record<string, string>, Record<string, string>, { fail: boolean; title: string }>({
  method: 'POST',
  path: '/two-posts',
  status: 204,
  body: { type: 'object', properties: { fail: { type: 'boolean' }, title: { type: 'string' } }, required: ['fail', 'title'] },
  async handler({ ctx, body, ops }) {
    await ops.transaction(async (tx) => {
      await ops.create(ctx, 'posts', { title: `${body.title} 1`, authorId: 1, status: 'published' }, { tx });
      await ops.create(ctx, 'posts', { title: `${body.title} 2`, authorId: 1, status: 'published' }, { tx });
      if (body.fail) throw new KilnError('KILN_VALIDATION_FAILED', { detail: 'refused after writing' });
    });
  },
});

for (const backend of BACKENDS) {
  describe(`GraphQL subscriptions on one instance (${backend})`, () => {
    let server: TestServer;
    let client: Client;
    const post = async (json: Record<string, unknown>) => {
      const res = await server.fetch('/v1/posts', { method: 'POST', json: { authorId: 1, ...json } });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()).data as { id: number };
    };
    const event = (type: string, id: number, record: unknown) => ({ data: { postEvents: { type, id: String(id), record } } });

    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, undefined, { routes: [twoPosts] });
      const user = await server.fetch('/v1/users', { method: 'POST', json: { name: 'Ada', email: 'ada@example.com' } });
      assert.equal(user.status, 201);
      client = wsClient(server.url);
    });
    after(async () => {
      await client.dispose();
      await server.close();
    });

    test('created, updated and deleted posts arrive with the fields selected, relations included', async () => {
      const sub = await subscribed(server, client, POST_EVENTS);
      const { id } = await post({ title: 'First', status: 'published' });
      assert.deepEqual(await sub.next(), event('created', id, { title: 'First', status: 'published', author: { name: 'Ada' } }));
      assert.equal((await server.fetch(`/v1/posts/${id}`, { method: 'PATCH', json: { title: 'First, again' } })).status, 200);
      assert.deepEqual(await sub.next(), event('updated', id, { title: 'First, again', status: 'published', author: { name: 'Ada' } }));
      assert.equal((await server.fetch(`/v1/posts/${id}`, { method: 'DELETE' })).status, 204);
      assert.deepEqual(await sub.next(), event('deleted', id, null));
      await unsubscribe(server, sub);
    });

    test('the filter decides, on the record after the change; `types` keeps only the kinds asked for', async () => {
      const published = await subscribed(server, client, POST_EVENTS, { filter: { status: { eq: 'published' } } });
      const updates = await subscribed(server, client, POST_EVENTS, { types: ['updated'] });
      const draft = await post({ title: 'Draft' });
      const shown = await post({ title: 'Shown', status: 'published' });
      assert.deepEqual(await published.next(), event('created', shown.id, { title: 'Shown', status: 'published', author: { name: 'Ada' } }));
      // The post leaves the filter: its update is not delivered to the filtered subscriber, its deletion is not either.
      assert.equal((await server.fetch(`/v1/posts/${shown.id}`, { method: 'PATCH', json: { status: 'draft' } })).status, 200);
      // Each subscriber reads the record when its event is delivered: the update is awaited before the deletion.
      assert.deepEqual(await updates.next(), event('updated', shown.id, { title: 'Shown', status: 'draft', author: { name: 'Ada' } }));
      assert.equal((await server.fetch(`/v1/posts/${shown.id}`, { method: 'DELETE' })).status, 204);
      const marker = await post({ title: 'Marker', status: 'published' });
      assert.deepEqual(await published.next(), event('created', marker.id, { title: 'Marker', status: 'published', author: { name: 'Ada' } }));
      assert.equal((await server.fetch(`/v1/posts/${draft.id}`, { method: 'PATCH', json: { title: 'Draft 2' } })).status, 200);
      assert.deepEqual(await updates.next(), event('updated', draft.id, { title: 'Draft 2', status: 'draft', author: { name: 'Ada' } }));
      await unsubscribe(server, published, updates);
    });

    test('a resource without hooks, and setLinks, which is an update of the record', async () => {
      const sub = await subscribed(server, client, 'subscription { tagEvents { type id record { name posts { items { title } } } } }');
      const res = await server.fetch('/v1/tags', { method: 'POST', json: { name: 'history' } });
      const tag = (await res.json()).data as { id: number };
      assert.deepEqual(await sub.next(), { data: { tagEvents: { type: 'created', id: String(tag.id), record: { name: 'history', posts: { items: [] } } } } });
      const linked = await post({ title: 'Tagged' });
      await server.kiln.ops.setLinks(server.kiln.context(), 'tags', tag.id, 'posts', [linked.id]);
      assert.deepEqual(await sub.next(), {
        data: { tagEvents: { type: 'updated', id: String(tag.id), record: { name: 'history', posts: { items: [{ title: 'Tagged' }] } } } },
      });
      await unsubscribe(server, sub);
    });

    test('a write that rolls back publishes nothing; a transaction publishes its writes once it committed', async () => {
      const sub = await subscribed(server, client, POST_EVENTS, { types: ['created'] });
      const failed = await server.fetch('/v1/two-posts', { method: 'POST', json: { fail: true, title: 'Rolled back' } });
      assert.equal(failed.status, 400);
      // A bulk create whose second item points at no user fails as a whole.
      const bulk = await server.fetch('/v1/posts/bulk', {
        method: 'POST',
        json: [
          { title: 'Bulk 1', authorId: 1 },
          { title: 'Bulk 2', authorId: 999 },
        ],
      });
      assert.equal(bulk.status, 422);
      assert.deepEqual((await (await server.fetch('/v1/posts?title[startsWith]=Rolled')).json()).data, []);
      assert.equal((await server.fetch('/v1/two-posts', { method: 'POST', json: { fail: false, title: 'Committed' } })).status, 204);
      const first = await sub.next();
      const second = await sub.next();
      const titles = [first, second].map((r) => (r === 'complete' ? r : r.data.postEvents.record.title));
      assert.deepEqual(titles, ['Committed 1', 'Committed 2']);
      await unsubscribe(server, sub);
    });

    test('a bad subscription is its error, at once: an empty `types`, a filter the core refuses, an unknown filter field', async () => {
      const sub = new Subscription(client, 'subscription { postEvents(types: []) { type } }');
      assert.deepEqual(await sub.next(), {
        errors: [
          {
            message: '"types" is empty: name at least one of created, updated, deleted, or leave it out for all',
            locations: [{ line: 1, column: 16 }],
            path: ['postEvents'],
            extensions: {
              code: 'KILN_QUERY_INVALID',
              status: 400,
              errors: [{ path: 'types', code: 'value', message: '"types" is empty: name at least one of created, updated, deleted, or leave it out for all' }],
            },
          },
        ],
      });
      assert.equal(await sub.next(), 'complete');
      const refused = new Subscription(client, 'subscription { postEvents(filter: { id: { eq: "abc" } }) { type } }');
      const idMessage = 'expected a positive integer id, got "abc"';
      assert.deepEqual(await refused.next(), {
        errors: [
          {
            message: `filter.id.eq: ${idMessage}`,
            locations: [{ line: 1, column: 16 }],
            path: ['postEvents'],
            extensions: { code: 'KILN_QUERY_INVALID', status: 400, errors: [{ path: 'filter.id.eq', code: 'value', message: idMessage }] },
          },
        ],
      });
      const unknown = new Subscription(client, 'subscription { postEvents(filter: { nope: { eq: 1 } }) { type } }');
      assert.deepEqual(await unknown.next(), {
        errors: [
          {
            message: 'Field "nope" is not defined by type "PostFilter".',
            locations: [{ line: 1, column: 37 }],
            extensions: { code: 'KILN_GRAPHQL_INVALID', status: 400 },
          },
        ],
      });
    });

    test('a connection runs at most 20 operations at once: the 21st is refused', async () => {
      const before = server.kiln.events.size;
      const subs = Array.from({ length: 20 }, () => new Subscription(client, 'subscription { postEvents { id } }'));
      await until(() => server.kiln.events.size === before + 20);
      const refused = new Subscription(client, 'subscription { postEvents { id } }');
      assert.deepEqual(await refused.next(), {
        errors: [
          {
            message: 'this connection already runs 20 operations; complete one first, or open another connection',
            extensions: { code: 'KILN_SUBSCRIPTION_LIMIT', status: 429 },
          },
        ],
      });
      await unsubscribe(server, ...subs);
    });
  });
}
