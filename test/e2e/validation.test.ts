import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/** One resource with a field of every type and every constraint a field can carry. */
const model = compileOrThrow('validation', {
  resources: {
    things: {
      fields: {
        name: { type: 'string', minLength: 2, maxLength: 5 },
        code: { type: 'string', pattern: '^[A-Z]{3}$', nullable: true },
        email: { type: 'string', format: 'email', nullable: true },
        site: { type: 'string', format: 'url', nullable: true },
        ref: { type: 'string', format: 'uuid', nullable: true },
        uid: { type: 'uuid', nullable: true },
        qty: { type: 'integer', min: 0, max: 10, default: 0 },
        big: { type: 'bigint', nullable: true },
        rank: { type: 'bigint', min: 1, max: 1000, nullable: true },
        price: { type: 'decimal', precision: 8, scale: 2, nullable: true },
        ratio: { type: 'float', nullable: true },
        flag: { type: 'boolean', default: false },
        kind: { type: 'enum', values: ['a', 'b'], default: 'a' },
        day: { type: 'date', nullable: true },
        at: { type: 'datetime', nullable: true },
        meta: { type: 'json', nullable: true },
        doc: { type: 'json', default: {} },
        tags: { type: 'manyToMany', target: 'tags' },
      },
    },
    tags: { fields: { label: { type: 'string' }, things: { type: 'manyToMany', target: 'things' } } },
  },
});

type Errors = [string, string][];
const pairs = (problem: { errors?: { path: string; code: string }[] }): Errors => (problem.errors ?? []).map((e) => [e.path, e.code]);

/** Each value refused for one field, with the rule that names it. */
const REFUSED: [field: string, value: unknown, code: string][] = [
  ['name', 'x', 'minLength'],
  ['name', 'toolong', 'maxLength'],
  ['name', 12, 'type'],
  ['name', null, 'type'],
  ['code', 'abc', 'pattern'],
  ['email', 'not-an-email', 'format'],
  ['site', 'not a url', 'format'],
  ['ref', '123', 'format'],
  ['uid', 'zzzzzzzz-e89b-12d3-a456-426614174000', 'format'],
  ['qty', 11, 'maximum'],
  ['qty', -1, 'minimum'],
  ['qty', 1.5, 'type'],
  ['qty', '3', 'type'],
  ['qty', null, 'type'],
  ['big', 'x12', 'pattern'],
  ['big', '99999999999999999999', 'pattern'],
  ['big', 1.5, 'type'],
  ['big', 1e20, 'pattern'],
  ['big', true, 'type'],
  ['rank', 0, 'minimum'],
  ['rank', '0', 'minimum'],
  ['rank', '-9223372036854775808', 'minimum'],
  ['rank', 1001, 'maximum'],
  ['rank', '1001', 'maximum'],
  ['price', 'abc', 'pattern'],
  ['price', '1.2.3', 'pattern'],
  ['price', '1e5', 'pattern'],
  ['price', false, 'type'],
  ['price', '1.234', 'pattern'],
  ['price', '1234567.5', 'pattern'],
  ['price', 12.345, 'pattern'], // a JSON number is checked by its exact text, like a string
  ['price', 1000000, 'pattern'],
  ['price', -1000000, 'pattern'],
  ['ratio', 'x', 'type'],
  ['flag', 'yes', 'type'],
  ['flag', null, 'type'],
  ['kind', 'c', 'enum'],
  ['day', '2020-13-01', 'format'],
  ['day', '2024-02-30', 'format'],
  ['day', '2024-01-01T00:00:00Z', 'format'],
  ['at', 'yesterday', 'format'],
  ['at', '2024-01-02', 'format'],
  ['doc', null, 'type'],
];

