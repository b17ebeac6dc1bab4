/**
 * The key set of KILN_AUTH_JWT_KEYS: a JSON Web Key Set file of PRIVATE keys (RS256, ES256 or EdDSA),
 * each named by its `kid`. The first key signs new tokens; every key of the set verifies them, so a
 * key is rotated by putting a new one first and removing the old one once its tokens have expired
 * (`kiln auth keygen --add-to FILE`). Anything doubtful stops the start with what to fix: a key is
 * used only if it can sign a token that its public half then verifies.
 */
import { readFileSync } from 'node:fs';
import { type CryptoKey, importJWK, type JWK, jwtVerify, type KeyObject, SignJWT } from 'jose';
import { StartupError } from '../config/startup-error.js';

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** The members of each key type that are public: everything else (d, p, q, dp, dq, qi, oth, k, …) is not published. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

/** A key as jose takes it. */
export type JoseKey = CryptoKey | KeyObject | Uint8Array;

export interface KeyPair {
  readonly kid: string;
  readonly alg: AsymmetricAlgorithm;
  readonly privateKey: JoseKey;
  readonly publicKey: JoseKey;
  /** What /.well-known/jwks.json shows of the key. */
  readonly publicJwk: JWK;
}

/** The public half of a private JWK, with its kid, alg and `use: sig`: members are copied by name, never filtered out. */
export function publicHalf(jwk: JWK): JWK {
  const members = PUBLIC_MEMBERS[jwk.kty ?? ''] ?? ['kty'];
  const source = jwk as Record<string, unknown>;
  const half: Record<string, unknown> = {};
  for (const name of members) if (source[name] !== undefined) half[name] = source[name];
  return { ...half, kid: jwk.kid, alg: jwk.alg, use: 'sig' };
}

/** The keys of a key set file, first the one that signs; a StartupError names the file, the key and the fix. */
export async function loadKeySet(file: string): Promise<KeyPair[]> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new StartupError(`KILN_AUTH_JWT_KEYS: cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON.parse's message: it quotes the text around the fault, which here is private key material.
    throw new StartupError(`KILN_AUTH_JWT_KEYS: ${file} is not valid JSON (a JSON Web Key Set: { "keys": [ … ] })`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new StartupError(
      `KILN_AUTH_JWT_KEYS: ${file} must be a JSON Web Key Set with at least one key: { "keys": [ … ] } (make one with \`kiln auth keygen\`)`,
    );
  }
  const pairs: KeyPair[] = [];
  for (const [i, jwk] of keys.entries()) {
    const pair = await keyPair(jwk, `KILN_AUTH_JWT_KEYS: key ${i}`);
    if (pairs.some((p) => p.kid === pair.kid)) throw new StartupError(`KILN_AUTH_JWT_KEYS: key ${i}: the kid ${pair.kid} is used twice`);
    pairs.push(pair);
  }
  return pairs;
}

async function keyPair(value: unknown, where: string): Promise<KeyPair> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StartupError(`${where} is not a JSON Web Key (an object)`);
  const jwk = value as JWK;
  if (typeof jwk.kid !== 'string' || jwk.kid === '') {
    throw new StartupError(`${where} has no "kid": give every key an id, so tokens name the key that signed them`);
  }
  const named = `${where} (${jwk.kid})`;
  if (!ASYMMETRIC_ALGORITHMS.includes(jwk.alg as AsymmetricAlgorithm)) {
    const symmetric = jwk.kty === 'oct' || jwk.alg?.startsWith('HS') ? ' (a shared secret belongs in KILN_AUTH_JWT_SECRET, never in a published key set)' : '';
    throw new StartupError(`${named}: "alg" must be one of ${ASYMMETRIC_ALGORITHMS.join(', ')}, not ${JSON.stringify(jwk.alg)}${symmetric}`);
  }
  if (jwk.use !== undefined && jwk.use !== 'sig')
    throw new StartupError(`${named}: "use" is ${JSON.stringify(jwk.use)}; a signing key has "use": "sig" or none`);
  if (!jwk.d) throw new StartupError(`${named} is a public key: the set holds private keys (the public halves are published from them)`);
  const alg = jwk.alg as AsymmetricAlgorithm;
  const publicJwk = publicHalf(jwk);
  const { key_ops: _ops, ext: _ext, ...importable } = jwk;
  let privateKey: JoseKey;
  let publicKey: JoseKey;
  try {
    [privateKey, publicKey] = await Promise.all([importJWK(importable, alg), importJWK(publicJwk, alg)]);
  } catch (error) {
    throw new StartupError(`${named} is not a valid ${alg} private key: ${(error as Error).message}`);
  }
  try {
    await proveHalvesMatch(privateKey, publicKey, alg);
  } catch (error) {
    throw new StartupError(`${named} cannot sign: ${(error as Error).message}`);
  }
  return { kid: jwk.kid, alg, privateKey, publicKey, publicJwk };
}

/** Signs a token and verifies it with the public half: catches halves that do not belong together and keys jose refuses (RSA under 2048 bits). */
async function proveHalvesMatch(privateKey: JoseKey, publicKey: JoseKey, alg: string): Promise<void> {
  const probe = await new SignJWT({}).setProtectedHeader({ alg }).sign(privateKey);
  try {
    await jwtVerify(probe, publicKey, { algorithms: [alg] });
  } catch {
    throw new Error('its private and public members do not belong to the same key');
  }
}
