import crypto from 'node:crypto';

/** SHA-1 in base64url. `crypto.hash` (Node ≥ 20.12) digests in one call, without a Hash object. */
const sha1: (body: string) => string =
  typeof crypto.hash === 'function' ? (body) => crypto.hash('sha1', body, 'base64url') : (body) => crypto.createHash('sha1').update(body).digest('base64url');

/** A strong ETag of a serialised representation: equal bytes, equal tag. */
export function etagOf(body: string): string {
  return `"${sha1(body)}"`;
}

function tags(header: string): string[] {
  return header
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const bare = etag.replace(/^W\//, '');
  return tags(header).some((t) => t === '*' || t.replace(/^W\//, '') === bare);
}

/** If-Match uses the strong comparison (RFC 9110 §13.1.1): weak tags never match. */
export function ifMatch(header: string, etag: string): boolean {
  return tags(header).some((t) => t === '*' || t === etag);
}
