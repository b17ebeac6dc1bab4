import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Model } from '../../src/model/ir.js';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { documentedOperations, METHODS, matchedRoute, ResponseChecker, registeredRoutes } from './document-tools.js';
import { allTypesModel } from './models.js';

interface Case {
  readonly label: string;
  readonly model: () => Model | Promise<Model>;
  readonly seed?: string;
  /** Creates records through the API (each answer checked against the document), so every GET has data. */
  readonly fill?: (server: TestServer, check: ResponseChecker) => Promise<void>;
}

const UUID = '0d9c1b7e-3a5f-4c2e-8b6d-1f0a9e8d7c6b';
const JWKS = '/.well-known/jwks.json';

/** The documented operations of authentication: below /v1/auth, and the key set. */
const authOperations = (document: unknown) => documentedOperations(document).filter((op) => op.includes(' /v1/auth/') || op.endsWith(` ${JWKS}`));

async function fillAllTypes(server: TestServer, check: ResponseChecker): Promise<void> {
  const post = async (path: string, json: unknown) => {
    const res = await server.fetch(`/v1/${path}`, { method: 'POST', json });
    const body = await check.check('POST', `/v1/${path}`, res);
    assert.equal(res.status, 201, `POST /v1/${path}: ${JSON.stringify(body)}`);
    return body.data;
  };
  const owner = await post('owners', { handle: 'ada' });
  const label = await post('labels', { name: 'first' });
  await post('things', {
    label: 'every field',
    notes: 'n',
    site: 'https://example.com/a',
    mail: 'a@example.com',
    ref: UUID,
    qty: 3,
    big: '9007199254740993',
    price: 12.5,
    ratio: 1.5,
    active: false,
    day: '2026-01-02',
    at: '2026-01-02T03:04:05.678Z',
    kind: 'b',
    meta: { nested: [1, 'two', null] },
    token: UUID,
    secret: 'never shown',
    code: 'abc',
    ownerId: owner.id,
    labels: [label.id],
  });
  await post('things', { label: 'defaults and nulls' });
  const bulk = await server.fetch('/v1/labels/bulk', { method: 'POST', json: [{ name: 'second' }, { name: 'third' }] });
  await check.check('POST', '/v1/labels/bulk', bulk);
}

const CASES: Case[] = [
  { label: 'blog example', model: blogModel, seed: BLOG_SEED_PATH },
  { label: 'uuid ids and every field type', model: allTypesModel, fill: fillAllTypes },
];

