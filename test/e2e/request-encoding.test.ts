import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

const model = compileOrThrow('encoding', {
  resources: {
    notes: {
      fields: {
        title: { type: 'string', maxLength: 100 },
        meta: { type: 'json', nullable: true },
        big: { type: 'bigint', nullable: true },
        price: { type: 'decimal', precision: 10, scale: 2, nullable: true },
        ratio: { type: 'float', nullable: true },
      },
    },
  },
});

/** A body from pieces: strings are UTF-8, arrays are raw bytes. */
const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(p as string)));
const encoding = (path: string, shown: string) => ({
  path,
  code: 'encoding',
  message: `holds bytes that are not valid UTF-8 (${shown}); send the text encoded as UTF-8`,
});
const PROTO = 'the key "__proto__" is refused, as it could change the prototype of objects; rename or remove it';

for (const backend of BACKENDS) {
  describe(`request body encoding and exactness (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(model, backend);
    });
    after(() => server.close());

    const post = (body: Buffer | string, method = 'POST', path = '/v1/notes') =>
      server.fetch(path, { method, body, headers: { 'content-type': 'application/json' } });
    const stored = async (): Promise<number> => (await (await server.fetch('/v1/notes?count=true&limit=1')).json()).page.total;

    test('a raw 0xFF in a string is 400 KILN_VALIDATION_FAILED naming the field, and nothing is stored', async () => {
      const before = await stored();
      const problem = await expectProblem(await post(bytes('{"title":"caf', [0xff], '"}')), 400, 'KILN_VALIDATION_FAILED');
      const error = encoding('/title', '0xFF at byte 13: a byte that never occurs in UTF-8');
      assert.deepEqual(problem.errors, [error]);
      assert.equal(problem.detail, `/title: ${error.message}`);
      assert.equal(await stored(), before);
    });

    test('an overlong sequence (C0 AF) and a truncated one are named by their JSON pointers', async () => {
      const body = bytes('{"title":"ok","meta":{"tags":["a","', [0xc0, 0xaf], '"],"note":"', [0xe2, 0x82], '"}}');
      const problem = await expectProblem(await post(body), 400, 'KILN_VALIDATION_FAILED');
      assert.equal(problem.detail, '2 problems in the request body');
      assert.deepEqual(problem.errors, [
        encoding('/meta/tags/1', '0xC0 0xAF at byte 35: an overlong encoding'),
        encoding('/meta/note', '0xE2 0x82 at byte 48: a truncated multi-byte sequence'),
      ]);
    });

    test('invalid UTF-8 is refused on PATCH and PUT too, and the record keeps its value', async () => {
      const created = await (await server.fetch('/v1/notes', { method: 'POST', json: { title: 'kept' } })).json();
      for (const method of ['PATCH', 'PUT']) {
        const problem = await expectProblem(
          await post(bytes('{"title":"', [0xed, 0xa0, 0x80], '"}'), method, `/v1/notes/${created.data.id}`),
          400,
          'KILN_VALIDATION_FAILED',
        );
        assert.deepEqual(problem.errors, [encoding('/title', '0xED 0xA0 0x80 at byte 10: an encoded surrogate (U+D800 to U+DFFF)')], method);
      }
      assert.equal((await (await server.fetch(`/v1/notes/${created.data.id}`)).json()).data.title, 'kept');
    });

    test('valid UTF-8 and a byte order mark are accepted, and stored as sent', async () => {
      const res = await post(bytes([0xef, 0xbb, 0xbf], '{"title":"café ✓ 😀","meta":{"k":"\\u00e9"}}'));
      assert.equal(res.status, 201);
      const { data } = await res.json();
      assert.deepEqual([data.title, data.meta], ['café ✓ 😀', { k: 'é' }]);
    });

    test('a __proto__ key, at the top or nested, is 400 naming it', async () => {
      const top = await expectProblem(await post('{"title":"x","__proto__":{"admin":true}}'), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(top.errors, [{ path: '/__proto__', code: 'forbiddenKey', message: PROTO }]);
      assert.equal(top.detail, `/__proto__: ${PROTO}`);
      const nested = await expectProblem(await post('{"title":"x","meta":{"a":[{"\\u005f_proto__":{}}]}}'), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(nested.errors, [{ path: '/meta/a/0/__proto__', code: 'forbiddenKey', message: PROTO }]);
    });

    test('a constructor key holding prototype is 400 naming it', async () => {
      const problem = await expectProblem(await post('{"title":"x","meta":{"constructor":{"prototype":{"polluted":1}}}}'), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(problem.errors, [
        {
          path: '/meta/constructor',
          code: 'forbiddenKey',
          message: 'a "constructor" key holding "prototype" is refused, as it could change the prototype of objects; rename or remove it',
        },
      ]);
    });

    test('the same words as values, or a constructor without prototype, are ordinary data', async () => {
      const res = await post('{"title":"__proto__","meta":{"constructor":{"name":"x"},"k":"prototype"}}');
      assert.equal(res.status, 201);
      assert.deepEqual((await res.json()).data.meta, { constructor: { name: 'x' }, k: 'prototype' });
    });

    test('a number of more than 15 digits is kept exactly for bigint and refused for a decimal it does not fit', async () => {
      const res = await post('{"title":"exact","big":9007199254740993,"price":12345678.25,"ratio":0.12345678901234567}');
      assert.equal(res.status, 201);
      const { data } = await res.json();
      assert.deepEqual([data.big, data.price, data.ratio], ['9007199254740993', '12345678.25', Number('0.12345678901234567')]);
      // Refused by the core (which rule says so is the core's business), never rounded to 2.00.
      const rounded = await expectProblem(await post('{"title":"rounded","price":2.0000000000000001}'), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(
        rounded.errors?.map((e) => e.path),
        ['/price'],
      );
      assert.equal((await (await server.fetch('/v1/notes?title=rounded&count=true')).json()).page.total, 0);
    });

    test('an empty body is 400 KILN_BODY_MISSING; invalid JSON is 400 KILN_BODY_MALFORMED with the position', async () => {
      const empty = await expectProblem(await post(''), 400, 'KILN_BODY_MISSING');
      assert.equal(empty.detail, 'Content-Type is application/json but the body is empty');
      const malformed = await expectProblem(await post('{"title":"x",\n  "meta": [1,,2]}'), 400, 'KILN_BODY_MALFORMED');
      assert.equal(malformed.detail, "the body is not valid JSON: Array item expected but got ',' at line 2, column 14");
      const outside = await expectProblem(await post(bytes('{"title":', [0xff], '}')), 400, 'KILN_BODY_MALFORMED');
      assert.equal(outside.detail, "the body is not valid JSON: Object value expected after ':' at line 1, column 10");
    });
  });
}
