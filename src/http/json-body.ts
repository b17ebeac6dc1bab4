import { isUtf8 } from 'node:buffer';
import { parse as parseLossless } from 'lossless-json';
import { type FieldError, KilnError } from '../core/errors.js';
import { ExactNumber } from '../core/exact-number.js';
import { FIXED_LIMITS } from '../core/limits.js';
import { encodingProblems, pointerSegment } from './utf8-faults.js';

/**
 * The request body parser for `application/json`, in place of Fastify's. On top of JSON.parse it
 * refuses what JSON.parse would let through silently changed or dangerous:
 * - bytes that are not UTF-8 (decoding would store U+FFFD in their place), named by the JSON pointer
 *   of each string holding them;
 * - `__proto__` keys, and `constructor` keys holding `prototype` (prototype pollution, as Fastify's
 *   secure-json-parse refuses them), named by their pointer;
 * - nothing exact is lost: a number with more significant digits than a double keeps (more than 15)
 *   is handed over as an `ExactNumber` holding its text, so decimals and bigints are checked exactly.
 *
 * Every write goes through here, so the common case stays JSON.parse plus two regular-expression
 * scans of the text; the slower steps (lossless-json, walking the value) run only on a hit.
 */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new KilnError('KILN_BODY_MISSING', { detail: 'Content-Type is application/json but the body is empty' });
  const valid = isUtf8(body);
  let text = body.toString('utf8');
  // RFC 8259 §8.1 lets a parser ignore a byte order mark; Fastify's parser did, so clients may send one.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(text);
  }
  if (tooDeep(text)) {
    throw new KilnError('KILN_BODY_MALFORMED', {
      detail: `the body nests arrays and objects more than ${FIXED_LIMITS.jsonDepth} levels deep; send a flatter document`,
    });
  }
  const problems = valid ? [] : encodingProblems(body);
  if (RISKY_KEY.test(text)) problems.push(...prototypeKeys(value));
  if (problems.length > 0) throw validationFailed(problems);
  return hasLongNumber(text) ? withExactNumbers(text) : value;
}

/**
 * Whether arrays and objects nest deeper than FIXED_LIMITS.jsonDepth. JSON.parse accepts any depth,
 * but every later step that walks a value (validation, fingerprints, serialisation) recurses, and a
 * body nested thousands deep would exhaust the stack there. One pass over the text, brackets inside
 * strings skipped.
 */
function tooDeep(text: string): boolean {
  const limit = FIXED_LIMITS.jsonDepth;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Eight digits in a row, written out: a number with more than 15 significant digits has at least 16
 * digits and at most one dot, so it holds such a run. Written out rather than as `\d{8}`, V8 skips
 * ahead through the text on it (Boyer-Moore), about ten times faster on a body full of short numbers.
 */
const DIGIT_RUN = /\d\d\d\d\d\d\d\d/g;

/** Whether the text has a number of more than 15 significant digits; digits inside strings count too, which costs only the exact parse. */
function hasLongNumber(text: string): boolean {
  DIGIT_RUN.lastIndex = 0;
  // test() rather than exec(): no match array to allocate, on bodies full of timestamps in milliseconds.
  while (DIGIT_RUN.test(text)) {
    let end = DIGIT_RUN.lastIndex;
    let start = end - 8;
    while (start > 0 && isDigitOrDot(text.charCodeAt(start - 1))) start--;
    while (end < text.length && isDigitOrDot(text.charCodeAt(end))) end++;
    if (end - start > DOUBLE_DIGITS && significantDigits(text, start, end) > DOUBLE_DIGITS) return true;
    DIGIT_RUN.lastIndex = end;
  }
  return false;
}

const isDigitOrDot = (c: number): boolean => (c >= 0x30 && c <= 0x39) || c === 0x2e;

/**
 * A key that decodes to `__proto__` or `constructor` is either written plainly, or has at least one
 * character written as a \u escape, and all of its characters are `_` (5F) or lower-case letters (6x, 7x).
 */
const RISKY_KEY = /__proto__|constructor|\\u00(?:5[fF]|[67][0-9a-fA-F])/;

/** The most significant digits a double keeps exactly (DBL_DIG): a decimal of up to 15 survives a round trip. */
const DOUBLE_DIGITS = 15;

/** Digits of `text[start, end)` before any exponent, leading zeros not counted. */
function significantDigits(text: string, start: number, end: number): number {
  let count = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x65 || c === 0x45) break; // the exponent
    if (c >= 0x30 && c <= 0x39 && (count > 0 || c !== 0x30)) count++;
  }
  return count;
}

