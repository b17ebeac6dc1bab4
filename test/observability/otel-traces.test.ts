/**
 * OpenTelemetry traces over OTLP/HTTP, received by a real receiver (otlp-receiver.ts): a server span
 * per request carrying its request id, a child span per SQL statement without parameter values, the
 * caller's trace continued from `traceparent`, and every span flushed when the app closes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defineRoute } from '../../src/extensions/define.js';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer } from '../helpers/server.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.js';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;
const SLACK = 1_000_000_000n;

/** Spans as JSON, for assertion messages (their times are bigints). */
const shown = (spans: readonly ReceivedSpan[]) => JSON.stringify(spans, (_key, value) => (typeof value === 'bigint' ? String(value) : value));

/** Runs a statement, then fails unexpectedly: a 500 whose span has a SQL child. */
const crash = defineRoute({
  method: 'GET',
  path: '/crash',
  status: 204,
  handler: async ({ ctx, ops }) => {
    await ops.list(ctx, 'tags', { limit: 1 });
    throw new Error('unexpected');
  },
});

// A caller's trace: W3C trace context, sampled.
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

for (const backend of BACKENDS) {
  describe(`OpenTelemetry traces (${backend})`, () => {
    let receiver: OtlpReceiver;
    /** The request id (X-Request-Id) of each request made, by what it was. */
    const ids: Record<string, string> = {};
    const needle = `needle-${backend}-${process.pid}`;

    before(async () => {
      receiver = await startOtlpReceiver();
      const server = await startTestServer(await blogModel(), backend, { otelEndpoint: receiver.url, otelServiceName: 'blog-test' }, BLOG_SEED_PATH, {
        routes: [crash],
      });
      try {
        const call = async (what: string, path: string, init: Parameters<typeof server.fetch>[1], status: number) => {
          const res = await server.fetch(path, init);
          const text = await res.text();
          assert.equal(res.status, status, `${what}: ${text}`);
          ids[what] = res.headers.get('x-request-id') as string;
          return res;
        };
        await call('list', '/v1/posts?include=author,comments&limit=3', {}, 200);
        await call('filtered', `/v1/posts?title=${needle}`, {}, 200);
        await call('write', '/v1/tags', { method: 'POST', json: { name: needle } }, 201);
        const missing = await server.fetch('/v1/posts/999999');
        await expectProblem(missing, 404, 'KILN_NOT_FOUND');
        ids.missing = missing.headers.get('x-request-id') as string;
        const nowhere = await server.fetch('/v1/nowhere/at/all?secret=1');
        await expectProblem(nowhere, 404, 'KILN_ROUTE_NOT_FOUND');
        ids.nowhere = nowhere.headers.get('x-request-id') as string;
        const crashed = await server.fetch('/v1/crash');
        await expectProblem(crashed, 500, 'KILN_INTERNAL');
        ids.crash = crashed.headers.get('x-request-id') as string;
        await call('continued', '/v1/tags', { headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` } }, 200);
        await call('chosen id', '/v1/tags?limit=1', { headers: { 'x-request-id': 'trace-me-1' } }, 200);
        await call('unsampled', '/v1/tags', { headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-00` } }, 200);
        await call('graphql', '/graphql', { method: 'POST', json: { query: '{ tags { items { id name } } }' } }, 200);
      } finally {
        // Closing flushes the spans still batched: no waiting on the export interval.
        await server.close();
      }
    });
    after(() => receiver?.close());

    const serverSpan = (what: string): ReceivedSpan => {
      const found = receiver.spans.filter((s) => s.kind === SERVER && s.attributes['kiln.request_id'] === ids[what]);
      assert.equal(found.length, 1, `one server span for ${what} (${ids[what]}); got ${shown(found)}`);
      return found[0] as ReceivedSpan;
    };
    const childrenOf = (parent: ReceivedSpan) => receiver.spans.filter((s) => s.parentSpanId === parent.spanId);

    test('the receiver got JSON on /v1/traces, with the configured service name', () => {
      assert.deepEqual(receiver.refused, []);
      assert.ok(receiver.spans.length > 0);
      for (const span of receiver.spans) {
        assert.equal(span.resource['service.name'], 'blog-test');
        assert.equal(span.resource['service.version'], '1.0.0');
      }
    });

    test('a server span per request, named by its route, with the request id of the response', () => {
      const list = serverSpan('list');
      assert.equal(list.name, 'GET /v1/posts');
      assert.deepEqual(
        { ...list.attributes },
        {
          'http.request.method': 'GET',
          'http.route': '/v1/posts',
          'url.path': '/v1/posts',
          'url.scheme': 'http',
          'http.response.status_code': 200,
          'kiln.request_id': ids.list,
        },
      );
      assert.equal(list.statusCode, 0);
      assert.equal(list.parentSpanId, undefined, 'a request without traceparent starts a trace');
      assert.equal(serverSpan('chosen id').attributes['kiln.request_id'], 'trace-me-1');
      const write = serverSpan('write');
      assert.equal(write.name, 'POST /v1/tags');
      assert.equal(write.attributes['http.response.status_code'], 201);
    });

    test('the SQL statements of a request are its children, in its trace', () => {
      const list = serverSpan('list');
      const statements = childrenOf(list);
      assert.ok(statements.length >= 1, 'the list ran at least one statement');
      for (const span of statements) {
        assert.equal(span.kind, CLIENT);
        assert.equal(span.traceId, list.traceId);
        assert.equal(span.attributes['db.system'], 'postgresql');
        assert.equal(span.attributes['db.system.name'], 'postgresql');
        // Back-dated from its duration onto the request's clock: inside the request, give or take the
        // millisecond precision the SDK anchors its clock with (a second of slack; not a speed check).
        assert.ok(span.startNs <= span.endNs && span.startNs > list.startNs - SLACK && span.endNs < list.endNs + SLACK, shown([list, span]));
      }
      const select = statements.find((s) => s.name === 'SELECT');
      assert.ok(select, shown(statements));
      assert.equal(select.attributes['db.operation.name'], 'SELECT');
      assert.match(String(select.attributes['db.query.text']), /^\s*SELECT [\s\S]*"posts"[\s\S]*\$1/);
      const insert = childrenOf(serverSpan('write')).find((s) => s.name === 'INSERT');
      assert.ok(insert, 'the write has its INSERT');
      assert.match(String(insert.attributes['db.query.text']), /INSERT INTO "tags"/);
    });

    test('parameter values appear nowhere in what is exported', () => {
      assert.ok(childrenOf(serverSpan('filtered')).some((s) => String(s.attributes['db.query.text']).includes('"title"')));
      assert.ok(receiver.bodies.length > 0);
      for (const body of receiver.bodies) assert.ok(!body.includes(needle), 'a filter value or a written value was exported');
    });

    test('a 4xx is not a server error; a 5xx is, and its statements are still traced', () => {
      const missing = serverSpan('missing');
      assert.equal(missing.name, 'GET /v1/posts/:id');
      assert.equal(missing.attributes['http.route'], '/v1/posts/:id');
      assert.equal(missing.attributes['url.path'], '/v1/posts/999999');
      assert.equal(missing.attributes['http.response.status_code'], 404);
      assert.equal(missing.statusCode, 0);
      assert.equal(missing.attributes['error.type'], undefined);
      const nowhere = serverSpan('nowhere');
      assert.equal(nowhere.name, 'GET', 'no route: the method alone, not the path');
      assert.equal(nowhere.attributes['http.route'], undefined);
      assert.equal(nowhere.attributes['url.path'], '/v1/nowhere/at/all');
      assert.equal(nowhere.attributes['http.response.status_code'], 404);
      const crashed = serverSpan('crash');
      assert.equal(crashed.attributes['http.response.status_code'], 500);
      assert.equal(crashed.statusCode, ERROR);
      assert.equal(crashed.attributes['error.type'], '500');
      assert.ok(childrenOf(crashed).some((s) => s.name === 'SELECT'));
    });

    test('an incoming traceparent continues the caller’s trace', () => {
      const continued = serverSpan('continued');
      assert.equal(continued.traceId, CALLER_TRACE);
      assert.equal(continued.parentSpanId, CALLER_SPAN);
      const statements = childrenOf(continued);
      assert.ok(statements.length >= 1);
      for (const span of statements) assert.equal(span.traceId, CALLER_TRACE);
      assert.notEqual(serverSpan('list').traceId, CALLER_TRACE);
    });

    test('a caller that does not sample its trace is followed: nothing of its request is recorded', () => {
      assert.equal(receiver.spans.filter((s) => s.attributes['kiln.request_id'] === ids.unsampled).length, 0);
      const continued = serverSpan('continued');
      assert.equal(receiver.spans.filter((s) => s.traceId === CALLER_TRACE && s.kind === SERVER).length, 1, 'only the sampled request of that trace');
      assert.equal(continued.attributes['kiln.request_id'], ids.continued);
    });

    test('a GraphQL request is a server span on /graphql with its statements as children', () => {
      const graphql = serverSpan('graphql');
      assert.equal(graphql.name, 'POST /graphql');
      assert.equal(graphql.attributes['http.route'], '/graphql');
      const select = childrenOf(graphql).find((s) => s.name === 'SELECT');
      assert.ok(select, shown(childrenOf(graphql)));
      assert.match(String(select.attributes['db.query.text']), /"tags"/);
    });

    test('only statements of requests are traced, each under a server span', () => {
      const servers = new Set(receiver.spans.filter((s) => s.kind === SERVER).map((s) => s.spanId));
      for (const span of receiver.spans.filter((s) => s.kind === CLIENT)) assert.ok(servers.has(span.parentSpanId as string), span.name);
    });
  });
}