for (const backend of BACKENDS) {
  for (const c of CASES) {
    describe(`the document and the server agree: ${c.label} (${backend})`, () => {
      let server: TestServer;
      let model: Model;
      let document: any;
      let check: ResponseChecker;

      before(async () => {
        model = await c.model();
        server = await startTestServer(model, backend, {}, c.seed);
        document = await (await server.fetch('/openapi.json')).json();
        check = new ResponseChecker(document);
        await c.fill?.(server, check);
      });
      after(() => server.close());

      test('the API and probe routes Fastify registered are exactly the documented operations', () => {
        const served = (path = '') => path.startsWith('/v1/') || path === '/healthz' || path === '/readyz' || path === JWKS;
        const registered = registeredRoutes(server.kiln.app).filter((r) => served(r.split(' ')[1]) && !r.startsWith('HEAD '));
        assert.deepEqual(registered.sort(), documentedOperations(document).sort());
        const auth = authOperations(document);
        assert.equal(auth.length > 0, model.auth !== undefined, 'a model with auth serves its routes, one without none');
        assert.equal(registered.length, model.resources.length * 8 + 2 + (model.extensions?.routes.length ?? 0) + auth.length);
      });

      test('the probes and a refused Accept answer as documented', async () => {
        await check.check('GET', '/healthz', await server.fetch('/healthz'));
        await check.check('GET', '/readyz', await server.fetch('/readyz'));
        const base = `/v1/${model.resources[0]?.path}`;
        const refused = await server.fetch(base, { headers: { accept: 'text/html' } });
        assert.equal(refused.status, 406);
        await check.check('GET', base, refused);
      });

      test('each documented operation is served by its own route, each probe outside the document is not', async () => {
        const documented = new Set(documentedOperations(document));
        let served = 0;
        for (const r of model.resources) {
          const base = `/v1/${r.path}`;
          const missingId = r.idType === 'uuid' ? randomUUID() : '987654321';
          for (const template of [base, `${base}/bulk`, `${base}/{id}`, `${base}/events`]) {
            for (const method of METHODS) {
              const requestId = `probe-${randomUUID()}`;
              // An event stream lasts until closed: probed with a parameter it refuses, so it answers at once.
              const query = template.endsWith('/events') ? '?limit=1' : '';
              const res = await server.fetch(template.replace('{id}', missingId) + query, { method, headers: { 'x-request-id': requestId } });
              const route = await matchedRoute(server, requestId);
              const operation = `${method} ${template}`;
              if (documented.has(operation)) {
                assert.equal(route, template, `${operation} is documented but was served by ${route}`);
                await check.check(method, template, res);
                served++;
              } else if (route === null) {
                const body = await res.json();
                assert.ok(
                  (res.status === 404 && body.code === 'KILN_ROUTE_NOT_FOUND') || (res.status === 405 && body.code === 'KILN_METHOD_NOT_ALLOWED'),
                  `${operation}: ${res.status} ${body.code}`,
                );
              } else {
                // GET …/bulk reaches GET …/{id} with the id "bulk": that operation must be documented.
                assert.ok(documented.has(`${method} ${route}`), `${operation} was served by ${method} ${route}, which the document lacks`);
                await check.check(method, route, res);
              }
            }
          }
        }
        // Custom routes (the blog's publish): each is served by its own route and answers as documented.
        for (const custom of model.extensions?.routes ?? []) {
          const template = `/v1${custom.path.replace(/:(\w+)/g, '{$1}')}`;
          const requestId = `custom-${randomUUID()}`;
          const res = await server.fetch(template.replace(/\{\w+\}/g, '987654321'), { method: custom.method, headers: { 'x-request-id': requestId } });
          assert.equal(await matchedRoute(server, requestId), template);
          await check.check(custom.method, template, res);
          served++;
        }
        // The auth routes: each answers a request without credentials or body as its operation documents.
        for (const operation of authOperations(document)) {
          const [method, template] = operation.split(' ') as [string, string];
          const requestId = `auth-${randomUUID()}`;
          const res = await server.fetch(template.replace(/\{\w+\}/g, UUID), { method, headers: { 'x-request-id': requestId } });
          assert.equal(await matchedRoute(server, requestId), template);
          await check.check(method, template, res);
          served++;
        }
        // The two probes are checked in their own test above.
        assert.equal(served + 2, documented.size, 'every documented operation was requested');
        for (const path of ['/v1/nope', `/v1/${model.resources[0]?.path}/1/extra`, `/v2/${model.resources[0]?.path}`]) {
          const requestId = `outside-${randomUUID()}`;
          const res = await server.fetch(path, { headers: { 'x-request-id': requestId } });
          assert.equal(res.status, 404);
          assert.equal((await res.json()).code, 'KILN_ROUTE_NOT_FOUND');
          assert.equal(await matchedRoute(server, requestId), null);
        }
      });

      test('real GET responses validate against the documented schemas', async () => {
        for (const r of model.resources) {
          const base = `/v1/${r.path}`;
          const include = r.relations.map((rel) => rel.name).join(',');
          const queries = ['', '?count=true&limit=1', `?fields=${r.fields.find((f) => !f.hidden && f.role === 'data')?.name ?? 'id'}`];
          if (include) queries.push(`?include=${include}`);
          let first: { id: unknown } | undefined;
          for (const query of queries) {
            const res = await server.fetch(`${base}${query}`);
            assert.equal(res.status, 200, `GET ${base}${query}`);
            const body = await check.check('GET', base, res);
            assert.ok(body.data.length > 0, `GET ${base}${query} returned rows to check`);
            first ??= body.data[0];
          }
          const one = await server.fetch(`${base}/${first?.id}${include ? `?include=${include}` : ''}`);
          assert.equal(one.status, 200);
          await check.check('GET', `${base}/{id}`, one);
          const etag = one.headers.get('etag') ?? '';
          const cached = await server.fetch(`${base}/${first?.id}${include ? `?include=${include}` : ''}`, { headers: { 'if-none-match': etag } });
          assert.equal(cached.status, 304);
          await check.check('GET', `${base}/{id}`, cached);
          const bad = await server.fetch(`${base}?nope=1&limit=0`);
          assert.equal(bad.status, 400);
          const problem = await check.check('GET', base, bad);
          assert.deepEqual(
            problem.errors.map((e: { path: string }) => e.path),
            ['nope', 'limit'],
          );
        }
      });

      test('a body with every field filled validates too, and hidden fields stay out of it', async () => {
        const res = await server.fetch(`/v1/${model.resources[0]?.path}?limit=100`);
        const body = await check.check('GET', `/v1/${model.resources[0]?.path}`, res);
        const hidden = model.resources[0]?.fields.filter((f) => f.hidden).map((f) => f.name) ?? [];
        for (const row of body.data) for (const name of hidden) assert.equal(row[name], undefined);
        if (c.label.startsWith('uuid')) {
          const things = await check.check('GET', '/v1/things', await server.fetch('/v1/things?sort=label&include=owner,labels'));
          assert.deepEqual(
            things.data.map((t: any) => [t.label, t.big, t.price, t.day, t.meta, t.owner?.handle ?? null, t.labels.length]),
            [
              ['defaults and nulls', null, '0.00', null, null, null, 0],
              ['every field', '9007199254740993', '12.50', '2026-01-02', { nested: [1, 'two', null] }, 'ada', 1],
            ],
          );
          assert.equal(things.data[1].secret, undefined);
        }
      });
    });
  }
}
