/**
 * Access tokens: short-lived JWTs (RFC 9068 profile, `typ: at+jwt`) issued and verified with jose.
 * Signed with HS256 and KILN_AUTH_JWT_SECRET, or with the private keys of KILN_AUTH_JWT_KEYS (RS256,
 * ES256, EdDSA), whose public halves are served at /.well-known/jwks.json. Verification pins the
 * algorithms, requires `typ`, `iss`, `aud`, `exp`, `iat` and `sub`, allows KILN_AUTH_CLOCK_SKEW_S, and
 * takes keys only from configuration: a `jku`, `x5u` or embedded `jwk` in a token is never used.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, importJWK, type JWK, type JWTPayload, jwtVerify, type KeyObject, SignJWT } from 'jose';
import type { Settings } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import { KilnError } from '../core/errors.js';
import type { Account } from './account-store.js';

export const ACCESS_TOKEN_TYPE = 'at+jwt';
const ASYMMETRIC = ['RS256', 'ES256', 'EdDSA'] as const;
const MIN_SECRET_BYTES = 32;

type Key = CryptoKey | KeyObject | Uint8Array;
interface SigningKey {
  readonly kid?: string;
  readonly alg: string;
  readonly key: Key;
}

/** What a verified access token says about its caller. */
export interface AccessClaims {
  readonly sub: string;
  readonly roles: readonly string[];
  readonly exp: number;
}

export class AccessTokens {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  readonly #signer: SigningKey;
  readonly #verifiers: ReadonlyMap<string | undefined, SigningKey>;
  readonly #algorithms: string[];
  readonly #clockSkew: number;
  readonly #publicJwks: readonly JWK[];

  private constructor(settings: Settings, signer: SigningKey, verifiers: readonly SigningKey[], publicJwks: readonly JWK[]) {
    this.issuer = settings.authIssuer || settings.publicUrl || 'kiln';
    this.audience = settings.authAudience;
    this.ttlSeconds = settings.authAccessTtlS;
    this.#clockSkew = settings.authClockSkewS;
    this.#signer = signer;
    this.#verifiers = new Map(verifiers.map((k) => [k.kid, k]));
    this.#algorithms = [...new Set(verifiers.map((k) => k.alg))];
    this.#publicJwks = publicJwks;
  }

