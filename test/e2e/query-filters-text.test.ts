import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allTypesModel, codes, type Seeded, seedFilterItems, uuid } from '../fixtures/all-types.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** [query parameters, codes of the items expected back]. */
type Case = readonly [Record<string, string>, string[]];

const STRING_CASES: Case[] = [
  [{ label: 'Gamma plain' }, ['D-4']],
  [{ 'label[eq]': 'gamma plain' }, []],
  [{ 'label[ne]': 'Gamma plain' }, ['A-1', 'B-2', 'C-3', 'E-5', 'F-6']],
  [{ 'label[ieq]': 'GAMMA PLAIN' }, ['D-4']],
  [{ 'label[in]': 'Gamma plain,beta_under,nope' }, ['B-2', 'D-4']],
  [{ 'label[notIn]': 'Gamma plain,beta_under' }, ['A-1', 'C-3', 'E-5', 'F-6']],
  [{ 'label[contains]': 'under' }, ['B-2', 'C-3']],
  [{ 'label[contains]': 'UNDER' }, []],
  [{ 'label[icontains]': 'UNDER' }, ['B-2', 'C-3']],
  [{ 'label[startsWith]': 'alpha' }, ['F-6']],
  [{ 'label[startsWith]': 'Alpha' }, ['A-1']],
  [{ 'label[istartsWith]': 'ALPHA' }, ['A-1', 'F-6']],
  [{ 'label[endsWith]': 'Soup' }, ['F-6']],
  [{ 'label[endsWith]': 'soup' }, []],
  [{ 'label[iendsWith]': 'SOUP' }, ['F-6']],
  [{ 'code[gt]': 'C-3' }, ['D-4', 'E-5', 'F-6']],
  [{ 'code[gte]': 'C-3' }, ['C-3', 'D-4', 'E-5', 'F-6']],
  [{ 'code[lt]': 'C-3' }, ['A-1', 'B-2']],
  [{ 'code[lte]': 'C-3' }, ['A-1', 'B-2', 'C-3']],
];

const NULLABLE_TEXT_CASES: Case[] = [
  [{ 'email[ieq]': 'ada@example.com' }, ['A-1', 'D-4']],
  [{ 'email[iendsWith]': 'EXAMPLE.COM' }, ['A-1', 'D-4', 'F-6']],
  [{ 'email[isNull]': 'true' }, ['B-2', 'E-5']],
  [{ 'email[isNull]': 'false' }, ['A-1', 'C-3', 'D-4', 'F-6']],
  // ne and notIn keep rows whose value is NULL: NULL is "not equal" to any given value.
  [{ 'email[ne]': 'c@example.org' }, ['A-1', 'B-2', 'D-4', 'E-5', 'F-6']],
  [{ 'email[notIn]': 'c@example.org,f@example.com' }, ['A-1', 'B-2', 'D-4', 'E-5']],
  [{ 'notes[icontains]': 'note' }, ['A-1', 'C-3']],
  [{ 'notes[contains]': "'quoted'" }, ['D-4']],
  [{ 'website[startsWith]': 'https://example.com/' }, ['A-1']],
  [{ 'ref[isNull]': 'false' }, ['A-1']],
];

const LIKE_CASES: Case[] = [
  // A `%` or `_` in a value matches that character only, never "anything".
  [{ 'label[contains]': '0%' }, ['A-1']],
  [{ 'label[endsWith]': '%' }, ['A-1']],
  [{ 'label[contains]': '%' }, ['A-1']],
  [{ 'label[contains]': 'a_u' }, ['B-2']],
  [{ 'label[icontains]': 'A_U' }, ['B-2']],
  [{ 'label[startsWith]': 'beta_' }, ['B-2']],
  [{ 'label[istartsWith]': '_' }, []],
  [{ 'label[iendsWith]': '_UNDER' }, ['B-2']],
  [{ 'label[contains]': '\\' }, []],
  [{ 'label[contains]': '%%' }, []],
];

