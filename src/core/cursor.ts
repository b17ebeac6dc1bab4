import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KilnError } from './errors.js';

/**
 * Opaque keyset cursors: the sort signature and the last row's sort values, signed with HMAC so a
 * client cannot forge a position (and so cannot probe rows through crafted values).
 */
export class CursorCodec {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = secret ? Buffer.from(secret) : randomBytes(32);
  }

  encode(sortSignature: string, values: readonly unknown[]): string {
    const payload = Buffer.from(JSON.stringify({ s: sortSignature, v: values })).toString('base64url');
    return `${payload}.${this.#sign(payload)}`;
  }

  decode(cursor: string, sortSignature: string): unknown[] {
    const [payload, signature, extra] = cursor.split('.');
    if (!payload || !signature || extra !== undefined || !this.#verify(payload, signature)) {
      throw invalid('the cursor is not one this server issued, or it was altered');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid('the cursor is not readable');
    }
    const { s, v } = parsed as { s?: unknown; v?: unknown };
    if (s !== sortSignature) throw invalid('the cursor was issued for another sort order or resource; pass the same `sort` as the first page');
    if (!Array.isArray(v)) throw invalid('the cursor is not readable');
    return v;
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url').slice(0, 22);
  }

  #verify(payload: string, signature: string): boolean {
    const expected = Buffer.from(this.#sign(payload));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

function invalid(detail: string): KilnError {
  return new KilnError('KILN_CURSOR_INVALID', { detail, errors: [{ path: 'cursor', code: 'invalid', message: detail }] });
}
