import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GraphQLError } from 'graphql';
import { resolveSettings } from '../../src/config/settings.js';
import { executionErrors, formatError } from '../../src/graphql/errors.js';
import { createContext } from '../../src/pipeline/context.js';
import { hooksModel } from '../e2e/hooks-model.js';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { graphql } from './gql.js';

const at = (line: number, column: number) => [{ line, column }];

for (const backend of BACKENDS) {
  describe(`GraphQL errors (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend, {}, BLOG_SEED_PATH);
    });
    after(() => server.close());

    test('a filter value of the wrong kind: REST message, the argument path named', async () => {
      const answer = await graphql(server, '{ posts(filter: { createdAt: { gt: "yesterday" } }) { items { id } } }');
      const message = 'expected an ISO 8601 date-time, got "yesterday"';
      assert.deepEqual(answer.body, {
        errors: [
          {
            message: `filter.createdAt.gt: ${message}`,
            locations: at(1, 3),
            path: ['posts'],
            extensions: { code: 'KILN_QUERY_INVALID', status: 400, errors: [{ path: 'filter.createdAt.gt', code: 'value', message }] },
          },
        ],
        data: { posts: null },
      });
    });

    test('a cursor that is not one REST gave: as REST answers it', async () => {
      const answer = await graphql(server, '{ posts(after: "nonsense") { items { id } } }');
      const problem = await (await server.fetch('/v1/posts?cursor=nonsense')).json();
      assert.equal(problem.code, 'KILN_CURSOR_INVALID');
      assert.deepEqual(answer.body, {
        errors: [
          {
            message: problem.detail,
            locations: at(1, 3),
            path: ['posts'],
            extensions: { code: 'KILN_CURSOR_INVALID', status: 400, ...(problem.errors && { errors: problem.errors }) },
          },
        ],
        data: { posts: null },
      });
    });

    test('a limit over the maximum, top-level and nested', async () => {
      const answer = await graphql(server, '{ posts(limit: 101) { items { id } } user(id: 1) { posts(limit: 0) { items { id } } } }');
      const message = 'limit must be a whole number from 1 to 100';
      assert.deepEqual(answer.body, {
        errors: [
          {
            message: `limit: ${message}`,
            locations: at(1, 3),
            path: ['posts'],
            extensions: { code: 'KILN_QUERY_INVALID', status: 400, errors: [{ path: 'limit', code: 'range', message }] },
          },
          {
            message: `include: ${message}`,
            locations: at(1, 38),
            path: ['user'],
            extensions: { code: 'KILN_QUERY_INVALID', status: 400, errors: [{ path: 'include', code: 'range', message }] },
          },
        ],
        data: { posts: null, user: null },
      });
    });

    test('an unknown id: null when read, KILN_NOT_FOUND when written, as REST', async () => {
      const read = await graphql(server, '{ post(id: 424242) { id } }');
      assert.deepEqual(read.body, { data: { post: null } });
      const problem = await (await server.fetch('/v1/posts/424242', { method: 'PATCH', json: { title: 'x' } })).json();
      const write = await graphql(server, 'mutation { updatePost(id: 424242, input: { title: "x" }) { id } }');
      assert.deepEqual(write.body, {
        errors: [{ message: problem.detail, locations: at(1, 12), path: ['updatePost'], extensions: { code: 'KILN_NOT_FOUND', status: 404 } }],
        data: { updatePost: null },
      });
      const malformed = await graphql(server, '{ post(id: "abc") { id } }');
      assert.deepEqual(malformed.body, {
        errors: [
          {
            message: '"abc" is not a valid post id: expected a positive integer',
            locations: at(1, 3),
            path: ['post'],
            extensions: { code: 'KILN_PATH_INVALID', status: 400, errors: [{ path: 'id', code: 'type', message: 'expected a positive integer' }] },
          },
        ],
        data: { post: null },
      });
    });

    test('the same relation twice under one parent with different arguments', async () => {
      const answer = await graphql(server, '{ post(id: 2) { a: comments(limit: 1) { items { id } } b: comments(limit: 2) { items { id } } } }');
      const message = '"comments" is selected more than once under one post with different arguments; select it once, or give every alias the same arguments';
      assert.deepEqual(answer.body, {
        errors: [
          {
            message: `comments: ${message}`,
            locations: at(1, 3),
            path: ['post'],
            extensions: { code: 'KILN_QUERY_INVALID', status: 400, errors: [{ path: 'comments', code: 'conflict', message }] },
          },
        ],
        data: { post: null },
      });
    });

    test('a document that does not parse, or does not fit the schema: KILN_GRAPHQL_INVALID, nothing run', async () => {
      const syntax = await graphql(server, '{ posts(');
      assert.deepEqual(syntax.body, {
        errors: [{ message: 'Syntax Error: Expected Name, found <EOF>.', locations: at(1, 9), extensions: { code: 'KILN_GRAPHQL_INVALID', status: 400 } }],
      });
      const unknown = await graphql(server, '{ posts { items { nope } } }');
      assert.deepEqual(unknown.body, {
        errors: [{ message: 'Cannot query field "nope" on type "Post".', locations: at(1, 19), extensions: { code: 'KILN_GRAPHQL_INVALID', status: 400 } }],
      });
      const variable = await graphql(server, 'query ($id: ID!) { post(id: $id) { id } }', { id: { no: 1 } });
      assert.equal(variable.body.data, undefined);
      assert.deepEqual(
        variable.body.errors.map((e: { extensions: unknown }) => e.extensions),
        [{ code: 'KILN_GRAPHQL_INVALID', status: 400 }],
      );
    });

    test('partial data: one failing root field leaves the others', async () => {
      const answer = await graphql(server, '{ ok: post(id: 1) { id } bad: posts(limit: 0) { items { id } } }');
      assert.deepEqual(answer.body.data, { ok: { id: '1' }, bad: null });
      assert.equal(answer.body.errors.length, 1);
      assert.deepEqual(answer.body.errors[0].path, ['bad']);
    });
  });

  describe(`GraphQL internal errors (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(hooksModel, backend);
    });
    after(() => server.close());

    test("a hook throwing a plain Error: REST's KILN_INTERNAL answer, the cause only in the log under the request id", async () => {
      const answer = await graphql(server, 'mutation { createNote(input: { title: "crash" }) { id } }');
      assert.deepEqual(answer.body, {
        errors: [
          {
            message: 'an unexpected error occurred; the server log has the cause under this request id',
            locations: at(1, 12),
            path: ['createNote'],
            extensions: { code: 'KILN_INTERNAL', status: 500 },
          },
        ],
        data: { createNote: null },
      });
      assert.ok(!JSON.stringify(answer.body).includes('secret'));
      const logged = server.logs.find((l) => l.reqId === answer.requestId && l.msg === 'GraphQL field failed');
      assert.ok(logged, JSON.stringify(server.logs.slice(-3)));
      assert.match(JSON.stringify(logged.err), /secret internal failure/);
      assert.equal(logged.path, 'createNote');
    });

    test('a KilnError a hook throws keeps its registered code and status', async () => {
      const answer = await graphql(server, 'mutation { createNote(input: { title: "refuse" }) { id } }');
      assert.deepEqual(answer.body.errors[0].extensions, { code: 'TEST_TITLE_TAKEN', status: 409 });
      assert.equal(answer.body.errors[0].message, 'the title "refuse" is taken');
    });
  });
}

describe('GraphQL errors that are not KilnErrors', () => {
  test('"Internal server error" (KILN_INTERNAL) to the client, the cause to the request\'s log', () => {
    const logged: { object: object; message?: string }[] = [];
    const log = { error: (object: object, message?: string) => logged.push({ object, message }), warn() {}, info() {}, debug() {} };
    const ctx = createContext({ limits: resolveSettings({}), requestId: 'req-1', log });
    const thrown = new GraphQLError('password=hunter2 in a driver message', { path: ['posts', 0, 'title'], originalError: new Error('password=hunter2') });
    const [mapped] = executionErrors([thrown], ctx);
    assert.deepEqual(mapped?.toJSON(), { message: 'Internal server error', path: ['posts', 0, 'title'], extensions: { code: 'KILN_INTERNAL', status: 500 } });
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.message, 'GraphQL field failed');
    assert.match(String((logged[0]?.object as { err?: Error } | undefined)?.err?.message), /hunter2/);
  });

  test('errors graphql-http answers before running anything are KILN_GRAPHQL_INVALID', () => {
    assert.deepEqual(formatError(new Error('Missing query')).toJSON(), { message: 'Missing query', extensions: { code: 'KILN_GRAPHQL_INVALID', status: 400 } });
  });
});
