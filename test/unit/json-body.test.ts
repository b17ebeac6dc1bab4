import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type FieldError, KilnError } from '../../src/core/errors.js';
import { ExactNumber } from '../../src/core/exact-number.js';
import { parseJsonBody } from '../../src/http/json-body.js';
import { utf8Faults } from '../../src/http/utf8-faults.js';

/** A body from pieces: strings are UTF-8, arrays are raw bytes. */
const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
const parse = (body: string | Buffer) => parseJsonBody(typeof body === 'string' ? Buffer.from(body) : body);

function refused(body: string | Buffer): { code: string; detail: string; errors: readonly FieldError[] | undefined } {
  try {
    parse(body);
  } catch (error) {
    assert.ok(error instanceof KilnError, `not a KilnError: ${error}`);
    return { code: error.code, detail: error.detail, errors: error.errors };
  }
  assert.fail(`accepted ${String(body)}`);
}

const encoding = (path: string, shown: string) => ({
  path,
  code: 'encoding',
  message: `holds bytes that are not valid UTF-8 (${shown}); send the text encoded as UTF-8`,
});
const PROTO = 'the key "__proto__" is refused, as it could change the prototype of objects; rename or remove it';
const CONSTRUCTOR = 'a "constructor" key holding "prototype" is refused, as it could change the prototype of objects; rename or remove it';

