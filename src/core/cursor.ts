import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KilnError } from './errors.js';
import { FIXED_LIMITS } from './limits.js';

/** Where a page starts: after these sort values, or after the row with this id (see encode). */
export type Position = { readonly after: readonly unknown[] } | { readonly anchor: unknown };

/**
 * Opaque keyset cursors: the sort signature and the last row's sort values, signed with HMAC so a
 * client cannot forge a position (and so cannot probe rows through crafted values). A cursor names the
 * key that signed it, so keys can be rotated: the current key signs, previous keys still verify the
 * cursors they signed until they are removed from the settings.
 */
export class CursorCodec {
  readonly #current: SigningKey;
  readonly #keys: ReadonlyMap<string, SigningKey>;

  /** `secret`: the current key (empty: a random one for this process only); `previous`: retired keys still accepted. */
  constructor(secret: string, previous: readonly string[] = []) {
    this.#current = signingKey(secret ? Buffer.from(secret) : randomBytes(32));
    const keys = new Map<string, SigningKey>();
    for (const old of previous.filter(Boolean).map((p) => signingKey(Buffer.from(p)))) keys.set(old.id, old);
    keys.set(this.#current.id, this.#current);
    this.#keys = keys;
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
    const [keyId, payload, signature, extra] = cursor.split('.');
    if (!keyId || !payload || !signature || extra !== undefined) throw invalid('the cursor is not one this server issued, or it was altered');
    const key = this.#keys.get(keyId);
    if (!key) throw invalid('the cursor was signed with a key this server no longer accepts; start again from the first page');
    if (!verify(key, payload, signature)) throw invalid('the cursor is not one this server issued, or it was altered');
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
    return `${this.#current.id}.${payload}.${sign(this.#current, payload)}`;
  }
}

interface SigningKey {
  /** Names the key in the cursors it signs: a digest of it, which tells nothing of the key itself. */
  readonly id: string;
  readonly secret: Buffer;
}

function signingKey(secret: Buffer): SigningKey {
  return { id: createHash('sha256').update('kiln-cursor-key').update(secret).digest('base64url').slice(0, 8), secret };
}

function sign(key: SigningKey, payload: string): string {
  return createHmac('sha256', key.secret).update(payload).digest('base64url').slice(0, 22);
}

function verify(key: SigningKey, payload: string, signature: string): boolean {
  const expected = Buffer.from(sign(key, payload));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function invalid(detail: string): KilnError {
  return new KilnError('KILN_CURSOR_INVALID', { detail, errors: [{ path: 'cursor', code: 'invalid', message: detail }] });
}
