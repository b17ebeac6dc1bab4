import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allTypesModel, seedPagingItems } from '../fixtures/all-types.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

type Row = Record<string, unknown>;

const ROWS = 25;
/** Sorts with descending keys, NULLs (rank, ownerId) and ties (createdAt per batch of 10, qty, kind, active…). */
const SORTS = ['rank', '-rank', '-qty,label', 'kind,-rank', '-createdAt', 'price,-ratio', '-at', 'day,-big', 'active,-rank,qty', '-ownerId', '-id', 'token'];

/** JavaScript order of two values of a field, NULLs last whatever the direction (as the API documents). */
function compareField(name: string, a: unknown, b: unknown, descending: boolean): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  let order: number;
  if (name === 'big') order = BigInt(a as string) < BigInt(b as string) ? -1 : 1;
  else if (name === 'price') order = Number(a) - Number(b);
  else if (typeof a === 'number' || typeof a === 'boolean') order = Number(a) - Number(b);
  else order = String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  return descending ? -order : order;
}

function sortedLike(rows: Row[], sort: string): Row[] {
  const keys = [...sort.split(','), 'id'].map((k) => ({ name: k.replace(/^-/, ''), descending: k.startsWith('-') }));
  return [...rows].sort((x, y) => {
    for (const { name, descending } of keys) {
      const c = compareField(name, x[name], y[name], descending);
      if (c !== 0) return c;
    }
    return 0;
  });
}

async function page(server: TestServer, query: string): Promise<{ data: Row[]; page: Row }> {
  const res = await server.fetch(`/v1/items?${query}`);
  const text = await res.text();
  assert.equal(res.status, 200, `${query}: ${text}`);
  return JSON.parse(text);
}

