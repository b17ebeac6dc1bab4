import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allTypesModel, codes, seedFilterItems } from '../fixtures/all-types.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/** [query string as sent, the errors[] expected as path/code pairs]. */
type Bad = readonly [string, [string, string][]];

const UNKNOWN: Bad[] = [
  ['colour=red', [['colour', 'unknown']]],
  ['secret=s-a', [['secret', 'unknown']]],
  ['secret[isNull]=true', [['secret[isNull]', 'unknown']]],
  ['owner.passwordHash=h1', [['owner.passwordHash', 'unknown']]],
  ['owner.nope=1', [['owner.nope', 'unknown']]],
  ['owner=1', [['owner', 'unknown']]],
  ['kind.name=x', [['kind.name', 'unknown']]],
  ['owner.name.first=x', [['owner.name.first', 'unknown']]],
  ['qty[eq][gt]=1', [['qty[eq][gt]', 'unknown']]],
  ['1qty=1', [['1qty', 'unknown']]],
];

const OPERATORS: Bad[] = [
  ['qty[like]=1', [['qty[like]', 'operator']]],
  ['qty[EQ]=1', [['qty[EQ]', 'operator']]],
  ['qty[contains]=1', [['qty[contains]', 'operator']]],
  ['big[icontains]=1', [['big[icontains]', 'operator']]],
  ['price[startsWith]=1', [['price[startsWith]', 'operator']]],
  ['day[endsWith]=01', [['day[endsWith]', 'operator']]],
  ['active[gt]=true', [['active[gt]', 'operator']]],
  ['active[in]=true', [['active[in]', 'operator']]],
  ['kind[gt]=alpha', [['kind[gt]', 'operator']]],
  ['kind[contains]=al', [['kind[contains]', 'operator']]],
  ['token[startsWith]=abc', [['token[startsWith]', 'operator']]],
  ['token[lt]=abc', [['token[lt]', 'operator']]],
  ['meta=1', [['meta', 'operator']]],
  ['meta[contains]=a', [['meta[contains]', 'operator']]],
  ['ownerId[contains]=1', [['ownerId[contains]', 'operator']]],
];

const VALUES: Bad[] = [
  ['qty=abc', [['qty', 'value']]],
  ['qty=1.5', [['qty', 'value']]],
  ['qty=2147483648', [['qty', 'value']]],
  ['qty[in]=1,x', [['qty[in]', 'value']]],
  ['qty[in]=', [['qty[in]', 'value']]],
  ['big=1.0', [['big', 'value']]],
  ['big=9223372036854775808', [['big', 'value']]],
  ['big[in]=1,-9223372036854775809', [['big[in]', 'value']]],
  ['price=abc', [['price', 'value']]],
  ['price=1e5', [['price', 'value']]],
  ['ratio=NaN', [['ratio', 'value']]],
  ['ratio=1e999', [['ratio', 'value']]],
  ['day=2024-1-1', [['day', 'value']]],
  ['day=2024-02-30', [['day', 'value']]],
  ['day=2023-02-29', [['day', 'value']]],
  ['day=0000-01-01', [['day', 'value']]],
  ['day[gt]=today', [['day[gt]', 'value']]],
  ['at=yesterday', [['at', 'value']]],
  ['at=2024-02-30T10:00:00Z', [['at', 'value']]],
  ['at[gte]=0000-01-01T00:00:00Z', [['at[gte]', 'value']]],
  ['at=2024-01-01T25:00:00Z', [['at', 'value']]],
  ['at=2024-01-01T10:00:00%2B23:00', [['at', 'value']]],
  ['token=not-a-uuid', [['token', 'value']]],
  ['token[in]=abcdef00-0000-4000-a000-000000000001,zz', [['token[in]', 'value']]],
  ['ownerId=abc', [['ownerId', 'value']]],
  ['ownerId=-1', [['ownerId', 'value']]],
  ['kind=delta', [['kind', 'value']]],
  ['kind=ALPHA', [['kind', 'value']]],
  ['kind[in]=alpha,delta', [['kind[in]', 'value']]],
  ['active=yes', [['active', 'value']]],
  ['active=1', [['active', 'value']]],
  ['rank[isNull]=maybe', [['rank[isNull]', 'value']]],
  ['count=yes', [['count', 'value']]],
];

