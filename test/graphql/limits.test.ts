/**
 * Kiln's GraphQL bounds over HTTP, on the blog: each refusal's exact answer, with no SQL run for it
 * (KILN_LOG_SQL=1 logs every statement under its request id); a document at each bound runs; the
 * settings move the bounds; introspection follows KILN_GRAPHQL_INTROSPECTION=auto (on outside
 * production and under `kiln dev`, off with NODE_ENV=production) while `__typename` always works.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getIntrospectionQuery } from 'graphql';
import type { Settings } from '../../src/config/settings.js';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { type GraphqlAnswer, graphql } from './gql.js';

/** The statements a request ran, once its request line is written (they run before it). */
async function sqlOf(server: TestServer, requestId: string | null): Promise<unknown[]> {
  const done = () => server.logs.some((l) => l.reqId === requestId && l.msg === 'request');
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), `no request line for ${requestId}`);
  return server.logs.filter((l) => l.reqId === requestId && l.msg === 'sql').map((l) => l.sql);
}

/** A refusal: 200 with the one error (graphql-http answers `application/json` so), and not a statement run. */
async function assertRefused(server: TestServer, answer: GraphqlAnswer, code: string, message: string): Promise<void> {
  assert.deepEqual({ status: answer.status, body: answer.body }, { status: 200, body: { errors: [{ message, extensions: { code, status: 400 } }] } });
  assert.deepEqual(await sqlOf(server, answer.requestId), [], 'no SQL runs for a refused document');
}

/** An answer that ran: data, no error, and at least one statement when it reads records. */
async function assertRan(server: TestServer, answer: GraphqlAnswer, readsRecords = true): Promise<void> {
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
  assert.ok(answer.body.data);
  assert.equal((await sqlOf(server, answer.requestId)).length > 0, readsRecords);
}

/** Starts a server with NODE_ENV set as given for the time of its start, when the endpoint reads it. */
async function startWith(backend: (typeof BACKENDS)[number], settings: Partial<Settings>, nodeEnv: string, dev = false): Promise<TestServer> {
  const saved = process.env.NODE_ENV;
  process.env.NODE_ENV = nodeEnv;
  try {
    return await startTestServer(await blogModel(), backend, { logSql: '1', ...settings }, BLOG_SEED_PATH, { dev });
  } finally {
    process.env.NODE_ENV = saved;
  }
}

/** `{ a1: __typename … an: __typename }` */
const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i + 1}: __typename`).join(' ')} }`;
/** n operations, the first named First. */
const operations = (n: number) =>
  Array.from({ length: n }, (_, i) => (i === 0 ? 'query First { posts(limit: 1) { items { id } } }' : `query Q${i} { __typename }`)).join('\n');
/** Ten levels: posts › items › comments › items › author › posts › items › tags › items › name. */
const TEN_DEEP =
  '{ posts(limit: 1) { items { comments(limit: 1) { items { author { posts(limit: 1) { items { tags(limit: 1) { items { name } } } } } } } } } }';
const ELEVEN_DEEP =
  '{ posts(limit: 1) { items { comments(limit: 1) { items { author { posts(limit: 1) { items { tags(limit: 1) { items { posts(limit: 1) { __typename } } } } } } } } } } }';