/** Follows nextCursor from the first page to the last; returns the ids in the order received. */
async function walk(server: TestServer, query: string, limit: number): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const body = await page(server, `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    ids.push(...body.data.map((r) => r.id as number));
    cursor = body.page.nextCursor as string | null;
    assert.equal(body.page.hasMore, cursor !== null);
    assert.equal(body.page.limit, limit);
    if (cursor === null) {
      assert.ok(body.data.length <= limit);
      return ids;
    }
    assert.equal(body.data.length, limit, 'every page but the last is full');
  }
  throw new Error(`${query}: more than 100 pages`);
}

for (const backend of BACKENDS) {
  describe(`keyset pagination (${backend})`, () => {
    let server: TestServer;
    let created: Row[];

    before(async () => {
      server = await startTestServer(allTypesModel(), backend, { pageDefaultLimit: 4, pageMaxLimit: 50 });
      created = await seedPagingItems(server, ROWS);
      assert.equal(created.length, ROWS);
    });
    after(() => server.close());

    test('the full list is in the documented order for every sort', async () => {
      for (const sort of SORTS) {
        const { data } = await page(server, `sort=${sort}&limit=50`);
        assert.equal(data.length, ROWS);
        assert.deepEqual(
          data.map((r) => r.id),
          sortedLike(data, sort).map((r) => r.id),
          sort,
        );
      }
    });

    test('walking pages of 3 gives the full list, with no row skipped or repeated', async () => {
      for (const sort of SORTS) {
        const { data } = await page(server, `sort=${sort}&limit=50`);
        const walked = await walk(server, `sort=${sort}`, 3);
        assert.deepEqual(
          walked,
          data.map((r) => r.id),
          sort,
        );
      }
    });

    test('walking with limits 1 and 7, and with filters (through a relation too)', async () => {
      const all = (await page(server, 'sort=-rank,label&limit=50')).data.map((r) => r.id);
      assert.deepEqual(await walk(server, 'sort=-rank,label', 1), all);
      assert.deepEqual(await walk(server, 'sort=-rank,label', 7), all);
      for (const query of [
        'kind=beta&sort=-rank',
        'owner.name=One&sort=rank,-createdAt',
        'rank[isNull]=true&sort=-qty',
        'ownerId[isNull]=true&sort=-ownerId',
      ]) {
        const { data } = await page(server, `${query}&limit=50`);
        assert.ok(data.length > 3, query);
        assert.deepEqual(
          await walk(server, query, 3),
          data.map((r) => r.id),
          query,
        );
      }
    });

    test('count=true gives the filtered total on every page', async () => {
      const first = await page(server, 'kind=beta&count=true&limit=3');
      assert.deepEqual({ ...first.page, nextCursor: typeof first.page.nextCursor }, { limit: 3, hasMore: true, nextCursor: 'string', total: 8 });
      const second = await page(server, `kind=beta&count=true&limit=3&cursor=${first.page.nextCursor}`);
      assert.equal(second.page.total, 8);
      assert.equal((await page(server, 'count=true')).page.total, ROWS);
      assert.equal((await page(server, 'owner.name=Two&count=true&limit=1')).page.total, 8);
      assert.equal((await page(server, 'count=false')).page.total, undefined);
    });

    test('limit defaults to pageDefaultLimit and is capped by pageMaxLimit', async () => {
      const byDefault = await page(server, '');
      assert.equal(byDefault.data.length, 4);
      assert.deepEqual(byDefault.page.limit, 4);
      assert.equal((await page(server, 'limit=50')).data.length, ROWS);
      for (const limit of ['0', '51', '-1', 'abc', '1.5', '1e1', '', ' 3', '0x10', '99999999']) {
        const problem = await expectProblem(await server.fetch(`/v1/items?limit=${encodeURIComponent(limit)}`), 400, 'KILN_QUERY_INVALID');
        assert.deepEqual(problem.errors, [{ path: 'limit', code: 'range', message: 'limit must be a whole number from 1 to 50' }], limit);
      }
    });

    test('a tampered, garbage or foreign cursor is refused', async () => {
      const first = await page(server, 'sort=-rank&limit=3');
      const cursor = first.page.nextCursor as string;
      const [keyId, payload, signature] = cursor.split('.') as [string, string, string];
      const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...decoded, v: [0, 0] })).toString('base64url');
      const flip = (s: string) => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');
      const bad = [
        `${keyId}.${forged}.${signature}`,
        `${keyId}.${payload}.${flip(signature)}`,
        `${keyId}.${flip(payload)}.${signature}`,
        `${flip(keyId)}.${payload}.${signature}`,
        `${payload}.${signature}`,
        payload,
        `${cursor}.x`,
        'abc',
        '',
        '.',
        'a.b',
        'a.b.c',
        'x'.repeat(4000),
      ];
      for (const value of bad) {
        const problem = await expectProblem(await server.fetch(`/v1/items?sort=-rank&limit=3&cursor=${encodeURIComponent(value)}`), 400, 'KILN_CURSOR_INVALID');
        assert.deepEqual(
          problem.errors?.map((e) => [e.path, e.code]),
          [['cursor', 'invalid']],
          value.slice(0, 50),
        );
      }
    });

    test('a cursor works only with the sort it was issued for', async () => {
      const cursor = (await page(server, 'sort=-rank&limit=3')).page.nextCursor as string;
      for (const sort of ['rank', '-rank,label', '', '-id', 'rank,id']) {
        const problem = await expectProblem(await server.fetch(`/v1/items?sort=${sort}&cursor=${encodeURIComponent(cursor)}`), 400, 'KILN_CURSOR_INVALID');
        assert.match(problem.detail as string, /another sort order/, sort);
      }
      // The limit and the filters may change between pages.
      assert.equal((await page(server, `sort=-rank&limit=5&cursor=${encodeURIComponent(cursor)}`)).data.length, 5);
      assert.equal((await page(server, `sort=-rank&kind=alpha&cursor=${encodeURIComponent(cursor)}`)).page.limit, 4);
    });

    test('a cursor works only on the resource it was issued for', async () => {
      const cursor = (await page(server, 'limit=1')).page.nextCursor as string;
      const problem = await expectProblem(await server.fetch(`/v1/owners?cursor=${encodeURIComponent(cursor)}`), 400, 'KILN_CURSOR_INVALID');
      assert.match(problem.detail as string, /another sort order or resource/);
    });

    test('a cursor from another server (other signing key) is refused', async () => {
      const other = await startTestServer(allTypesModel(), backend, { cursorSecret: 'another-secret' });
      try {
        await seedPagingItems(other, 5);
        const foreign = (await (await other.fetch('/v1/items?limit=2')).json()).page.nextCursor;
        await expectProblem(await server.fetch(`/v1/items?limit=2&cursor=${encodeURIComponent(foreign)}`), 400, 'KILN_CURSOR_INVALID');
      } finally {
        await other.close();
      }
    });
  });
}
