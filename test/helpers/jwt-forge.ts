/**
 * Tokens as an attacker (or a test) writes them: any header, any payload, any key, signed by hand
 * where jose would refuse to (alg none, an empty HMAC key), so the server is the only one checking.
 */
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactSign, type CryptoKey, exportJWK, generateKeyPair, type JWK } from 'jose';

export const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export type Header = Record<string, unknown>;
export type Claims = Record<string, unknown>;

/** The claims Kiln's access tokens carry, for `sub`, valid now, with overrides (undefined removes a claim). */
export function accessClaims(issuer: string, audience: string, overrides: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000);
  const claims: Claims = { roles: [], iss: issuer, aud: audience, sub: '1', jti: crypto.randomUUID(), iat: now, exp: now + 900, ...overrides };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return claims;
}

/** An HS256 token signed with `secret` (any bytes, even none). */
export function signHs256(secret: string | Uint8Array, header: Header, claims: Claims): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A token signed with an asymmetric private key, with whatever header members (jwk, jku, x5u, kid) the attack needs. */
export async function signWith(key: CryptoKey, header: Header & { alg: string }, claims: Claims): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(header).sign(key);
}

/** The token with its payload swapped for `claims`, keeping the original header and signature. */
export function withPayload(token: string, claims: Claims): string {
  const [header, , signature] = token.split('.');
  return `${header}.${b64url(claims)}.${signature}`;
}

export interface GeneratedKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The private JWK, as it stands in a key set file. */
  readonly jwk: JWK;
  readonly publicJwk: JWK;
}

export async function generateKey(alg: 'ES256' | 'RS256' | 'EdDSA', kid: string): Promise<GeneratedKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid, alg };
  return { kid, alg, privateKey, publicKey, jwk, publicJwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

/** Writes a key set file of these keys into `dir`; returns its path. */
export function writeKeySet(dir: string, name: string, keys: readonly (GeneratedKey | JWK)[]): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ keys: keys.map((k) => ('jwk' in k ? k.jwk : k)) }));
  return file;
}