for (const backend of BACKENDS) {
  describe(`GraphQL bounds at their defaults (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      // Lists up to 5000 records and includes 5 deep, so that a document at the cost and depth bounds also runs.
      server = await startWith(backend, { pageMaxLimit: 5000, includeMaxDepth: 5 }, 'test');
    });
    after(() => server.close());

    test('depth: 10 levels run, 11 are refused before any SQL', async () => {
      await assertRan(server, await graphql(server, TEN_DEEP));
      await assertRefused(server, await graphql(server, ELEVEN_DEEP), 'KILN_GRAPHQL_TOO_DEEP', 'the document nests fields 11 deep; at most 10');
    });

    test('cost: 5000 runs, 5001 is refused, counted with the variables and the schema defaults', async () => {
      // posts 1 + items (1 + limit × id 1)
      const query = 'query ($n: Int) { posts(limit: $n) { items { id } } }';
      await assertRan(server, await graphql(server, query, { n: 4998 }));
      await assertRefused(server, await graphql(server, query, { n: 4999 }), 'KILN_GRAPHQL_TOO_COSTLY', 'the document costs 5001; at most 5000');
      // The defaults: 20 posts, 20 comments each: 1 + 1 + 20 × (comments 1 + items (1 + 20 × 12)) = 4842 (a field
      // written twice counts twice).
      const fields = Array.from({ length: 11 }, () => 'body').join(' ');
      await assertRan(server, await graphql(server, `{ posts { items { comments { items { id ${fields} } } } } }`));
      await assertRefused(
        server,
        await graphql(server, `{ posts { items { comments { items { id ${fields} body } } } } }`),
        'KILN_GRAPHQL_TOO_COSTLY',
        'the document costs 5242; at most 5000',
      );
    });

    test('aliases: 30 run, 31 are refused', async () => {
      await assertRan(server, await graphql(server, aliased(30)), false);
      await assertRefused(server, await graphql(server, aliased(31)), 'KILN_GRAPHQL_TOO_MANY_ALIASES', 'the document has 31 aliased fields; at most 30');
    });

    test('operations: a document of 5 runs the one named, one of 6 is refused', async () => {
      const run = async (n: number) => {
        const res = await server.fetch('/graphql', { method: 'POST', json: { query: operations(n), operationName: 'First' } });
        return { status: res.status, requestId: res.headers.get('x-request-id'), body: await res.json() };
      };
      await assertRan(server, await run(5));
      await assertRefused(
        server,
        await run(6),
        'KILN_GRAPHQL_TOO_MANY_OPERATIONS',
        'the document holds 6 operations; at most 5 (only the one named by operationName runs)',
      );
    });

    test('a client asking for application/graphql-response+json gets the refusal with 400', async () => {
      const res = await server.fetch('/graphql', { method: 'POST', headers: { accept: 'application/graphql-response+json' }, json: { query: aliased(31) } });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('content-type'), 'application/graphql-response+json; charset=utf-8');
      assert.deepEqual(await res.json(), {
        errors: [{ message: 'the document has 31 aliased fields; at most 30', extensions: { code: 'KILN_GRAPHQL_TOO_MANY_ALIASES', status: 400 } }],
      });
    });

    test('GET is held to the same bounds', async () => {
      const res = await server.fetch(`/graphql?query=${encodeURIComponent(ELEVEN_DEEP)}`, { headers: { accept: 'application/json' } });
      await assertRefused(
        server,
        { status: res.status, requestId: res.headers.get('x-request-id'), body: await res.json() },
        'KILN_GRAPHQL_TOO_DEEP',
        'the document nests fields 11 deep; at most 10',
      );
    });

    test('outside production, introspection is on: the whole introspection query of GraphiQL runs', async () => {
      const answer = await graphql(server, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, schemaDescription: true }));
      await assertRan(server, answer, false);
      assert.equal(answer.body.data.__schema.queryType.name, 'Query');
    });
  });

  describe(`GraphQL bounds set by the settings, in production (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startWith(backend, { graphqlMaxDepth: 3, graphqlMaxCost: 30, graphqlMaxAliases: 1, graphqlMaxOperations: 1 }, 'production');
    });
    after(() => server.close());

    test('each bound is the setting', async () => {
      await assertRan(server, await graphql(server, '{ posts(limit: 2) { items { id } } a: __typename }'));
      await assertRefused(
        server,
        await graphql(server, '{ posts(limit: 1) { items { author { id } } } }'),
        'KILN_GRAPHQL_TOO_DEEP',
        'the document nests fields 4 deep; at most 3',
      );
      await assertRefused(
        server,
        await graphql(server, '{ posts(limit: 29) { items { id } } }'),
        'KILN_GRAPHQL_TOO_COSTLY',
        'the document costs 31; at most 30',
      );
      await assertRefused(
        server,
        await graphql(server, '{ a: __typename b: __typename }'),
        'KILN_GRAPHQL_TOO_MANY_ALIASES',
        'the document has 2 aliased fields; at most 1',
      );
      await assertRefused(
        server,
        await graphql(server, 'query A { __typename } query B { __typename }'),
        'KILN_GRAPHQL_TOO_MANY_OPERATIONS',
        'the document holds 2 operations; at most 1 (only the one named by operationName runs)',
      );
    });

    test('the OpenAPI document states the bounds in force', async () => {
      const item = (await (await server.fetch('/openapi.json')).json()).paths['/graphql'];
      assert.deepEqual(item['x-kiln-limits'], { maxDepth: 3, maxCost: 30, maxAliases: 1, maxOperations: 1, introspection: false, trustedDocumentsOnly: false });
      assert.match(item.description, /at most 3 levels of nested fields \(KILN_GRAPHQL_TOO_DEEP\), a cost of at most 30 /);
      assert.equal(item.post, undefined, 'GraphQL operations are described by its schema, not here');
    });

    test('NODE_ENV=production turns introspection off; __typename still works', async () => {
      const answer = await graphql(server, '{ __schema { queryType { name } } }');
      assert.deepEqual(answer.body, {
        errors: [
          {
            message: 'introspection is disabled on this server: "__schema" cannot be queried (get the schema from `kiln graphql`)',
            locations: [{ line: 1, column: 3 }],
            extensions: { code: 'KILN_GRAPHQL_INTROSPECTION_DISABLED', status: 400 },
          },
        ],
      });
      assert.deepEqual(await sqlOf(server, answer.requestId), []);
      const type = await graphql(server, '{ __type(name: "Post") { name } }');
      assert.equal(type.body.errors?.[0]?.extensions.code, 'KILN_GRAPHQL_INTROSPECTION_DISABLED');
      assert.deepEqual((await graphql(server, '{ __typename }')).body, { data: { __typename: 'Query' } });
    });
  });

  describe(`GraphQL introspection under kiln dev, in production (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startWith(backend, {}, 'production', true);
    });
    after(() => server.close());

    test('kiln dev keeps introspection on', async () => {
      assert.deepEqual((await graphql(server, '{ __schema { queryType { name } } }')).body, { data: { __schema: { queryType: { name: 'Query' } } } });
    });
  });
}
