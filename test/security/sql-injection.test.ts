import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allTypesModel, seedFilterItems } from '../fixtures/all-types.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/** Values that break naive SQL building: quotes, terminators, comments, placeholders, LIKE wildcards, unicode, NUL. */
const HOSTILE = [
  "'",
  "''",
  "' OR '1'='1",
  "'; DROP TABLE items; --",
  '1; DELETE FROM items',
  '-- comment',
  '/* x */',
  '$1',
  '$$',
  '$tag$x$tag$',
  '\\',
  "\\'",
  '"',
  '"; DROP TABLE "items"; --',
  '%',
  '_',
  "%' OR 1=1 --",
  '1 OR 1=1',
  'NULL',
  'true OR 1=1',
  "' union select password_hash from owners --", // lower case: the upper-case form is what expectProblem's leak check looks for
  "'||pg_sleep(0)||'",
  ')',
  '(',
  ',',
  '[eq]',
  'é ü 𝄞 中文',
  '\u202e\u200b',
  '\u0000',
  "a\u0000'",
];
const hasNul = (s: string) => s.includes('\u0000');
const enc = encodeURIComponent;
const TEXT_OPS = ['eq', 'ne', 'ieq', 'in', 'notIn', 'contains', 'icontains', 'startsWith', 'istartsWith', 'endsWith', 'iendsWith', 'gt', 'lte'];
const TYPED_FIELDS = ['qty', 'rank', 'big', 'price', 'ratio', 'active', 'day', 'at', 'kind', 'token', 'ownerId', 'id', 'createdAt'];

type Row = Record<string, unknown>;

/** Whether a text value matches, computed in JavaScript: the literal meaning of the operator. */
function matches(op: string, value: string, text: unknown): boolean | undefined {
  const s = typeof text === 'string' ? text : null;
  const parts = value.split(',');
  const lower = (x: string) => x.toLowerCase();
  switch (op) {
    case 'eq':
      return s === value;
    case 'ne':
      return s !== value;
    case 'ieq':
      return s !== null && lower(s) === lower(value);
    case 'in':
      return s !== null && parts.includes(s);
    case 'notIn':
      return s === null || !parts.includes(s);
    case 'contains':
      return s?.includes(value) ?? false;
    case 'icontains':
      return s !== null && lower(s).includes(lower(value));
    case 'startsWith':
      return s?.startsWith(value) ?? false;
    case 'istartsWith':
      return s !== null && lower(s).startsWith(lower(value));
    case 'endsWith':
      return s?.endsWith(value) ?? false;
    case 'iendsWith':
      return s !== null && lower(s).endsWith(lower(value));
    default:
      return undefined; // gt/lte depend on the collation; only the status is checked
  }
}