const REPEATED: Bad[] = [
  ['qty=1&qty=2', [['qty', 'repeated']]],
  ['label[contains]=a&label[contains]=b', [['label[contains]', 'repeated']]],
  ['sort=qty&sort=label', [['sort', 'repeated']]],
  ['limit=1&limit=2', [['limit', 'repeated']]],
  ['count=true&count=true', [['count', 'repeated']]],
  ['fields=id&fields=label', [['fields', 'repeated']]],
  ['include=owner&include=owner', [['include', 'repeated']]],
  ['cursor=a&cursor=b', [['cursor', 'repeated']]],
];

for (const backend of BACKENDS) {
  describe(`invalid list queries (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(allTypesModel(), backend);
      await seedFilterItems(server);
    });
    after(() => server.close());

    const run = (cases: Bad[]) => async () => {
      for (const [query, expected] of cases) {
        const problem = await expectProblem(await server.fetch(`/v1/items?${query}`), 400, 'KILN_QUERY_INVALID');
        assert.deepEqual(
          problem.errors?.map((e) => [e.path, e.code]),
          expected,
          query,
        );
        for (const e of problem.errors ?? []) assert.equal(typeof e.message, 'string');
      }
    };

    test('unknown parameters and fields, hidden fields, bad relation paths', run(UNKNOWN));
    test('unknown operators and operators that do not apply to the type', run(OPERATORS));
    test('malformed values per type', run(VALUES));
    test('a parameter given twice', run(REPEATED));

    test('the detail names the parameter and what was expected', async () => {
      const problem = await expectProblem(await server.fetch('/v1/items?qty=abc'), 400, 'KILN_QUERY_INVALID');
      assert.equal(problem.detail, 'qty: expected an integer, got "abc"');
      const op = await expectProblem(await server.fetch('/v1/items?active[gt]=true'), 400, 'KILN_QUERY_INVALID');
      assert.equal(op.detail, 'active[gt]: operator "gt" does not apply to "active", a true-or-false field; use one of eq, ne, isNull');
    });

    test('every problem is reported at once', async () => {
      const problem = await expectProblem(await server.fetch('/v1/items?colour=1&qty=abc&sort=nope&limit=0'), 400, 'KILN_QUERY_INVALID');
      assert.equal(problem.detail, '4 problems in the query string');
      assert.deepEqual(
        problem.errors?.map((e) => [e.path, e.code]),
        [
          ['colour', 'unknown'],
          ['qty', 'value'],
          ['sort', 'unknown'],
          ['limit', 'range'],
        ],
      );
    });

    test('filters through a hasMany relation are refused', async () => {
      const problem = await expectProblem(await server.fetch('/v1/owners?items.label=x'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(
        problem.errors?.map((e) => [e.path, e.code]),
        [['items.label', 'unknown']],
      );
      const hidden = await expectProblem(await server.fetch('/v1/owners?passwordHash=h1'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(
        hidden.errors?.map((e) => [e.path, e.code]),
        [['passwordHash', 'unknown']],
      );
    });

    test('in and notIn take at most 100 values', async () => {
      const hundred = Array.from({ length: 100 }, (_, i) => i - 10).join(',');
      assert.deepEqual(await codes(server, `qty[in]=${hundred}`), ['A-1', 'B-2', 'C-3', 'D-4', 'E-5', 'F-6']);
      assert.deepEqual(await codes(server, `qty[notIn]=${hundred}`), []);
      for (const op of ['in', 'notIn']) {
        const problem = await expectProblem(await server.fetch(`/v1/items?qty[${op}]=${hundred},200`), 400, 'KILN_QUERY_INVALID');
        assert.deepEqual(
          problem.errors?.map((e) => [e.path, e.code, e.message]),
          [[`qty[${op}]`, 'value', 'give 1 to 100 comma-separated values']],
        );
      }
    });

    test('long parameter names are cut short in messages', async () => {
      const name = `x${'a'.repeat(500)}`;
      const problem = await expectProblem(await server.fetch(`/v1/items?${name}=1`), 400, 'KILN_QUERY_INVALID');
      const short = `${name.slice(0, 40)}…`;
      assert.equal(problem.detail, `${short}: unknown query parameter "${short}": "${short}" is not an item field`);
      assert.deepEqual(
        problem.errors?.map((e) => [e.path, e.code]),
        [[name, 'unknown']],
      );
    });
  });
}
