import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allTypesModel, codes, seedFilterItems } from '../fixtures/all-types.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** [query parameters, codes of the items expected back]. */
type Case = readonly [Record<string, string>, string[]];

const ALL = ['A-1', 'B-2', 'C-3', 'D-4', 'E-5', 'F-6'];

const INTEGER_CASES: Case[] = [
  [{ qty: '10' }, ['C-3']],
  [{ 'qty[ne]': '5' }, ['A-1', 'C-3', 'D-4', 'E-5', 'F-6']],
  [{ 'qty[gt]': '1' }, ['B-2', 'C-3', 'F-6']],
  [{ 'qty[gte]': '1' }, ['A-1', 'B-2', 'C-3', 'F-6']],
  [{ 'qty[lt]': '0' }, ['D-4']],
  [{ 'qty[lte]': '0' }, ['D-4', 'E-5']],
  [{ 'qty[in]': '1,10,-7' }, ['A-1', 'C-3', 'D-4']],
  [{ 'qty[notIn]': '1,10' }, ['B-2', 'D-4', 'E-5', 'F-6']],
  [{ 'qty[gte]': '-7', 'qty[lt]': '3' }, ['A-1', 'D-4', 'E-5']],
  [{ 'qty[isNull]': 'false' }, ALL],
  [{ rank: '10' }, ['A-1', 'C-3']],
  [{ 'rank[gt]': '2' }, ['A-1', 'C-3', 'D-4']],
  [{ 'rank[ne]': '10' }, ['B-2', 'D-4', 'E-5', 'F-6']],
  [{ 'rank[notIn]': '10,3' }, ['B-2', 'E-5', 'F-6']],
  [{ 'rank[isNull]': 'true' }, ['B-2', 'E-5']],
  [{ 'rank[isNull]': 'false' }, ['A-1', 'C-3', 'D-4', 'F-6']],
];

const EXACT_NUMBER_CASES: Case[] = [
  // bigint compares exactly beyond 2^53 (9007199254740992).
  [{ big: '9007199254740993' }, ['A-1']],
  [{ 'big[gt]': '9007199254740992' }, ['A-1', 'E-5']],
  [{ 'big[lt]': '0' }, ['B-2', 'F-6']],
  [{ big: '-9223372036854775808' }, ['F-6']],
  [{ 'big[gte]': '9223372036854775807' }, ['E-5']],
  [{ 'big[in]': '0,123' }, ['C-3', 'D-4']],
  // decimal compares by value: 10.5 equals 10.50.
  [{ price: '10.5' }, ['A-1']],
  [{ 'price[gte]': '10.5' }, ['A-1', 'C-3', 'F-6']],
  [{ 'price[lt]': '0' }, ['D-4']],
  [{ 'price[lte]': '0.99' }, ['B-2', 'D-4', 'E-5']],
  [{ 'price[in]': '0,12.340' }, ['E-5', 'F-6']],
  [{ 'price[gt]': '99999999.98' }, ['C-3']],
  [{ ratio: '1.25' }, ['B-2']],
  [{ ratio: '1e-7' }, ['E-5']],
  [{ 'ratio[gt]': '0' }, ['A-1', 'B-2', 'E-5', 'F-6']],
  [{ 'ratio[lte]': '0.5' }, ['A-1', 'C-3', 'D-4', 'E-5']],
  [{ 'ratio[in]': '0.5,100,-3.5' }, ['A-1', 'C-3', 'F-6']],
  [{ 'ratio[ne]': '0' }, ['A-1', 'B-2', 'C-3', 'E-5', 'F-6']],
];

const BOOLEAN_DATE_CASES: Case[] = [
  [{ active: 'true' }, ['A-1', 'C-3', 'E-5']],
  [{ 'active[eq]': 'false' }, ['B-2', 'D-4', 'F-6']],
  [{ 'active[ne]': 'true' }, ['B-2', 'D-4', 'F-6']],
  [{ 'active[isNull]': 'true' }, []],
  [{ day: '2024-01-15' }, ['A-1', 'E-5']],
  [{ 'day[gte]': '2024-02-29' }, ['B-2', 'D-4', 'F-6']],
  [{ 'day[lt]': '2024-01-01' }, ['C-3']],
  [{ 'day[in]': '2023-12-31,2025-06-30' }, ['C-3', 'F-6']],
  [{ 'day[ne]': '2024-01-15' }, ['B-2', 'C-3', 'D-4', 'F-6']],
  [{ at: '2024-01-15T10:00:00.000Z' }, ['A-1']],
  [{ at: '2024-01-15T10:00:00Z' }, ['A-1']],
  // Millisecond precision is kept: E is one millisecond after A.
  [{ 'at[gt]': '2024-01-15T10:00:00Z' }, ['B-2', 'D-4', 'E-5', 'F-6']],
  [{ 'at[lt]': '2024-01-15T12:00:00+02:00' }, ['C-3']],
  [{ 'at[lte]': '2024-01-15T12:00:00+02:00' }, ['A-1', 'C-3']],
  [{ 'at[gte]': '2024-03-01' }, ['D-4', 'F-6']],
  [{ 'at[in]': '2023-12-31T00:00:00Z,2025-06-30T00:00:00.000Z' }, ['C-3', 'F-6']],
];

for (const backend of BACKENDS) {
  describe(`number, boolean and date filters (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(allTypesModel(), backend);
      await seedFilterItems(server);
    });
    after(() => server.close());

    const run = (cases: Case[]) => async () => {
      for (const [params, expected] of cases) assert.deepEqual(await codes(server, q(params)), expected, q(params));
    };

    test('integer and nullable integer: every operator', run(INTEGER_CASES));
    test('bigint, decimal(10,2) and float: exact comparisons', run(EXACT_NUMBER_CASES));
    test('boolean, date and datetime', run(BOOLEAN_DATE_CASES));

    test('values come back in their declared JSON types', async () => {
      const res = await server.fetch(`/v1/items?code=A-1`);
      const [item] = (await res.json()).data;
      assert.deepEqual(
        { ...item, id: typeof item.id, ownerId: typeof item.ownerId, createdAt: typeof item.createdAt, updatedAt: typeof item.updatedAt },
        {
          id: 'number',
          code: 'A-1',
          label: 'Alpha 100%',
          email: 'ada@example.com',
          website: 'https://example.com/a',
          ref: 'abcdef00-0000-4000-a000-000000000901',
          notes: 'first note',
          qty: 1,
          rank: 10,
          big: '9007199254740993',
          price: '10.50',
          ratio: 0.5,
          active: true,
          day: '2024-01-15',
          at: '2024-01-15T10:00:00.000Z',
          kind: 'alpha',
          meta: { a: 1 },
          token: 'abcdef00-0000-4000-a000-000000000001',
          ownerId: 'number',
          createdAt: 'string',
          updatedAt: 'string',
        },
      );
    });
  });
}
