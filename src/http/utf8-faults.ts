import type { FieldError } from '../core/errors.js';

/** One sequence of bytes that is not UTF-8: where it starts in the body, how long it is, what is wrong. */
export interface Utf8Fault {
  readonly offset: number;
  readonly length: number;
  readonly reason: string;
}

const isContinuation = (byte: number | undefined): boolean => byte !== undefined && byte >= 0x80 && byte <= 0xbf;

/**
 * Every invalid sequence in `bytes`, by the table of well-formed UTF-8 (Unicode 15, table 3-7). Only
 * called for a body `isUtf8` refused, to say what is wrong with it; the valid case never comes here.
 */
export function utf8Faults(bytes: Uint8Array): Utf8Fault[] {
  const faults: Utf8Fault[] = [];
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const shape = leadShape(lead);
    if (typeof shape === 'string') {
      // A lead byte that is never valid: take the continuation bytes that follow with it.
      let length = 1;
      while (length < 4 && isContinuation(bytes[i + length])) length++;
      faults.push({ offset: i, length: lead >= 0xc0 ? length : 1, reason: shape });
      i += lead >= 0xc0 ? length : 1;
      continue;
    }
    const [count, low, high, outOfRange] = shape;
    const second = bytes[i + 1];
    if (!isContinuation(second)) {
      faults.push({ offset: i, length: 1, reason: 'a truncated multi-byte sequence' });
      i += 1;
      continue;
    }
    if ((second as number) < low || (second as number) > high) {
      let length = 2;
      while (length <= count && isContinuation(bytes[i + length])) length++;
      faults.push({ offset: i, length, reason: outOfRange });
      i += length;
      continue;
    }
    let length = 2;
    while (length <= count && isContinuation(bytes[i + length])) length++;
    if (length <= count) faults.push({ offset: i, length, reason: 'a truncated multi-byte sequence' });
    i += length;
  }
  return faults;
}

/**
 * How many continuation bytes a lead byte takes and the range its first one must be in (what a
 * byte outside that range means), or why the lead byte is never valid.
 */
function leadShape(lead: number): [count: number, low: number, high: number, outOfRange: string] | string {
  if (lead <= 0xbf) return 'a continuation byte without a lead byte';
  if (lead <= 0xc1) return 'an overlong encoding';
  if (lead <= 0xdf) return [1, 0x80, 0xbf, ''];
  if (lead === 0xe0) return [2, 0xa0, 0xbf, 'an overlong encoding'];
  if (lead === 0xed) return [2, 0x80, 0x9f, 'an encoded surrogate (U+D800 to U+DFFF)'];
  if (lead <= 0xef) return [2, 0x80, 0xbf, ''];
  if (lead === 0xf0) return [3, 0x90, 0xbf, 'an overlong encoding'];
  if (lead <= 0xf3) return [3, 0x80, 0xbf, ''];
  if (lead === 0xf4) return [3, 0x80, 0x8f, 'a code point above U+10FFFF'];
  return 'a byte that never occurs in UTF-8';
}

type Frame = { kind: 'object'; key: string; expectKey: boolean } | { kind: 'array'; index: number };

/**
 * The strings of a JSON body (already known to be valid JSON once decoded) that hold invalid UTF-8,
 * each named by its JSON pointer. The scan walks the raw bytes: every byte of JSON's structure is
 * ASCII, and every byte of a multi-byte or invalid sequence is 0x80 or above, so they cannot be mistaken.
 */
export function encodingProblems(bytes: Buffer): FieldError[] {
  const faults = utf8Faults(bytes);
  const problems: FieldError[] = [];
  const frames: Frame[] = [];
  let next = 0;
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // a byte order mark
  while (i < bytes.length && next < faults.length) {
    const byte = bytes[i] as number;
    const top = frames.at(-1);
    if (byte === 0x22) {
      const end = closingQuote(bytes, i);
      const isKey = top?.kind === 'object' && top.expectKey;
      if (isKey) top.key = JSON.parse(bytes.toString('utf8', i, end + 1)) as string;
      while (next < faults.length && (faults[next] as Utf8Fault).offset < i) next++;
      const fault = faults[next];
      if (fault && fault.offset < end) {
        const what = `${isKey ? 'this key holds' : 'holds'} bytes that are not valid UTF-8 (${describe(bytes, fault)})`;
        const message = `${what}; send the text encoded as UTF-8`;
        problems.push({ path: pointer(frames), code: 'encoding', message });
        while (next < faults.length && (faults[next] as Utf8Fault).offset < end) next++;
      }
      i = end + 1;
      continue;
    }
    if (byte === 0x7b) frames.push({ kind: 'object', key: '', expectKey: true });
    else if (byte === 0x5b) frames.push({ kind: 'array', index: 0 });
    else if (byte === 0x7d || byte === 0x5d) frames.pop();
    else if (byte === 0x3a && top?.kind === 'object') top.expectKey = false;
    else if (byte === 0x2c && top?.kind === 'object') top.expectKey = true;
    else if (byte === 0x2c && top?.kind === 'array') top.index++;
    i++;
  }
  return problems;
}

/** Index of the quote that ends the string starting at `start`. */
function closingQuote(bytes: Uint8Array, start: number): number {
  let i = start + 1;
  while (i < bytes.length && bytes[i] !== 0x22) i += bytes[i] === 0x5c ? 2 : 1;
  return i;
}

function describe(bytes: Uint8Array, fault: Utf8Fault): string {
  const shown = Array.from(bytes.subarray(fault.offset, fault.offset + fault.length), (b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`);
  return `${shown.join(' ')} at byte ${fault.offset}: ${fault.reason}`;
}

/** RFC 6901: `~` and `/` in a key are escaped. */
export function pointerSegment(key: string | number): string {
  return typeof key === 'number' ? String(key) : key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function pointer(frames: readonly Frame[]): string {
  if (frames.length === 0) return '/';
  return frames.map((f) => `/${pointerSegment(f.kind === 'object' ? f.key : f.index)}`).join('');
}