function exactNumber(number: string): number | ExactNumber {
  return significantDigits(number, 0, number.length) > DOUBLE_DIGITS ? new ExactNumber(number) : Number(number);
}

/** The body again, parsed by lossless-json, with long numbers kept as their text. Duplicate keys: the last wins, as in JSON.parse. */
function withExactNumbers(text: string): unknown {
  try {
    return parseLossless(text, null, { parseNumber: exactNumber, onDuplicateKey: ({ newValue }) => newValue });
  } catch (error) {
    // lossless-json recurses once per level of nesting; JSON.parse does not.
    if (error instanceof RangeError) throw new KilnError('KILN_BODY_MALFORMED', { detail: 'the body nests arrays and objects too deeply to be read' });
    throw error;
  }
}

/**
 * Invalid JSON, with where it went wrong. V8's messages say where only for some errors, so the text is
 * read again by lossless-json, whose messages always end with the position.
 */
function malformed(text: string): KilnError {
  let reason = '';
  try {
    parseLossless(text, null, { parseNumber: () => 0, onDuplicateKey: ({ newValue }) => newValue });
  } catch (error) {
    const match = error instanceof SyntaxError ? /^(.*) at position (\d+)$/s.exec(error.message) : null;
    if (match) reason = `: ${match[1]} at ${lineAndColumn(text, Number(match[2]))}`;
  }
  return new KilnError('KILN_BODY_MALFORMED', { detail: `the body is not valid JSON${reason}` });
}

function lineAndColumn(text: string, position: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${position - lineStart + 1}`;
}

/**
 * Every `__proto__` key, and every `constructor` key whose value holds `prototype`, in document order.
 * Walked with a stack of its own rather than recursion: JSON.parse accepts any depth of nesting.
 */
function prototypeKeys(value: unknown): FieldError[] {
  const problems: FieldError[] = [];
  const pending: { key: string | number | undefined; node: unknown; path: string }[] = [{ key: undefined, node: value, path: '' }];
  for (let entry = pending.pop(); entry; entry = pending.pop()) {
    const { key, node, path } = entry;
    if (key === '__proto__') {
      problems.push({
        path,
        code: 'forbiddenKey',
        message: 'the key "__proto__" is refused, as it could change the prototype of objects; rename or remove it',
      });
    } else if (key === 'constructor' && typeof node === 'object' && node !== null && Object.hasOwn(node, 'prototype')) {
      problems.push({
        path,
        code: 'forbiddenKey',
        message: 'a "constructor" key holding "prototype" is refused, as it could change the prototype of objects; rename or remove it',
      });
    }
    if (typeof node !== 'object' || node === null) continue;
    const keys: (string | number)[] = Array.isArray(node) ? [...node.keys()] : Object.keys(node);
    for (let i = keys.length - 1; i >= 0; i--) {
      const child = keys[i] as string | number;
      pending.push({ key: child, node: (node as Record<string | number, unknown>)[child], path: `${path}/${pointerSegment(child)}` });
    }
  }
  return problems;
}

function validationFailed(errors: readonly FieldError[]): KilnError {
  const [first] = errors;
  const detail = errors.length === 1 && first ? `${first.path}: ${first.message}` : `${errors.length} problems in the request body`;
  return new KilnError('KILN_VALIDATION_FAILED', { detail, errors });
}