/** What the client reads: each message says what the value must be, in English, from the field's declaration. */
const MESSAGES: [field: string, value: unknown, message: string][] = [
  ['name', 'toolong', 'must be a string of 2 to 5 characters (this one has 7)'],
  ['name', 'x', 'must be a string of 2 to 5 characters (this one has 1)'],
  ['name', 12, 'must be a string of 2 to 5 characters'],
  ['name', null, 'must be a string of 2 to 5 characters, not null'],
  ['code', 'abc', 'must match the pattern ^[A-Z]{3}$'],
  ['email', 'not-an-email', 'must be an email address'],
  ['site', 'not a url', 'must be an absolute URL such as https://example.com/page'],
  ['uid', 'zz', 'must be a UUID such as 123e4567-e89b-12d3-a456-426614174000'],
  ['qty', 1.5, 'must be an integer from 0 to 10'],
  ['qty', 11, 'must be an integer from 0 to 10'],
  ['qty', null, 'must be an integer from 0 to 10, not null'],
  ['big', 'x12', 'must be a 64-bit integer, as a string of up to 19 digits or a JSON integer'],
  ['big', true, 'must be a 64-bit integer, as a string of up to 19 digits or a JSON integer (or null)'],
  ['rank', '1001', 'must be a 64-bit integer from 1 to 1000, as a string of digits or a JSON integer'],
  ['price', '1.234', 'must be a decimal with at most 6 digits before and 2 after the point (e.g. "12.50"); extra digits are not rounded'],
  ['ratio', 'x', 'must be a number (or null)'],
  ['flag', 'yes', 'must be true or false'],
  ['kind', 'c', 'must be one of: a, b'],
  ['kind', 3, 'must be one of: a, b'],
  ['day', '2024-02-30', 'must be a date written YYYY-MM-DD, such as 2024-01-31'],
  ['at', 'yesterday', 'must be a date and time in ISO 8601, such as 2024-01-31T09:30:00Z'],
  ['doc', null, 'must be a JSON object, array, string, number or boolean, not null'],
  ['tags', 'x', 'must be an array of tag ids, each a positive integer id'],
  ['tags', [1, 'x'], 'must be a positive integer id'],
  ['tags', [1, 2, 1], 'lists the same tag id twice (items 0 and 2)'],
];

