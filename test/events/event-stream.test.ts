/**
 * GET /v1/{resource}/events (Server-Sent Events), black-box with fetch's streaming body, on the blog
 * with its rules: REST's filters and credentials, the record of each event as GET shows it to the
 * caller, problems answered before the stream starts, and shutdown ending streams and sockets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALAN, GRACE } from '../access/blog-world.js';
import { BLOG_SEED_PATH, blogModel, blogModelWithRules } from '../helpers/blog.js';
import { as } from '../helpers/callers.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { subscribed, wsClient } from './live-clients.js';
import { SseClient } from './sse-client.js';

for (const backend of BACKENDS) {
  describe(`event streams over Server-Sent Events (${backend})`, () => {
    let server: TestServer;
    const write = async (headers: Record<string, string>, method: string, path: string, status: number, json?: unknown) => {
      const res = await server.fetch(path, { method, headers, ...(json !== undefined && { json }) });
      const text = await res.text();
      assert.equal(res.status, status, `${method} ${path}: ${text}`);
      return text ? JSON.parse(text).data : undefined;
    };
    const open = (query: string, headers: Record<string, string> = {}) => SseClient.open(`${server.api}/posts/events${query}`, headers);

    before(async () => {
      server = await startTestServer(await blogModelWithRules(), backend, {}, BLOG_SEED_PATH);
    });
    after(() => server.close());

    test("each event carries the record as the caller's GET answers it; REST's filters apply", async () => {
      const stream = await open('?status=published&title[startsWith]=News');
      assert.equal(stream.response.headers.get('cache-control'), 'no-store');
      assert.ok(stream.response.headers.get('x-request-id'));
      await write(as(GRACE, ['editor']), 'POST', '/v1/posts', 201, { title: 'Other news', status: 'published' });
      await write(as(ALAN), 'POST', '/v1/posts', 201, { title: 'News in draft' });
      const post = await write(as(GRACE, ['editor']), 'POST', '/v1/posts', 201, { title: 'News of the day', status: 'published' });
      const get = await (await server.fetch(`/v1/posts/${post.id}`)).json();
      assert.deepEqual(await stream.next(), { event: 'created', id: String(post.id), data: get });
      await write(as(GRACE, ['editor']), 'PATCH', `/v1/posts/${post.id}`, 200, { body: 'Read all about it.' });
      const updated = await stream.next();
      assert.deepEqual(updated, { event: 'updated', id: String(post.id), data: await (await server.fetch(`/v1/posts/${post.id}`)).json() });
      assert.equal(updated?.data.data.body, 'Read all about it.');
      await write(as(GRACE, ['editor']), 'DELETE', `/v1/posts/${post.id}`, 204);
      assert.deepEqual(await stream.next(), { event: 'deleted', id: String(post.id), data: { data: { id: post.id } } });
      await stream.close();
    });

    test('with a token, the caller reads what its rules allow: an author its drafts, not anyone else’s', async () => {
      const stream = await open('?status=draft', as(ALAN));
      await write(as(GRACE, ['editor']), 'POST', '/v1/posts', 201, { title: 'Draft of an editor' });
      const own = await write(as(ALAN), 'POST', '/v1/posts', 201, { title: 'Draft of Alan' });
      const next = await stream.next();
      assert.deepEqual([next?.event, next?.data.data.title, next?.data.data.authorId], ['created', 'Draft of Alan', ALAN]);
      assert.equal(next?.id, String(own.id));
      await stream.close();
    });

    test('bad credentials: 401, before any stream', async () => {
      const stream = await open('', { authorization: 'Bearer not-a-token' });
      const body = await expectProblem(stream.response, 401, 'KILN_UNAUTHENTICATED');
      assert.equal(stream.response.headers.get('www-authenticate'), 'Bearer realm="kiln", error="invalid_token"');
      assert.equal(body.detail, 'the access token is invalid or expired; refresh it or sign in again');
    });

    test("a filter the list refuses, or a list parameter that is not a filter: REST's KILN_QUERY_INVALID", async () => {
      const badFilter = await open('?nope=1&status=unknown');
      const body = await expectProblem(badFilter.response, 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(body.errors, [
        { path: 'nope', code: 'unknown', message: 'unknown query parameter "nope": "nope" is not a post field' },
        { path: 'status', code: 'value', message: 'expected one of: draft, published, got "unknown"' },
      ]);
      const notFilters = await open('?sort=title&limit=5&status=published');
      const refused = await expectProblem(notFilters.response, 400, 'KILN_QUERY_INVALID');
      assert.equal(refused.detail, 'an event stream takes only filters; got "sort", "limit"');
      assert.deepEqual(refused.errors, [
        { path: 'sort', code: 'unknown', message: '"sort" is not a filter; an event stream takes only filters' },
        { path: 'limit', code: 'unknown', message: '"limit" is not a filter; an event stream takes only filters' },
      ]);
    });

    test('only event streams skip the JSON-only Accept gate', async () => {
      const html = await server.fetch('/v1/posts/events', { headers: { accept: 'text/html' } });
      await expectProblem(html, 406, 'KILN_NOT_ACCEPTABLE');
      const list = await server.fetch('/v1/posts', { headers: { accept: 'text/event-stream' } });
      await expectProblem(list, 406, 'KILN_NOT_ACCEPTABLE');
    });
  });
}

// Shutdown does not depend on the database: one backend is enough.
describe('shutdown ends every event stream and closes every GraphQL socket with 1001', () => {
  test('a stream ends and a socket closes as the server closes', async () => {
    const server = await startTestServer(await blogModel(), BACKENDS[0] ?? 'pglite');
    const stream = await SseClient.open(`${server.api}/posts/events`);
    const socket = wsClient(server.url);
    await subscribed(server, socket, 'subscription { postEvents { id } }');
    await server.close();
    assert.equal(await stream.next(), undefined);
    assert.deepEqual(await socket.closed, { code: 1001, reason: 'Going away' });
  });
});