describe('JSON body parser', () => {
  test('parses a valid body as JSON.parse does, and skips a byte order mark', () => {
    const text = '{"a":[1,-2.5,1e3,true,null,{"b":"é ✓ 😀"}],"c":"\\u00e9\\n","d":0.1}';
    assert.deepEqual(parse(text), JSON.parse(text));
    assert.deepEqual(parse(bytes([0xef, 0xbb, 0xbf], '{"a":1}')), { a: 1 });
    assert.equal(parse('null'), null);
    assert.equal(parse(' "s" '), 's');
  });

  test('an empty body is KILN_BODY_MISSING', () => {
    assert.deepEqual(refused(''), { code: 'KILN_BODY_MISSING', detail: 'Content-Type is application/json but the body is empty', errors: undefined });
  });

  test('invalid JSON is KILN_BODY_MALFORMED, saying what and where', () => {
    const cases: [string, string][] = [
      ['{"name":', "Object value expected after ':' at line 1, column 9"],
      ['{name: "x"}', "Quoted object key expected but got 'n' at line 1, column 2"],
      ['{"name":"x",}', "Quoted object key expected but got '}' at line 1, column 13"],
      ['undefined', "JSON value expected but got 'u' at line 1, column 1"],
      ['{"a":1,\n "b":[1,2,]\n}', "Array item expected but got ']' at line 2, column 11"],
      ['{"a":1}\n\n  }', "Expected end of input but got '}' at line 3, column 3"],
      ['{"a":01}', "Comma ',' expected after value but got '1' at line 1, column 7"],
      [' ', 'JSON value expected but reached end of input at line 1, column 2'],
    ];
    for (const [body, where] of cases) {
      assert.deepEqual(refused(body), { code: 'KILN_BODY_MALFORMED', detail: `the body is not valid JSON: ${where}`, errors: undefined }, body);
    }
  });

  test('bytes that are not UTF-8 inside strings are KILN_VALIDATION_FAILED naming each string', () => {
    const body = bytes('{"title":"a', [0xff], 'b","tags":["ok","c', [0xc0, 0xaf], '"],"note":"x', [0xe2, 0x82], '"}');
    assert.deepEqual(refused(body), {
      code: 'KILN_VALIDATION_FAILED',
      detail: '3 problems in the request body',
      errors: [
        encoding('/title', '0xFF at byte 11: a byte that never occurs in UTF-8'),
        encoding('/tags/1', '0xC0 0xAF at byte 30: an overlong encoding'),
        encoding('/note', '0xE2 0x82 at byte 44: a truncated multi-byte sequence'),
      ],
    });
  });

  test('one string is named once, with the first bad sequence in it; a bad key is named as its member', () => {
    assert.deepEqual(refused(bytes('{"title":"', [0xed, 0xa0, 0x80], '-', [0xff], '"}')), {
      code: 'KILN_VALIDATION_FAILED',
      detail:
        '/title: holds bytes that are not valid UTF-8 (0xED 0xA0 0x80 at byte 10: an encoded surrogate (U+D800 to U+DFFF)); send the text encoded as UTF-8',
      errors: [encoding('/title', '0xED 0xA0 0x80 at byte 10: an encoded surrogate (U+D800 to U+DFFF)')],
    });
    assert.deepEqual(refused(bytes('{"a/b":{"k', [0xfe], '~":1}}')).errors, [
      {
        path: '/a~1b/k\ufffd~0',
        code: 'encoding',
        message: 'this key holds bytes that are not valid UTF-8 (0xFE at byte 10: a byte that never occurs in UTF-8); send the text encoded as UTF-8',
      },
    ]);
    assert.deepEqual(refused(bytes('"', [0x80], '"')).errors, [encoding('/', '0x80 at byte 1: a continuation byte without a lead byte')]);
  });

  test('bytes that are not UTF-8 outside strings make the body malformed', () => {
    assert.deepEqual(refused(bytes('{"a":', [0xff], '}')), {
      code: 'KILN_BODY_MALFORMED',
      detail: "the body is not valid JSON: Object value expected after ':' at line 1, column 6",
      errors: undefined,
    });
  });

  test('each kind of invalid UTF-8 is told apart', () => {
    const cases: [number[], { offset: number; length: number; reason: string }[]][] = [
      [[0xc3, 0xa9, 0xe2, 0x9c, 0x93, 0xf0, 0x9f, 0x98, 0x80], []],
      [[0xc1, 0xbf], [{ offset: 0, length: 2, reason: 'an overlong encoding' }]],
      [[0xe0, 0x80, 0xaf], [{ offset: 0, length: 3, reason: 'an overlong encoding' }]],
      [[0xf0, 0x80, 0x80, 0xaf], [{ offset: 0, length: 4, reason: 'an overlong encoding' }]],
      [[0xf4, 0x90, 0x80, 0x80], [{ offset: 0, length: 4, reason: 'a code point above U+10FFFF' }]],
      [[0xf5, 0x80], [{ offset: 0, length: 2, reason: 'a byte that never occurs in UTF-8' }]],
      [[0x41, 0xe2, 0x82, 0x41], [{ offset: 1, length: 2, reason: 'a truncated multi-byte sequence' }]],
      [
        [0xc3, 0x41, 0xbf],
        [
          { offset: 0, length: 1, reason: 'a truncated multi-byte sequence' },
          { offset: 2, length: 1, reason: 'a continuation byte without a lead byte' },
        ],
      ],
      [[0xf0, 0x9f, 0x98], [{ offset: 0, length: 3, reason: 'a truncated multi-byte sequence' }]],
    ];
    for (const [input, faults] of cases) assert.deepEqual(utf8Faults(Uint8Array.from(input)), faults, input.map((b) => b.toString(16)).join(' '));
  });

  test('__proto__ keys, and constructor keys holding prototype, are refused wherever they are', () => {
    assert.deepEqual(refused('{"name":"x","__proto__":{"admin":true}}'), {
      code: 'KILN_VALIDATION_FAILED',
      detail: `/__proto__: ${PROTO}`,
      errors: [{ path: '/__proto__', code: 'forbiddenKey', message: PROTO }],
    });
    assert.deepEqual(refused('{"a":[{"b":{"__proto__":1}}],"constructor":{"prototype":{"x":1}},"\\u005f_pr\\u006fto__":2}').errors, [
      { path: '/a/0/b/__proto__', code: 'forbiddenKey', message: PROTO },
      { path: '/constructor', code: 'forbiddenKey', message: CONSTRUCTOR },
      { path: '/__proto__', code: 'forbiddenKey', message: PROTO },
    ]);
    assert.deepEqual(refused('[{"x":{"constructor":{"prototype":null}}}]').errors, [{ path: '/0/x/constructor', code: 'forbiddenKey', message: CONSTRUCTOR }]);
  });

  test('the same words elsewhere are accepted', () => {
    const text = '{"name":"__proto__","constructor":{"x":1},"prototype":"constructor","k":["__proto__"]}';
    const value = parse(text) as Record<string, unknown>;
    assert.deepEqual(value, JSON.parse(text));
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
  });

  test('a number of more than 15 significant digits is an ExactNumber holding its text', () => {
    const value = parse(
      '{"big":9007199254740993,"d":2.0000000000000001,"neg":-12345678.123456789,"e":1.2345678901234567e5,"n":[1,{"x":12345678901234567890}],"split":1234567.123456789}',
    );
    assert.deepEqual(value, {
      big: new ExactNumber('9007199254740993'),
      d: new ExactNumber('2.0000000000000001'),
      neg: new ExactNumber('-12345678.123456789'),
      e: new ExactNumber('1.2345678901234567e5'),
      n: [1, { x: new ExactNumber('12345678901234567890') }],
      split: new ExactNumber('1234567.123456789'),
    });
  });

  test('up to 15 significant digits, leading zeros not counted, a number stays a number', () => {
    const text = '{"a":123456789012345,"b":0.000000000000000123,"c":1.23456789012345e300,"s":"12345678901234567890","t":-0.1234567890}';
    assert.deepEqual(parse(text), JSON.parse(text));
    const timestamps = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ at: 1705312800000 + i, v: 1234567.12345678 })));
    assert.deepEqual(parse(timestamps), JSON.parse(timestamps));
  });

  test('on the exact path a duplicate key keeps its last value, as JSON.parse does', () => {
    assert.deepEqual(parse('{"a":1,"a":12345678901234567,"b":[1],"b":[2]}'), { a: new ExactNumber('12345678901234567'), b: [2] });
  });

  test('nesting deeper than 64 levels is refused before anything walks the value; brackets inside strings do not count', () => {
    const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    assert.ok(Array.isArray(parse(nested(64))));
    for (const depth of [65, 50_000]) {
      assert.deepEqual(refused(nested(depth)), {
        code: 'KILN_BODY_MALFORMED',
        detail: 'the body nests arrays and objects more than 64 levels deep; send a flatter document',
        errors: undefined,
      });
    }
    const text = `${'['.repeat(100)}\\"${'{'.repeat(100)}`;
    assert.deepEqual(parse(JSON.stringify({ a: text })), { a: text });
  });

  test('a lone surrogate written as an escape is left to the core validation (it is well-formed JSON)', () => {
    assert.equal(parse('"x\\ud800y"'), 'x\ud800y');
  });
});