for (const backend of BACKENDS) {
  describe(`body validation (${backend})`, () => {
    let server: TestServer;
    let id: number;
    const count = async () => (await (await server.fetch('/v1/things?count=true')).json()).page.total as number;

    before(async () => {
      server = await startTestServer(model, backend);
      const res = await server.fetch('/v1/things', { method: 'POST', json: { name: 'first' } });
      assert.equal(res.status, 201);
      id = (await res.json()).data.id;
    });
    after(() => server.close());

    test('a valid value of every type is stored and returned in its canonical form', async () => {
      const res = await server.fetch('/v1/things', {
        method: 'POST',
        json: {
          name: 'ok',
          code: 'ABC',
          email: 'ada@example.com',
          site: 'https://example.com/a?b=1',
          ref: '123e4567-e89b-12d3-a456-426614174000',
          uid: '123E4567-E89B-12D3-A456-426614174000',
          qty: 10,
          big: '9223372036854775807',
          rank: '1000',
          price: '-12.5',
          ratio: 0.25,
          flag: true,
          kind: 'b',
          day: '2024-02-29',
          at: '2024-01-02T03:04:05+02:00',
          meta: { list: [1, 'two', null], nested: { ok: true } },
          doc: [],
        },
      });
      assert.equal(res.status, 201);
      const { data } = await res.json();
      const { id: _id, createdAt, updatedAt, ...rest } = data;
      assert.match(createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.equal(updatedAt, createdAt);
      assert.deepEqual(rest, {
        name: 'ok',
        code: 'ABC',
        email: 'ada@example.com',
        site: 'https://example.com/a?b=1',
        ref: '123e4567-e89b-12d3-a456-426614174000',
        uid: '123e4567-e89b-12d3-a456-426614174000',
        qty: 10,
        big: '9223372036854775807',
        rank: '1000',
        price: '-12.50',
        ratio: 0.25,
        flag: true,
        kind: 'b',
        day: '2024-02-29',
        at: '2024-01-02T01:04:05.000Z',
        meta: { list: [1, 'two', null], nested: { ok: true } },
        doc: [],
      });
    });

    test('each constraint is refused with the JSON pointer of the field and the rule it broke', async () => {
      for (const [field, value, code] of REFUSED) {
        const res = await server.fetch('/v1/things', { method: 'POST', json: { name: 'ok', [field]: value } });
        const problem = await expectProblem(res, 400, 'KILN_VALIDATION_FAILED');
        assert.deepEqual(pairs(problem), [[`/${field}`, code]], `${field} = ${JSON.stringify(value)}`);
        assert.equal(problem.detail, `/${field}: ${problem.errors?.[0]?.message}`);
      }
    });

    test('each message says in English what the value must be', async () => {
      for (const [field, value, message] of MESSAGES) {
        const res = await server.fetch('/v1/things', { method: 'POST', json: { name: 'ok', [field]: value } });
        const problem = await expectProblem(res, 400, 'KILN_VALIDATION_FAILED');
        assert.deepEqual(
          problem.errors?.map((e) => e.message),
          [message],
          `${field} = ${JSON.stringify(value)}`,
        );
        const path = (problem.errors?.[0]?.path ?? '').replace(/\/\d+$/, '');
        assert.equal(path, `/${field}`);
        assert.equal(problem.detail, `${problem.errors?.[0]?.path}: ${message}`);
      }
    });

    test('the same rules apply to PATCH and PUT', async () => {
      const patch = await server.fetch(`/v1/things/${id}`, { method: 'PATCH', json: { qty: 99, day: 'monday' } });
      assert.deepEqual(pairs(await expectProblem(patch, 400, 'KILN_VALIDATION_FAILED')), [
        ['/qty', 'maximum'],
        ['/day', 'format'],
      ]);
      const put = await server.fetch(`/v1/things/${id}`, { method: 'PUT', json: { name: 'x', kind: 'z' } });
      assert.deepEqual(pairs(await expectProblem(put, 400, 'KILN_VALIDATION_FAILED')), [
        ['/name', 'minLength'],
        ['/kind', 'enum'],
      ]);
    });

    test('bigint and decimal accept a string or a JSON number and return the exact text', async () => {
      const cases: [unknown, unknown, string, string][] = [
        [42, 12.5, '42', '12.50'],
        ['-9223372036854775808', '0.01', '-9223372036854775808', '0.01'],
        [Number.MAX_SAFE_INTEGER, -3, String(Number.MAX_SAFE_INTEGER), '-3.00'],
        [1, 999999.99, '1', '999999.99'],
        [1, '-999999.99', '1', '-999999.99'],
        [1, 0.29, '1', '0.29'],
        // Written as JSON numbers with more digits than a double carries, the exact text is kept.
        [2 ** 60, 0.1, '1152921504606847000', '0.10'],
      ];
      for (const [big, price, bigOut, priceOut] of cases) {
        const res = await server.fetch('/v1/things', { method: 'POST', json: { name: 'num', big, price } });
        assert.equal(res.status, 201, JSON.stringify({ big, price }));
        const { data } = await res.json();
        assert.deepEqual([data.big, data.price], [bigOut, priceOut]);
      }
    });

    test('json accepts any JSON value; nullable fields accept null and others refuse it', async () => {
      for (const meta of [[1, [2]], 'text', 0, false, null, { a: { b: [] } }]) {
        const res = await server.fetch('/v1/things', { method: 'POST', json: { name: 'js', meta, doc: meta ?? 1 } });
        assert.equal(res.status, 201, JSON.stringify(meta));
        const { data } = await res.json();
        assert.deepEqual([data.meta, data.doc], [meta, meta ?? 1]);
      }
      const nulls = { name: 'nul', code: null, email: null, site: null, ref: null, uid: null, big: null, price: null, ratio: null, day: null, at: null };
      const res = await server.fetch('/v1/things', { method: 'POST', json: nulls });
      assert.equal(res.status, 201);
      const { data } = await res.json();
      for (const key of Object.keys(nulls).slice(1)) assert.equal(data[key], null, key);
    });

    test('missing required fields are named, on create and on replace', async () => {
      const create = await server.fetch('/v1/things', { method: 'POST', json: { qty: 1 } });
      const problem = await expectProblem(create, 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(problem.errors, [{ path: '/name', code: 'required', message: '"name" is required' }]);
      const replace = await server.fetch(`/v1/things/${id}`, { method: 'PUT', json: { qty: 1 } });
      assert.deepEqual(pairs(await expectProblem(replace, 400, 'KILN_VALIDATION_FAILED')), [['/name', 'required']]);
    });

    test('unknown properties and writes to read-only fields are refused on every write', async () => {
      const body = { name: 'ok', id: 7, createdAt: '2020-01-01T00:00:00Z', updatedAt: '2020-01-01T00:00:00Z', colour: 'red' };
      const expected: Errors = [
        ['/id', 'readOnly'],
        ['/createdAt', 'readOnly'],
        ['/updatedAt', 'readOnly'],
        ['/colour', 'unknown'],
      ];
      const create = await expectProblem(await server.fetch('/v1/things', { method: 'POST', json: body }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(pairs(create), expected);
      assert.deepEqual(create.errors?.[3], { path: '/colour', code: 'unknown', message: '"colour" is not a thing field' });
      assert.deepEqual(create.errors?.[0], { path: '/id', code: 'readOnly', message: '"id" is set by the server and cannot be written' });
      for (const method of ['PATCH', 'PUT']) {
        const res = await server.fetch(`/v1/things/${id}`, { method, json: body });
        assert.deepEqual(pairs(await expectProblem(res, 400, 'KILN_VALIDATION_FAILED')), expected, method);
      }
    });

    test('PATCH with no field is refused as empty', async () => {
      const problem = await expectProblem(await server.fetch(`/v1/things/${id}`, { method: 'PATCH', json: {} }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(problem.errors, [{ path: '/', code: 'empty', message: 'send at least one field to change' }]);
      assert.equal(problem.detail, '/: send at least one field to change');
    });

    test('a body that is not a JSON object is refused at "/"', async () => {
      for (const body of [[{ name: 'ok' }], 'ok', 42, true, null]) {
        for (const [method, path] of [
          ['POST', '/v1/things'],
          ['PATCH', `/v1/things/${id}`],
          ['PUT', `/v1/things/${id}`],
        ] as const) {
          const res = await server.fetch(path, { method, json: body });
          const problem = await expectProblem(res, 400, 'KILN_VALIDATION_FAILED');
          assert.deepEqual(problem.errors, [{ path: '/', code: 'type', message: 'the body must be a JSON object' }], `${method} ${JSON.stringify(body)}`);
        }
      }
      const bulk = await server.fetch('/v1/things/bulk', { method: 'POST', json: null });
      assert.deepEqual(pairs(await expectProblem(bulk, 400, 'KILN_VALIDATION_FAILED')), [['/', 'type']]);
    });

    test('every problem is listed at once, and nothing is written', async () => {
      const before = await count();
      const res = await server.fetch('/v1/things', {
        method: 'POST',
        json: { name: 'x', nope: 1, code: 'abc', email: 'no', qty: 11, big: 'x', price: true, flag: 'y', kind: 'c', day: 'd', at: 'a' },
      });
      const problem = await expectProblem(res, 400, 'KILN_VALIDATION_FAILED');
      assert.equal(problem.detail, '11 problems in the request body');
      assert.deepEqual(pairs(problem), [
        ['/nope', 'unknown'],
        ['/name', 'minLength'],
        ['/code', 'pattern'],
        ['/email', 'format'],
        ['/qty', 'maximum'],
        ['/big', 'pattern'],
        ['/price', 'type'],
        ['/flag', 'type'],
        ['/kind', 'enum'],
        ['/day', 'format'],
        ['/at', 'format'],
      ]);
      assert.equal(await count(), before, 'nothing was created');
      const stored = (await (await server.fetch(`/v1/things/${id}`)).json()).data;
      const patch = await server.fetch(`/v1/things/${id}`, { method: 'PATCH', json: { name: 'new', qty: -5 } });
      assert.deepEqual(pairs(await expectProblem(patch, 400, 'KILN_VALIDATION_FAILED')), [['/qty', 'minimum']]);
      assert.deepEqual((await (await server.fetch(`/v1/things/${id}`)).json()).data, stored, 'the valid field was not written either');
    });
  });
}
