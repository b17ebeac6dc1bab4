/**
 * Random secrets and how they are kept. Every secret Kiln hands out (refresh tokens, session ids,
 * API keys, one-time tokens) is 32 random bytes in base64url, and only its SHA-256 is stored: the
 * secret has enough entropy that a plain hash cannot be reversed, and lookups stay one index probe.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url (43 characters). */
export function newSecret(prefix = ''): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** The stored form of a secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** Compares two strings in time independent of where they differ. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