  /** The keys of the settings; a missing or weak secret stops the start with what to set. */
  static async fromSettings(settings: Settings): Promise<AccessTokens> {
    if (settings.authJwtKeys) return AccessTokens.#fromKeyFile(settings);
    const secret = settings.authJwtSecret || embeddedSecret(settings);
    if (!secret) {
      throw new StartupError(
        'the model declares accounts, so access tokens need a signing key, shared by every instance: set KILN_AUTH_JWT_SECRET to at least 32 random bytes (e.g. `openssl rand -base64 48`), or KILN_AUTH_JWT_KEYS to a JSON Web Key Set file',
      );
    }
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
      throw new StartupError(`KILN_AUTH_JWT_SECRET is too short: HS256 needs at least ${MIN_SECRET_BYTES} bytes (e.g. \`openssl rand -base64 48\`)`);
    }
    const key: SigningKey = { alg: 'HS256', key: new TextEncoder().encode(secret) };
    return new AccessTokens(settings, key, [key], []);
  }

  static async #fromKeyFile(settings: Settings): Promise<AccessTokens> {
    const file = settings.authJwtKeys;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new StartupError(`KILN_AUTH_JWT_KEYS: cannot read ${file} as JSON: ${(error as Error).message}`);
    }
    const keys = (parsed as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0) throw new StartupError(`KILN_AUTH_JWT_KEYS: ${file} must be a JSON Web Key Set: { "keys": [ … ] }`);
    const signing: SigningKey[] = [];
    const publicJwks: JWK[] = [];
    for (const [i, jwk] of (keys as JWK[]).entries()) {
      const where = `KILN_AUTH_JWT_KEYS: key ${i}`;
      if (!jwk.kid) throw new StartupError(`${where} has no "kid": give every key an id, so tokens name the key that signed them`);
      if (!ASYMMETRIC.includes(jwk.alg as (typeof ASYMMETRIC)[number])) {
        throw new StartupError(`${where} (${jwk.kid}): "alg" must be one of ${ASYMMETRIC.join(', ')}, not ${JSON.stringify(jwk.alg)}`);
      }
      if (!jwk.d) throw new StartupError(`${where} (${jwk.kid}) is a public key: the set holds private keys (the public halves are published from them)`);
      if (signing.some((k) => k.kid === jwk.kid)) throw new StartupError(`${where}: the kid ${jwk.kid} is used twice`);
      let key: Key;
      try {
        key = await importJWK(jwk, jwk.alg);
      } catch (error) {
        throw new StartupError(`${where} (${jwk.kid}) cannot be used: ${(error as Error).message}`);
      }
      signing.push({ kid: jwk.kid, alg: jwk.alg as string, key });
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = jwk;
      publicJwks.push({ ...publicPart, use: 'sig' });
    }
    const verifiers = await Promise.all(
      publicJwks.map(async (jwk) => ({ kid: jwk.kid, alg: jwk.alg as string, key: await importJWK(jwk, jwk.alg) }) satisfies SigningKey),
    );
    return new AccessTokens(settings, signing[0] as SigningKey, verifiers, publicJwks);
  }

  /** The public keys, for /.well-known/jwks.json (empty with HS256: a shared secret is never published). */
  jwks(): { keys: JWK[] } {
    return { keys: this.#publicJwks.map((k) => ({ ...k })) };
  }

  /** A new access token for an account. */
  async issue(account: Pick<Account, 'id' | 'roles'>): Promise<{ accessToken: string; expiresIn: number }> {
    const header = { alg: this.#signer.alg, typ: ACCESS_TOKEN_TYPE, ...(this.#signer.kid && { kid: this.#signer.kid }) };
    const accessToken = await new SignJWT({ roles: [...account.roles] })
      .setProtectedHeader(header)
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(account.id)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.#signer.key);
    return { accessToken, expiresIn: this.ttlSeconds };
  }

  /** The claims of a token Kiln issued; 401 KILN_UNAUTHENTICATED for any other. */
  async verify(token: string): Promise<AccessClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        (header) => {
          const key = this.#verifiers.get(header.kid);
          if (!key || key.alg !== header.alg) throw new Error('unknown key');
          return key.key;
        },
        {
          algorithms: this.#algorithms,
          issuer: this.issuer,
          audience: this.audience,
          typ: ACCESS_TOKEN_TYPE,
          clockTolerance: this.#clockSkew,
          requiredClaims: ['exp', 'iat', 'sub'],
        },
      ));
    } catch {
      throw invalidToken('the access token is invalid or expired; refresh it or sign in again');
    }
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + this.#clockSkew) throw invalidToken('the access token was issued in the future');
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
    return { sub: payload.sub as string, roles, exp: payload.exp as number };
  }
}

/**
 * On the embedded database, without a configured secret, one is made and kept beside the data (in
 * memory with the data, or in KILN_DATA_DIR/auth-secret, readable only by its owner): the quick start
 * needs no setting, and tokens outlive a restart exactly as long as the data does. On PostgreSQL the
 * secret must be configured, since every instance must share it.
 */
function embeddedSecret(settings: Settings): string | undefined {
  if (settings.databaseUrl) return undefined;
  if (settings.dataDir === 'memory') return randomBytes(48).toString('base64url');
  const file = join(settings.dataDir, 'auth-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(settings.dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** 401 for a credential that was sent but cannot be accepted (RFC 6750 `invalid_token`). */
export function invalidToken(detail: string): KilnError {
  return new KilnError('KILN_UNAUTHENTICATED', { detail, headers: { 'www-authenticate': 'Bearer realm="kiln", error="invalid_token"' } });
}