const ENUM_UUID_CASES: Case[] = [
  [{ kind: 'alpha' }, ['A-1', 'D-4']],
  [{ 'kind[ne]': 'alpha' }, ['B-2', 'C-3', 'E-5', 'F-6']],
  [{ 'kind[in]': 'beta,gamma' }, ['B-2', 'C-3', 'E-5', 'F-6']],
  [{ 'kind[notIn]': 'beta' }, ['A-1', 'C-3', 'D-4', 'F-6']],
  [{ token: uuid(3) }, ['C-3']],
  [{ token: uuid(4) }, ['D-4']],
  [{ 'token[in]': `${uuid(1)},${uuid(6)}` }, ['A-1', 'F-6']],
  [{ 'token[ne]': uuid(1) }, ['B-2', 'C-3', 'D-4', 'E-5', 'F-6']],
  [{ 'meta[isNull]': 'true' }, ['B-2', 'E-5']],
  [{ 'meta[isNull]': 'false' }, ['A-1', 'C-3', 'D-4', 'F-6']],
];

for (const backend of BACKENDS) {
  describe(`text, enum and uuid filters (${backend})`, () => {
    let server: TestServer;
    let seeded: Seeded;

    before(async () => {
      server = await startTestServer(allTypesModel(), backend);
      seeded = await seedFilterItems(server);
    });
    after(() => server.close());

    const run = (cases: Case[]) => async () => {
      for (const [params, expected] of cases) assert.deepEqual(await codes(server, q(params)), expected, q(params));
    };

    test('string operators: eq, ne, ieq, in, notIn, (i)contains, (i)startsWith, (i)endsWith, gt…lte', run(STRING_CASES));
    test('nullable string and text fields, formats email/url/uuid, isNull', run(NULLABLE_TEXT_CASES));
    test('LIKE wildcards in values match literally', run(LIKE_CASES));
    test('enum, uuid and json filters', run(ENUM_UUID_CASES));

    test('upper-case UUIDs match', async () => {
      assert.deepEqual(await codes(server, q({ token: uuid(5).toUpperCase() })), ['E-5']);
    });

    test('filters on the key of a belongsTo, and through it', async () => {
      const { ada, bob } = seeded.owners;
      assert.deepEqual(await codes(server, q({ ownerId: String(ada) })), ['A-1', 'D-4']);
      assert.deepEqual(await codes(server, q({ 'ownerId[in]': `${ada},${bob}` })), ['A-1', 'B-2', 'D-4', 'E-5']);
      assert.deepEqual(await codes(server, q({ 'ownerId[isNull]': 'true' })), ['C-3', 'F-6']);
      assert.deepEqual(await codes(server, q({ 'owner.name[icontains]': 'ada' })), ['A-1', 'D-4']);
      assert.deepEqual(await codes(server, q({ 'owner.name': 'Bob' })), ['B-2', 'E-5']);
      assert.deepEqual(await codes(server, q({ 'owner.name[startsWith]': 'x' })), []);
      assert.deepEqual(await codes(server, q({ 'owner.id': String(bob), kind: 'beta' })), ['B-2', 'E-5']);
    });

    test('several filters are ANDed; count=true reports the filtered total', async () => {
      assert.deepEqual(await codes(server, q({ 'label[icontains]': 'a', kind: 'alpha', 'owner.name[istartsWith]': 'ADA' })), ['A-1', 'D-4']);
      const res = await server.fetch(`/v1/items?${q({ 'kind[in]': 'alpha,beta', 'email[isNull]': 'false', count: 'true', limit: '1' })}`);
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.data.length, 1);
      assert.deepEqual({ ...body.page, nextCursor: typeof body.page.nextCursor }, { limit: 1, hasMore: true, nextCursor: 'string', total: 2 });
      const noCount = await (await server.fetch('/v1/items?kind=gamma')).json();
      assert.deepEqual(noCount.page, { limit: 20, hasMore: false, nextCursor: null });
      const none = await (await server.fetch('/v1/items?kind=gamma&label=zzz&count=true')).json();
      assert.deepEqual(none, { data: [], page: { limit: 20, hasMore: false, nextCursor: null, total: 0 } });
    });
  });
}