for (const backend of BACKENDS) {
  describe(`SQL injection (${backend})`, () => {
    let server: TestServer;
    let snapshot: { items: Row[]; owners: Row[] };

    const list = async (query: string) => server.fetch(`/v1/items?${query}`);
    const data = async (path: string) => (await (await server.fetch(path)).json()).data as Row[];
    const originals = async () => ({
      items: await data('/v1/items?code[in]=A-1,B-2,C-3,D-4,E-5,F-6&sort=id&limit=100'),
      owners: await data('/v1/owners?sort=id'),
    });

    before(async () => {
      server = await startTestServer(allTypesModel(), backend);
      await seedFilterItems(server);
      snapshot = await originals();
      assert.equal(snapshot.items.length, 6);
    });
    after(() => server.close());

    test('hostile filter values on text fields match literally (or are refused when they hold NUL)', async () => {
      const rows: Row[] = (await (await list('limit=100&sort=id')).json()).data;
      for (const value of HOSTILE) {
        for (const field of ['label', 'notes', 'email']) {
          for (const op of TEXT_OPS) {
            const key = `${field}[${op}]`;
            const res = await list(`${enc(key)}=${enc(value)}&limit=100&sort=id`);
            if (hasNul(value)) {
              const problem = await expectProblem(res, 400, 'KILN_QUERY_INVALID');
              assert.deepEqual(
                problem.errors?.map((e) => [e.path, e.code]),
                [[key, 'value']],
              );
              continue;
            }
            const text = await res.text();
            assert.equal(res.status, 200, `${key}=${value}: ${text}`);
            const want = rows.filter((r) => matches(op, value, r[field])).map((r) => r.id);
            if (matches(op, value, '') !== undefined)
              assert.deepEqual(
                JSON.parse(text).data.map((r: Row) => r.id),
                want,
                `${key}=${JSON.stringify(value)}`,
              );
          }
        }
        const through = await list(`${enc('owner.name[icontains]')}=${enc(value)}`);
        assert.equal(through.status, hasNul(value) ? 400 : 200, value);
        if (!hasNul(value)) assert.deepEqual((await through.json()).data, [], value);
      }
    });

    test('hostile values on typed fields are refused before SQL', async () => {
      for (const value of HOSTILE) {
        for (const field of TYPED_FIELDS) {
          for (const op of ['eq', 'in', 'ne']) {
            const key = op === 'eq' ? field : `${field}[${op}]`;
            const res = await list(`${enc(key)}=${enc(value)}`);
            const problem = await expectProblem(res, 400, 'KILN_QUERY_INVALID');
            assert.deepEqual(
              problem.errors?.map((e) => [e.path, e.code]),
              [[key, key.startsWith('active[in') ? 'operator' : 'value']],
              `${key}=${JSON.stringify(value)}`,
            );
          }
        }
        await expectProblem(await list(`rank[isNull]=${enc(value)}`), 400, 'KILN_QUERY_INVALID');
      }
    });

    test('hostile parameter names, operators, sort, fields, include, limit, count and cursor are refused', async () => {
      for (const value of HOSTILE) {
        const cases: [string, string][] = [
          [`${enc(value)}=1`, 'KILN_QUERY_INVALID'],
          [`${enc(`label[${value}]`)}=1`, 'KILN_QUERY_INVALID'],
          [`${enc(`owner.${value}`)}=1`, 'KILN_QUERY_INVALID'],
          [`sort=${enc(value)}`, 'KILN_QUERY_INVALID'],
          [`sort=${enc(`-${value}`)}`, 'KILN_QUERY_INVALID'],
          [`sort=label,${enc(value)}`, 'KILN_QUERY_INVALID'],
          [`fields=${enc(value)}`, 'KILN_QUERY_INVALID'],
          [`fields=id,${enc(value)}`, 'KILN_QUERY_INVALID'],
          [`include=${enc(value)}`, 'KILN_QUERY_INVALID'],
          [`include=owner.${enc(value)}`, 'KILN_QUERY_INVALID'],
          [`limit=${enc(value)}`, 'KILN_QUERY_INVALID'],
          [`count=${enc(value)}`, 'KILN_QUERY_INVALID'],
          [`cursor=${enc(value)}`, 'KILN_CURSOR_INVALID'],
        ];
        for (const [query, code] of cases) await expectProblem(await list(query), 400, code);
        await expectProblem(await server.fetch(`/v1/items/1?fields=${enc(value)}`), 400, 'KILN_QUERY_INVALID');
        await expectProblem(await server.fetch(`/v1/items/1?include=${enc(value)}`), 400, 'KILN_QUERY_INVALID');
      }
    });

    test('hostile path ids are refused on every method', async () => {
      for (const value of [...HOSTILE, '1 OR 1=1', '1;', '1--', '01', '-1', '1.0', '1e3', '9007199254740993']) {
        for (const method of ['GET', 'PATCH', 'PUT', 'DELETE']) {
          const json = method === 'PATCH' || method === 'PUT' ? { label: 'x' } : undefined;
          const res = await server.fetch(`/v1/items/${enc(value)}`, { method, json });
          const problem = await expectProblem(res, 400, 'KILN_PATH_INVALID');
          assert.deepEqual(problem.errors, [{ path: 'id', code: 'type', message: 'expected a positive integer' }]);
        }
      }
    });

    test('the data is unchanged by everything above', async () => {
      assert.deepEqual(await originals(), snapshot);
      assert.equal((await data('/v1/items?limit=100')).length, 6);
    });

    test('hostile body values are stored and read back literally; NUL is refused', async () => {
      const base = { code: 'Z-1', qty: 1, big: '1', price: '1', ratio: 1, active: true, day: '2024-01-01', at: '2024-01-01T00:00:00Z', kind: 'alpha' };
      for (const [i, value] of HOSTILE.entries()) {
        const token = `abcdef00-0000-4000-b000-${String(i).padStart(12, '0')}`;
        const body = { ...base, token, label: value, notes: value, meta: { [value]: [value] } };
        const res = await server.fetch('/v1/items', { method: 'POST', json: body });
        if (hasNul(value)) {
          await expectProblem(res, 400, 'KILN_VALIDATION_FAILED');
          continue;
        }
        assert.equal(res.status, 201, JSON.stringify(value));
        const { id } = (await res.json()).data;
        const read = (await (await server.fetch(`/v1/items/${id}`)).json()).data;
        assert.deepEqual([read.label, read.notes, read.meta], [value, value, { [value]: [value] }]);
        const found = (await (await list(`label=${enc(value)}&fields=id`)).json()).data;
        assert.deepEqual(found, [{ id }]);
        const patched = await server.fetch(`/v1/items/${id}`, { method: 'PATCH', json: { notes: `${value}${value}` } });
        assert.equal(patched.status, 200);
        assert.equal((await patched.json()).data.notes, `${value}${value}`);
      }
      for (const value of HOSTILE) {
        for (const field of ['kind', 'token', 'day', 'at', 'price', 'big']) {
          const json = { ...base, label: 'ok', token: 'abcdef00-0000-4000-c000-000000000001', [field]: value };
          const problem = await expectProblem(await server.fetch('/v1/items', { method: 'POST', json }), 400, 'KILN_VALIDATION_FAILED');
          assert.deepEqual(
            problem.errors?.map((e) => e.path),
            [`/${field}`],
            `${field}: ${JSON.stringify(value)}`,
          );
        }
        const unknown = await expectProblem(await server.fetch('/v1/items', { method: 'POST', json: { ...base, [value]: 1 } }), 400, 'KILN_VALIDATION_FAILED');
        assert.ok(
          unknown.errors?.some((e) => e.path === `/${value}` && e.code === 'unknown'),
          JSON.stringify(value),
        );
      }
    });

    test('hostile header values: Idempotency-Key, If-Match, If-None-Match', async () => {
      const item = (await (await list('code=A-1')).json()).data[0];
      for (const value of HOSTILE.filter((v) => /^[\x21-\x7e]+$/.test(v))) {
        const json = {
          code: 'Y-1',
          label: `key ${value}`,
          qty: 1,
          big: '1',
          price: '1',
          ratio: 1,
          active: true,
          day: '2024-01-01',
          at: '2024-01-01T00:00:00Z',
          kind: 'beta',
          token: 'abcdef00-0000-4000-d000-000000000001',
        };
        const first = await server.fetch('/v1/items', { method: 'POST', json, headers: { 'idempotency-key': value } });
        assert.equal(first.status, 201, value);
        const again = await server.fetch('/v1/items', { method: 'POST', json, headers: { 'idempotency-key': value } });
        assert.equal(again.headers.get('idempotent-replayed'), 'true');
        const body = await first.text();
        assert.equal(await again.text(), body);
        const id = JSON.parse(body).data.id;
        assert.equal((await server.fetch(`/v1/items/${id}`, { method: 'DELETE' })).status, 204);
        await expectProblem(
          await server.fetch(`/v1/items/${item.id}`, { method: 'PATCH', json: { label: 'x' }, headers: { 'if-match': value } }),
          412,
          'KILN_PRECONDITION_FAILED',
        );
        assert.equal((await server.fetch(`/v1/items/${item.id}`, { headers: { 'if-none-match': value } })).status, 200);
      }
      assert.equal((await (await server.fetch(`/v1/items/${item.id}`)).json()).data.label, 'Alpha 100%');
    });

    test('tables are intact and no request failed with a 500', async () => {
      const [items] = await server.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM "items" WHERE "code" ~ '^[A-F]-'`);
      assert.equal(items?.n, '6');
      const [owners] = await server.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM "owners"`);
      assert.equal(owners?.n, '2');
      assert.deepEqual(await originals(), snapshot);
      const requests = server.logs.filter((l) => l.msg === 'request');
      assert.ok(requests.length > 1000, `${requests.length} requests logged`);
      assert.deepEqual(
        requests.filter((l) => (l.status as number) >= 500),
        [],
      );
      assert.deepEqual(
        server.logs.filter((l) => (l.level as number) >= 50),
        [],
      );
    });
  });
}
