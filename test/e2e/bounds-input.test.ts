import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Bounds on what a client sends: lengths are checked before any pattern runs (so no input can make
 * the server spend long on a regular expression), decimals are never rounded, and text that is not
 * well-formed Unicode is refused naming the field instead of being stored changed.
 */
const model = compileOrThrow('bounds-input', {
  resources: {
    things: {
      fields: {
        name: { type: 'string', maxLength: 100 },
        code: { type: 'string', maxLength: 10, pattern: '^[a-z]+$', nullable: true },
        email: { type: 'string', format: 'email', maxLength: 20, nullable: true },
        notes: { type: 'text', nullable: true },
        price: { type: 'decimal', precision: 10, scale: 2, nullable: true },
        ratio: { type: 'float', nullable: true },
        meta: { type: 'json', nullable: true },
      },
    },
  },
});

const TEXT_MAX = 100;
/** filterValueMaxLength of a float (src/core/limits.ts). */
const FLOAT_FILTER_MAX = 32;

type Problem = { errors?: { path: string; code: string; message: string }[] };
const pairs = (problem: Problem): [string, string][] => (problem.errors ?? []).map((e) => [e.path, e.code]);

for (const backend of BACKENDS) {
  describe(`input bounds (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      // A larger header limit so the 16,000-character query string reaches the router, not the 431 guard.
      server = await startTestServer(model, backend, { textMaxLength: TEXT_MAX, maxHeaderSize: 65536 });
    });
    after(() => server.close());

    const stored = async (): Promise<number> => {
      const res = await server.fetch('/v1/things?count=true&limit=1');
      assert.equal(res.status, 200);
      return (await res.json()).page.total;
    };
    const post = (json: unknown) => server.fetch('/v1/things', { method: 'POST', json });
    const postRaw = (body: string | Buffer) => server.fetch('/v1/things', { method: 'POST', body, headers: { 'content-type': 'application/json' } });

    test('float filter values cannot block the event loop: an over-long one is refused by length, naming the maximum', async () => {
      const hostile = `/v1/things?ratio=${'1'.repeat(16_000)}x`;
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 8 }, () => server.fetch(hostile)));
      const elapsed = Date.now() - started;
      for (const res of answers) {
        const problem = await expectProblem(res, 400, 'KILN_QUERY_INVALID');
        assert.deepEqual(pairs(problem), [['ratio', 'value']]);
        assert.match(problem.errors?.[0]?.message ?? '', new RegExp(`at most ${FLOAT_FILTER_MAX}\\b`));
      }
      // The old backtracking pattern took about a second per request here, eight in a row on one thread.
      assert.ok(elapsed < 5000, `eight refusals took ${elapsed} ms`);
      const normal = await server.fetch('/v1/things?ratio=1.5');
      assert.equal(normal.status, 200, await normal.text());
      // Within the bound, an input the old backtracking pattern chewed on is refused like any bad number.
      const within = await expectProblem(await server.fetch('/v1/things?ratio=111111111111111111111111111.e'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(pairs(within), [['ratio', 'value']]);
    });

    test("a string's length is checked before its pattern: an over-long value gets maxLength alone", async () => {
      const before = await stored();
      const long = await expectProblem(await post({ name: 'x', code: `${'a'.repeat(20_000)}!` }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(pairs(long), [['/code', 'maxLength']]);
      const short = await expectProblem(await post({ name: 'x', code: 'ab1!c' }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(pairs(short), [['/code', 'pattern']]);
      assert.equal(await stored(), before);
    });

    test("a string's length is checked before its format: an over-long email gets maxLength alone", async () => {
      const before = await stored();
      const long = await expectProblem(await post({ name: 'x', email: `${'a'.repeat(20_000)}@example.com` }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(pairs(long), [['/email', 'maxLength']]);
      const short = await expectProblem(await post({ name: 'x', email: 'not-an-email' }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(pairs(short), [['/email', 'format']]);
      assert.equal(await stored(), before);
    });

    test('a text field without maxLength is bounded by the textMaxLength setting', async () => {
      const before = await stored();
      const over = await expectProblem(await post({ name: 'x', notes: 'n'.repeat(TEXT_MAX + 1) }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(pairs(over), [['/notes', 'maxLength']]);
      assert.equal(await stored(), before);
      const at = await post({ name: 'x', notes: 'n'.repeat(TEXT_MAX) });
      assert.equal(at.status, 201, await at.clone().text());
      assert.equal((await at.json()).data.notes.length, TEXT_MAX);
    });

    test('a decimal with more fraction digits than its scale is refused, never rounded', async () => {
      const before = await stored();
      const number = await expectProblem(await post({ name: 'x', price: 2.0000000000001 }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(
        number.errors?.map((e) => e.path),
        ['/price'],
      );
      assert.match(number.errors?.[0]?.message ?? '', /at most 8 digits before and 2 after the point/);
      const text = await expectProblem(await post({ name: 'x', price: '2.001' }), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(
        text.errors?.map((e) => e.path),
        ['/price'],
      );
      assert.equal(await stored(), before);
      for (const [price, want] of [
        ['2.00', '2.00'],
        [2.5, '2.50'],
      ] as const) {
        const res = await post({ name: 'fits', price });
        assert.equal(res.status, 201, await res.clone().text());
        assert.equal((await res.json()).data.price, want);
      }
    });

    test('a JSON number with more than 15 significant digits is refused for a decimal, not stored rounded', async () => {
      const before = await stored();
      // JSON.stringify would round it to 2 first: the body is written by hand.
      const problem = await expectProblem(await postRaw('{"name":"x","price":2.0000000000000001}'), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(
        problem.errors?.map((e) => e.path),
        ['/price'],
      );
      assert.equal(await stored(), before);
    });

    test('a lone surrogate escape is refused naming the field, at the top and inside a json value', async () => {
      const before = await stored();
      const top = await expectProblem(await postRaw('{"name":"x\\ud800y"}'), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(pairs(top), [['/name', 'encoding']]);
      const nested = await expectProblem(await postRaw('{"name":"x","meta":{"a":["ok","\\udc00"]}}'), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(pairs(nested), [['/meta/a/1', 'encoding']]);
      assert.equal(await stored(), before);
    });

    test('a byte 0xFF inside a string is refused naming the field', async () => {
      const before = await stored();
      const body = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xff]), Buffer.from('"}')]);
      const problem = await expectProblem(await postRaw(body), 400, 'KILN_VALIDATION_FAILED');
      assert.deepEqual(pairs(problem), [['/name', 'encoding']]);
      assert.equal(await stored(), before);
    });

    test('NUL characters stay refused, in text and in json values', async () => {
      const before = await stored();
      await expectProblem(await postRaw('{"name":"a\\u0000b"}'), 400, 'KILN_VALIDATION_FAILED');
      await expectProblem(await postRaw('{"name":"x","meta":{"k":"a\\u0000b"}}'), 400, 'KILN_VALIDATION_FAILED');
      assert.equal(await stored(), before);
    });
  });
}
