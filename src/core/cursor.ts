import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KilnError } from './errors.js';
import { FIXED_LIMITS } from './limits.js';

/** Where a page starts: after these sort values, or after the row with this id (see encode). */
export type Position = { readonly after: readonly unknown[] } | { readonly anchor: unknown };

/**
 * Opaque keyset cursors: the sort signature and the last row's sort values, signed with HMAC so a
 * client cannot forge a position (and so cannot probe rows through crafted values).
 */
export class CursorCodec {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = secret ? Buffer.from(secret) : randomBytes(32);
  }

  /**
   * The cursor after the row with `values` (its sort values) and `id`. Sort values that would make it
   * longer than clients may send back (FIXED_LIMITS.cursorLength: long text sort keys) are replaced by
   * the row's id, an anchor whose sort values are read again when the next page is asked for.
   */
  encode(binding: string, values: readonly unknown[], id: unknown): string {
    const cursor = this.#seal({ s: binding, v: values });
    return cursor.length <= FIXED_LIMITS.cursorLength ? cursor : this.#seal({ s: binding, a: id });
  }

  /** `binding`: the list's sort signature and caller (ListQuery.cursorBinding); a cursor issued for another is refused. */
  decode(cursor: string, binding: string): Position {
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
    const { s, v, a } = parsed as { s?: unknown; v?: unknown; a?: unknown };
    if (s !== binding) {
      const sameList = typeof s === 'string' && s.split('@')[0] === binding.split('@')[0];
      throw invalid(
        sameList
          ? 'the cursor was issued to another caller; page with the cursors your own requests were given'
          : 'the cursor was issued for another sort order or resource; pass the same `sort` as the first page',
      );
    }
    if (Array.isArray(v)) return { after: v };
    if (a !== undefined && a !== null) return { anchor: a };
    throw invalid('the cursor is not readable');
  }

  #seal(content: object): string {
    const payload = Buffer.from(JSON.stringify(content)).toString('base64url');
    return `${payload}.${this.#sign(payload)}`;
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

export function invalid(detail: string): KilnError {
  return new KilnError('KILN_CURSOR_INVALID', { detail, errors: [{ path: 'cursor', code: 'invalid', message: detail }] });
}
