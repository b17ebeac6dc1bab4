/**
 * Cursor keys: a cursor names the key that signed it, so the key can be rotated without breaking the
 * pages clients are reading: the previous keys still verify, only the current one signs, and a key
 * that was removed is refused with a message that says what to do.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CursorCodec } from '../../src/core/cursor.js';
import { KilnError } from '../../src/core/errors.js';

const BINDING = 'posts:id@anonymous';

function refused(codec: CursorCodec, cursor: string, detail: string): void {
  assert.throws(
    () => codec.decode(cursor, BINDING),
    (error: unknown) => error instanceof KilnError && error.code === 'KILN_CURSOR_INVALID' && error.detail === detail,
  );
}

describe('cursor signing keys', () => {
  const old = new CursorCodec('the-old-cursor-key-0123456789abcdef');

  test('a cursor is accepted by every codec of the same key: instances that share KILN_CURSOR_SECRET', () => {
    const other = new CursorCodec('the-old-cursor-key-0123456789abcdef');
    assert.deepEqual(other.decode(old.encode(BINDING, [3], 3), BINDING), { after: [3] });
  });

  test('after a rotation the previous key still verifies the cursors it signed; the new key signs', () => {
    const rotated = new CursorCodec('the-new-cursor-key-0123456789abcdef', ['the-old-cursor-key-0123456789abcdef']);
    assert.deepEqual(rotated.decode(old.encode(BINDING, [7], 7), BINDING), { after: [7] });
    const fresh = rotated.encode(BINDING, [8], 8);
    assert.notEqual(fresh.split('.')[0], old.encode(BINDING, [8], 8).split('.')[0], 'the cursor names another key');
    refused(old, fresh, 'the cursor was signed with a key this server no longer accepts; start again from the first page');
  });

  test('a key removed from the settings is refused, with what to do', () => {
    const later = new CursorCodec('the-new-cursor-key-0123456789abcdef');
    refused(later, old.encode(BINDING, [1], 1), 'the cursor was signed with a key this server no longer accepts; start again from the first page');
  });

  test('the key id says nothing of the key: it is not the key, nor any part of it', () => {
    const [keyId] = old.encode(BINDING, [1], 1).split('.') as [string];
    assert.match(keyId, /^[A-Za-z0-9_-]{8}$/);
    assert.ok(!'the-old-cursor-key-0123456789abcdef'.includes(keyId));
  });

  test('a cursor whose key id was changed to another accepted key fails its signature', () => {
    const both = new CursorCodec('the-new-cursor-key-0123456789abcdef', ['the-old-cursor-key-0123456789abcdef']);
    const [, payload, signature] = old.encode(BINDING, [2], 2).split('.');
    const [newKeyId] = both.encode(BINDING, [2], 2).split('.');
    refused(both, `${newKeyId}.${payload}.${signature}`, 'the cursor is not one this server issued, or it was altered');
  });

  test('a cursor of the former shape (no key id) is refused as not issued here', () => {
    const [, payload, signature] = old.encode(BINDING, [2], 2).split('.');
    refused(old, `${payload}.${signature}`, 'the cursor is not one this server issued, or it was altered');
  });
});
