/**
 * Custom routes over HTTP: served below the prefix with the same context (authenticators, request
 * id), the same body parser, request schemas checked with Kiln's 400 answers, KilnErrors answered as
 * problem+json, answers written through the response schema, and the routes in /openapi.json. A
 * route on a generated route's method and path, or written with the prefix, is refused at start.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import { KilnError, registerErrorCode } from '../../src/core/errors.js';
import type { Database } from '../../src/db/database.js';
import { openPglite } from '../../src/db/pglite.js';
import { defineRoute } from '../../src/extensions/define.js';
import { buildApp } from '../../src/http/server.js';
import type { Authenticator } from '../../src/pipeline/authenticate.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { hooksModel } from './hooks-model.js';

const NOT_DRAFT = registerErrorCode('TEST_NOT_CALM', { status: 409, title: 'Note is already loud' });

const shout = defineRoute<{ id: number }, Record<string, never>, { reason: string }>({
  method: 'POST',
  path: '/notes/:id/shout',
  summary: 'Make a note loud',
  description: 'Sets `mood` to loud through the operations; a loud note cannot shout again.',
  params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
  body: { type: 'object', properties: { reason: { type: 'string', minLength: 1, maxLength: 50 } }, required: ['reason'], additionalProperties: false },
  response: { resource: 'notes' },
  errors: ['KILN_NOT_FOUND', NOT_DRAFT],
  async handler({ ctx, params, body, ops }) {
    const note = await ops.get(ctx, 'notes', params.id);
    if (note.mood === 'loud') throw new KilnError(NOT_DRAFT, { detail: `note ${params.id} is already loud` });
    return ops.update(ctx, 'notes', params.id, { mood: 'loud', body: body.reason });
  },
});

const stats = defineRoute<Record<string, string>, { top?: number }>({
  method: 'GET',
  path: '/stats/notes',
  summary: 'Count notes',
  query: { type: 'object', properties: { top: { type: 'integer', minimum: 1, maximum: 10 } }, additionalProperties: false },
  response: { type: 'object', properties: { total: { type: 'integer' }, caller: { type: ['string', 'null'] }, top: { type: 'integer' } }, required: ['total'] },
  async handler({ ctx, query, ops }) {
    const { page } = await ops.list(ctx, 'notes', { count: true, limit: 1 });
    return { total: page.total, caller: ctx.principal.id === null ? null : String(ctx.principal.id), top: query.top ?? 3, internal: 'dropped' };
  },
});

const crash = defineRoute({ method: 'DELETE', path: '/stats/notes', status: 204, handler: () => Promise.reject(new Error('route secret')) });

// Handler bugs: a record route answering nothing, a schema route answering nothing, a code nobody registered.
const noRecord = defineRoute({ method: 'GET', path: '/notes/:id/nothing', response: { resource: 'notes' }, handler: () => undefined as never });
const noValue = defineRoute({ method: 'GET', path: '/stats/nothing', response: { type: 'object' }, handler: () => undefined as never });
const unregistered = defineRoute({
  method: 'GET',
  path: '/stats/unregistered',
  response: { type: 'object' },
  handler: () => {
    throw new KilnError('TEST_NEVER_REGISTERED' as never, { detail: 'a code the app forgot to register' });
  },
});

const bearer: Authenticator = ({ headers }) => (headers.authorization === 'Bearer ada' ? { kind: 'account', id: 'ada', roles: ['authenticated'] } : undefined);

for (const backend of BACKENDS) {
  describe(`custom routes (${backend})`, () => {
    let server: TestServer;
    let noteId: number;

    before(async () => {
      server = await startTestServer(hooksModel, backend, {}, undefined, {
        routes: [shout, stats, crash, noRecord, noValue, unregistered],
        authenticators: [bearer],
      });
      noteId = (await (await server.fetch('/v1/notes', { method: 'POST', json: { title: 'Whisper' } })).json()).data.id;
    });
    after(() => server.close());

    test('a route works through the operations and answers a record like a generated route', async () => {
      const res = await server.fetch(`/v1/notes/${noteId}/shout`, { method: 'POST', json: { reason: 'news' } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('etag') ?? '', /^"/);
      assert.ok(res.headers.get('x-request-id'));
      const { data } = await res.json();
      assert.equal(data.mood, 'loud');
      assert.equal(data.body, 'news');
      assert.equal(data.slug, 'whisper', 'the update ran the resource’s hooks');
    });

    test('a KilnError from the handler is answered as problem+json', async () => {
      const body = await expectProblem(await server.fetch(`/v1/notes/${noteId}/shout`, { method: 'POST', json: { reason: 'again' } }), 409, 'TEST_NOT_CALM');
      assert.equal(body.detail, `note ${noteId} is already loud`);
      await expectProblem(await server.fetch('/v1/notes/999999/shout', { method: 'POST', json: { reason: 'x' } }), 404, 'KILN_NOT_FOUND');
    });

    test('request parts are checked against their schemas, in Kiln’s 400 format', async () => {
      const bad = await expectProblem(await server.fetch(`/v1/notes/${noteId}/shout`, { method: 'POST', json: { why: 1 } }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(bad.errors, [
        { path: '/reason', code: 'required', message: '"reason" is required' },
        { path: '/why', code: 'unknown', message: '"why" is not accepted here' },
      ]);
      await expectProblem(await server.fetch(`/v1/notes/${noteId}/shout`, { method: 'POST' }), 400, 'KILN_BODY_MISSING');
      await expectProblem(
        await server.fetch(`/v1/notes/${noteId}/shout`, { method: 'POST', body: '{"reason":', headers: { 'content-type': 'application/json' } }),
        400,
        'KILN_BODY_MALFORMED',
      );
      const path = await expectProblem(await server.fetch('/v1/notes/abc/shout', { method: 'POST', json: { reason: 'x' } }), 400, 'KILN_PATH_INVALID');
      assert.deepEqual(path.errors, [{ path: 'id', code: 'type', message: 'must be an integer' }]);
      const query = await expectProblem(await server.fetch('/v1/stats/notes?top=99'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(query.errors, [{ path: 'top', code: 'maximum', message: 'must be at most 10' }]);
    });

    test('the handler’s context comes from the authenticators; the answer holds only what the schema declares', async () => {
      const res = await server.fetch('/v1/stats/notes?top=5', { headers: { authorization: 'Bearer ada' } });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.deepEqual(body, { total: 1, caller: 'ada', top: 5 });
      assert.deepEqual((await (await server.fetch('/v1/stats/notes')).json()).caller, null);
    });

    test('anything but a KilnError is 500 KILN_INTERNAL, logged and not leaked', async () => {
      const res = await server.fetch('/v1/stats/notes', { method: 'DELETE' });
      const body = await expectProblem(res, 500, 'KILN_INTERNAL');
      assert.doesNotMatch(JSON.stringify(body), /route secret/);
      assert.ok(server.logs.some((l) => JSON.stringify(l).includes('route secret')));
    });

    test('a handler answering nothing, or throwing a code nobody registered, is a bug of the app: 500 KILN_INTERNAL, logged with the cause', async () => {
      for (const [path, logged] of [
        [`/v1/notes/${noteId}/nothing`, 'the handler of GET /notes/:id/nothing answered undefined, not a notes record'],
        ['/v1/stats/nothing', 'the handler of GET /stats/nothing answered nothing; its response schema needs a value'],
        ['/v1/stats/unregistered', 'unknown error code "TEST_NEVER_REGISTERED"'],
      ] as const) {
        const body = await expectProblem(await server.fetch(path), 500, 'KILN_INTERNAL');
        assert.equal(body.detail, 'an unexpected error occurred; the server log has the cause under this request id');
        const line = server.logs.find((l) => l.reqId === body.instance && l.level === 50) as { err?: { message?: string } } | undefined;
        assert.ok(line?.err?.message?.includes(logged), `the log line of ${path} says: ${logged}`);
      }
    });

    test('routes appear in /openapi.json with their schemas and problem responses', async () => {
      const doc = await (await server.fetch('/openapi.json')).json();
      const op = doc.paths['/v1/notes/{id}/shout'].post;
      assert.equal(op.summary, 'Make a note loud');
      assert.equal(op.operationId, 'postNotesIdShout');
      assert.deepEqual(op.parameters, [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }]);
      assert.deepEqual(op.requestBody.content['application/json'].schema.required, ['reason']);
      assert.deepEqual(op.responses['200'].content['application/json'].schema.properties.data, { $ref: '#/components/schemas/Notes' });
      assert.equal(op.responses['404'].$ref, '#/components/responses/KILN_NOT_FOUND');
      assert.match(op.responses['409'].description, /`TEST_NOT_CALM`: Note is already loud\./);
      assert.equal(op.responses['409'].content['application/problem+json'].schema.$ref, '#/components/schemas/AppProblem');
      assert.ok(op.responses['400'] && op.responses['500']);
      const get = doc.paths['/v1/stats/notes'].get;
      assert.deepEqual(get.parameters, [{ name: 'top', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 10 } }]);
      assert.ok(doc.paths['/v1/stats/notes'].delete.responses['204']);
    });
  });
}

describe('custom routes refused at start', () => {
  const settings = { ...resolveSettings({}), logLevel: 'silent' };
  let db: Database;
  before(async () => {
    db = await openPglite(undefined);
  });
  after(() => db.close());
  const build = async (routes: unknown[]) => {
    try {
      const kiln = await buildApp({ model: hooksModel, settings, db, routes: routes as never });
      await kiln.close({ keepDatabase: true });
      return undefined;
    } catch (error) {
      return error as Error;
    }
  };
  const handler = () => ({});

  test('a route on a generated route’s method and path (parameter names aside)', async () => {
    const error = await build([{ method: 'GET', path: '/notes/:slug', response: { type: 'object' }, handler }]);
    assert.equal(error?.name, 'RouteError');
    assert.equal(
      error?.message,
      'custom routes: there are 1 problem:\n  - routes.0: GET /notes/:slug is already served by the generated route "get" of notes\n    fix: choose another path or method for this route',
    );
  });

  test('two routes on one method and path, and a path written with the prefix', async () => {
    const error = await build([
      { method: 'POST', path: '/notes/:id/x', status: 204, handler },
      { method: 'POST', path: '/notes/:key/x', status: 204, handler },
      { method: 'GET', path: '/v1/stats', response: { type: 'object' }, handler },
    ]);
    assert.match(error?.message ?? '', /routes\.1: POST \/notes\/:key\/x is already served by the route routes\.0/);
    assert.match(
      error?.message ?? '',
      /routes\.2: the path \/v1\/stats starts with the API prefix \/v1\n {4}fix: routes are always served below \/v1: write the path without it \(\/stats\)/,
    );
  });

  test('a route of bad shape, and a schema that is not JSON Schema', async () => {
    const shape = await build([{ method: 'FETCH', path: 'notes', handler: 'nope' }]);
    assert.match(shape?.message ?? '', /routes\.0\.method: "FETCH" is not a route method/);
    assert.match(shape?.message ?? '', /routes\.0\.path: "notes" is not a route path/);
    assert.match(shape?.message ?? '', /routes\.0\.handler: the handler is not a function/);
    const schema = await build([{ method: 'POST', path: '/x', body: { type: 'nonsense' }, status: 204, handler }]);
    assert.match(schema?.message ?? '', /routes\.0\.body: the schema of POST \/x is not valid JSON Schema/);
  });
});
