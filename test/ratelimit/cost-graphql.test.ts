/**
 * Cost-aware limits (KILN_RATE_LIMIT_COST_ROWS): a call weighs ⌈rows ÷ unit⌉ × (1 + included
 * relations); and GraphQL shares the limits of REST, a refused root field being its own error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { createContext } from '../../src/pipeline/context.js';
import type { RateLimitCall } from '../../src/pipeline/rate-limit.js';
import { costOf } from '../../src/ratelimit/cost.js';
import { BACKENDS, DEFAULT_RATE_LIMIT, startTestServer, type TestServer } from '../helpers/server.js';
import { assertState, expectLimited } from './helpers.js';
import { notesModel } from './models.js';

const booksModel = () =>
  compileOrThrow('cost test model', {
    resources: {
      authors: { fields: { name: { type: 'string', maxLength: 50 } } },
      books: { fields: { title: { type: 'string', maxLength: 50 }, author: { type: 'belongsTo', target: 'authors', nullable: true } } },
    },
  });

describe('the weight of a call', () => {
  const limits = {
    pageDefaultLimit: 20,
    pageMaxLimit: 100,
    bulkMaxItems: 50,
    includeMaxDepth: 3,
    includeLimit: 20,
    includeMaxRows: 10000,
    textMaxLength: 1000,
  };
  const call = (operation: RateLimitCall['operation'], extra: Partial<RateLimitCall> = {}): RateLimitCall => ({
    ctx: createContext({ limits }),
    operation,
    resource: 'books',
    ...extra,
  });

  test('is 1 whatever the call without a unit', () => {
    assert.equal(costOf(call('list', { args: { limit: 100, include: [{ relation: 'author' }] } }), 0, 1000), 1);
  });

  test('⌈rows ÷ unit⌉ × (1 + included relations at any depth)', () => {
    assert.equal(costOf(call('list'), 10, 1000), 2, 'the default page: 20 rows');
    assert.equal(costOf(call('list', { args: { limit: 100 } }), 10, 1000), 10);
    assert.equal(costOf(call('list', { args: { limit: 5000 } }), 10, 1000), 10, 'never above the largest page');
    assert.equal(costOf(call('list', { args: { limit: Number.NaN } }), 10, 1000), 2, 'a malformed limit weighs as the default page');
    assert.equal(costOf(call('list', { args: { limit: 11, include: [{ relation: 'a', include: [{ relation: 'b' }] }, { relation: 'c' }] } }), 10, 1000), 8);
    assert.equal(costOf(call('get', { args: { include: [{ relation: 'author' }] } }), 10, 1000), 2);
    assert.equal(costOf(call('createMany', { items: 25 }), 10, 1000), 3);
    assert.equal(costOf(call('createMany', { items: 5000 }), 10, 1000), 5, 'never above the largest bulk');
    assert.equal(costOf(call('update'), 10, 1000), 1);
  });

  test("never more than the policy's whole budget", () => {
    assert.equal(costOf(call('list', { args: { limit: 100 } }), 1, 30), 30);
  });
});

describe('cost-aware limits over HTTP', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(booksModel(), BACKENDS[0] ?? 'pglite', { rateLimit: '12/min', rateLimitCostRows: 10 });
  });
  after(() => server.close());

  test('a large page with an include counts for more than a small read', async () => {
    const author = await server.fetch('/v1/authors', { method: 'POST', json: { name: 'Ann' } });
    assert.equal(author.status, 201);
    assertState(author, 'default', 11, 60);
    const bulk = await server.fetch('/v1/books/bulk', { method: 'POST', json: Array.from({ length: 15 }, (_, i) => ({ title: `b${i}` })) });
    assert.equal(bulk.status, 201);
    assertState(bulk, 'default', 9, 60);
    const page = await server.fetch('/v1/books?limit=30&include=author');
    assert.equal(page.status, 200, await page.text());
    assertState(page, 'default', 3, 60);
    const one = await server.fetch('/v1/books/1');
    assertState(one, 'default', 2, 60);
    // A page of 30 weighs 3: more than is left.
    await expectLimited(await server.fetch('/v1/books?limit=30'), 'default', '12 per 60 seconds', '"default";q=12;w=60');
  });
});

describe('GraphQL shares the limits of REST', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(notesModel({ default: '3/min' }), BACKENDS[0] ?? 'pglite', { graphql: true, rateLimit: DEFAULT_RATE_LIMIT });
  });
  after(() => server.close());

  test('a root field past the limit is a KILN_RATE_LIMITED error of its own; the others answer', async () => {
    assert.equal((await server.fetch('/v1/notes')).status, 200, 'REST spends one of the three');
    const res = await server.fetch('/graphql', {
      method: 'POST',
      json: { query: '{ a: notes { items { id } } b: notes { items { id } } c: notes { items { id } } }' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('ratelimit-policy'), '"notes";q=3;w=60');
    assertState(res, 'notes', 0, 60);
    const retryAfter = res.headers.get('retry-after');
    assert.match(retryAfter ?? '', /^\d+$/);
    assert.deepEqual(await res.json(), {
      data: { a: { items: [] }, b: { items: [] }, c: null },
      errors: [
        {
          message: `the rate limit "notes" (3 per 60 seconds per caller) is used up; retry in ${retryAfter} seconds`,
          locations: [{ line: 1, column: 55 }],
          path: ['c'],
          extensions: { code: 'KILN_RATE_LIMITED', status: 429 },
        },
      ],
    });
    await expectLimited(await server.fetch('/v1/notes'), 'notes', '3 per 60 seconds', '"notes";q=3;w=60');
  });

  test('one answer lists every policy its root fields were counted by', async () => {
    const res = await server.fetch('/graphql', { method: 'POST', json: { query: '{ tags { items { id } } notes { items { id } } }' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('ratelimit-policy'), '"default";q=1000;w=60, "notes";q=3;w=60');
    assert.match(res.headers.get('ratelimit') ?? '', /^"default";r=999;t=\d+, "notes";r=0;t=\d+$/);
    const body = await res.json();
    assert.deepEqual(body.data, { tags: { items: [] }, notes: null });
    assert.equal(body.errors[0].extensions.code, 'KILN_RATE_LIMITED');
  });
});
