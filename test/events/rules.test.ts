/**
 * Change events under the blog's access rules, over graphql-ws: each subscriber receives what it may
 * read, exactly as its REST reads would show it. Anyone reads published posts, an author their own
 * drafts too, an editor every post; a user's email only its owner. Deletions follow the same rules,
 * checked on the row as it was. Credentials come in connectionParams or on the upgrade request; bad
 * ones close the socket with 4403, and a session cookie counts only from this server's own origin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADA, ALAN, GRACE } from '../access/blog-world.js';
import { BLOG_SEED_PATH, blogModelWithRules } from '../helpers/blog.js';
import { as } from '../helpers/callers.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { subscribed, unsubscribe, wsClient } from './live-clients.js';

const POST_EVENTS = 'subscription { postEvents { type id record { title status } } }';
const PASSWORD = 'kiln-demo-password';

for (const backend of BACKENDS) {
  describe(`change events follow the read rules (${backend})`, () => {
    let server: TestServer;
    const clients: ReturnType<typeof wsClient>[] = [];
    const client = (params?: Record<string, unknown>, headers?: Record<string, string>) => {
      const c = wsClient(server.url, params, headers);
      clients.push(c);
      return c;
    };
    const write = async (headers: Record<string, string>, method: string, path: string, status: number, json?: unknown) => {
      const res = await server.fetch(path, { method, headers, ...(json !== undefined && { json }) });
      const text = await res.text();
      assert.equal(res.status, status, `${method} ${path}: ${text}`);
      return text ? JSON.parse(text).data : undefined;
    };
    const event = (type: string, id: number, record: unknown) => ({ data: { postEvents: { type, id: String(id), record } } });

    before(async () => {
      server = await startTestServer(await blogModelWithRules(), backend, {}, BLOG_SEED_PATH);
    });
    after(async () => {
      for (const c of clients) await c.dispose();
      await server.close();
    });

    test('anonymous never receives a draft; its author and an editor do, deletions included', async () => {
      const anonymous = await subscribed(server, client(), POST_EVENTS);
      const alan = await subscribed(server, client({ authorization: as(ALAN).authorization }), POST_EVENTS);
      // Credentials on the upgrade request work as well as in connectionParams.
      const grace = await subscribed(server, client(undefined, as(GRACE, ['editor'])), POST_EVENTS);

      const draft = await write(as(ALAN), 'POST', '/v1/posts', 201, { title: 'Draft of Alan' });
      for (const sub of [alan, grace]) assert.deepEqual(await sub.next(), event('created', draft.id, { title: 'Draft of Alan', status: 'draft' }));
      await write(as(ALAN), 'PATCH', `/v1/posts/${draft.id}`, 200, { title: 'Draft of Alan, edited' });
      for (const sub of [alan, grace]) assert.deepEqual(await sub.next(), event('updated', draft.id, { title: 'Draft of Alan, edited', status: 'draft' }));
      const published = await write(as(GRACE, ['editor']), 'POST', '/v1/posts', 201, { title: 'Out now', status: 'published' });
      await write(as(ALAN), 'DELETE', `/v1/posts/${draft.id}`, 204);
      await write(as(GRACE, ['editor']), 'DELETE', `/v1/posts/${published.id}`, 204);

      const publishedRecord = { title: 'Out now', status: 'published' };
      assert.deepEqual(await anonymous.next(), event('created', published.id, publishedRecord));
      assert.deepEqual(await anonymous.next(), event('deleted', published.id, null));
      for (const sub of [alan, grace]) {
        assert.deepEqual(await sub.next(), event('created', published.id, publishedRecord));
        assert.deepEqual(await sub.next(), event('deleted', draft.id, null));
        assert.deepEqual(await sub.next(), event('deleted', published.id, null));
      }
      await unsubscribe(server, anonymous, alan, grace);
    });

    test("another author's draft, and its deletion, are not delivered", async () => {
      const alan = await subscribed(server, client({ authorization: as(ALAN).authorization }), POST_EVENTS);
      // Ada, as an author without her admin role, writes a draft Alan may not read.
      const adaDraft = await write(as(ADA), 'POST', '/v1/posts', 201, { title: 'Draft of another' });
      await write(as(GRACE, ['editor']), 'DELETE', `/v1/posts/${adaDraft.id}`, 204);
      const marker = await write(as(ALAN), 'POST', '/v1/posts', 201, { title: 'Marker' });
      assert.deepEqual(await alan.next(), event('created', marker.id, { title: 'Marker', status: 'draft' }));
      await unsubscribe(server, alan);
    });

    test("field rules hold: a user's email reaches its owner only", async () => {
      const query = 'subscription { userEvents(types: [updated]) { id record { name email } } }';
      const alan = await subscribed(server, client({ authorization: as(ALAN).authorization }), query);
      await write(as(ADA, ['admin']), 'PATCH', `/v1/users/${GRACE}`, 200, { name: 'Grace B. Hopper' });
      await write(as(ADA, ['admin']), 'PATCH', `/v1/users/${ALAN}`, 200, { name: 'Alan M. Turing' });
      assert.deepEqual(await alan.next(), { data: { userEvents: { id: String(GRACE), record: { name: 'Grace B. Hopper', email: null } } } });
      assert.deepEqual(await alan.next(), { data: { userEvents: { id: String(ALAN), record: { name: 'Alan M. Turing', email: 'alan@example.com' } } } });
      await unsubscribe(server, alan);
    });

    test('bad credentials close the connection with 4403 and the error code', async () => {
      const inParams = client({ authorization: 'Bearer not-a-token' });
      assert.deepEqual(await inParams.closed, { code: 4403, reason: 'KILN_UNAUTHENTICATED' });
      const inHeaders = client(undefined, { authorization: 'Bearer not-a-token' });
      assert.deepEqual(await inHeaders.closed, { code: 4403, reason: 'KILN_UNAUTHENTICATED' });
    });

    test("the session cookie counts from this server's origin, not from another site's page", async () => {
      const signIn = await server.fetch('/v1/auth/session', { method: 'POST', json: { login: 'alan@example.com', password: PASSWORD } });
      assert.equal(signIn.status, 200);
      const cookie = /^([^;]+);/.exec(signIn.headers.getSetCookie()[0] ?? '')?.[1] ?? '';
      const own = await subscribed(server, client(undefined, { cookie, origin: server.url }), POST_EVENTS);
      const foreign = await subscribed(server, client(undefined, { cookie, origin: 'https://evil.example' }), POST_EVENTS);
      const draft = await write(as(ALAN), 'POST', '/v1/posts', 201, { title: 'Cookie draft' });
      const marker = await write(as(GRACE, ['editor']), 'POST', '/v1/posts', 201, { title: 'Cookie marker', status: 'published' });
      assert.deepEqual(await own.next(), event('created', draft.id, { title: 'Cookie draft', status: 'draft' }));
      assert.deepEqual(await foreign.next(), event('created', marker.id, { title: 'Cookie marker', status: 'published' }));
      await unsubscribe(server, own, foreign);
    });
  });
}
