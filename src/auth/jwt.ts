/**
 * Access tokens: short-lived JWTs (RFC 9068 profile, `typ: at+jwt`) issued and verified with jose.
 * Signed with HS256 and KILN_AUTH_JWT_SECRET, or with the private keys of KILN_AUTH_JWT_KEYS (RS256,
 * ES256, EdDSA; see jwt-keys.ts), whose public halves are served at /.well-known/jwks.json.
 * Verification pins the algorithms, requires `typ`, `iss`, `aud`, `exp`, `iat` and `sub`, honours
 * `nbf`, allows KILN_AUTH_CLOCK_SKEW_S, and takes keys only from configuration, by `kid`: a header
 * member other than alg, typ and kid (`jku`, `x5u`, an embedded `jwk`, `crit`, …) refuses the token.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { Settings } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import { KilnError } from '../core/errors.js';
import type { Account } from './account-store.js';
import { type JoseKey, type KeyPair, loadKeySet } from './jwt-keys.js';

export const ACCESS_TOKEN_TYPE = 'at+jwt';
const MIN_SECRET_BYTES = 32;
/** The most characters a bearer token may have: a bound on the work spent on one (Kiln's own are a few hundred). */
export const MAX_TOKEN_LENGTH = 8192;
/**
 * The only header members Kiln writes, so the only ones it accepts: a token naming where to fetch or
 * find its key (`jku`, `x5u`, `jwk`, `x5c`) or extensions it must understand (`crit`) is refused
 * before any key is chosen.
 */
const ACCEPTED_HEADER = new Set(['alg', 'typ', 'kid']);
/** One answer for every refused access token: which check failed is for the server to know, not the caller. */
const REFUSED = 'the access token is invalid or expired; refresh it or sign in again';

interface SigningKey {
  readonly kid?: string;
  readonly alg: string;
  readonly key: JoseKey;
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
  /** By kid (undefined for the HS256 secret): a Map, so a kid is only ever compared, never interpreted. */
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

  /** The keys of the settings; a missing or weak secret, or a doubtful key set, stops the start with what to set. */
  static async fromSettings(settings: Settings): Promise<AccessTokens> {
    if (settings.authJwtKeys) {
      const pairs = await loadKeySet(settings.authJwtKeys);
      const first = pairs[0] as KeyPair; // loadKeySet refuses an empty set
      const verifiers = pairs.map((p) => ({ kid: p.kid, alg: p.alg, key: p.publicKey }));
      const signer = { kid: first.kid, alg: first.alg, key: first.privateKey };
      return new AccessTokens(
        settings,
        signer,
        verifiers,
        pairs.map((p) => p.publicJwk),
      );
    }
    const secret = settings.authJwtSecret || embeddedSecret(settings);
    if (!secret) {
      throw new StartupError(
        'the model declares accounts, so access tokens need a signing key, shared by every instance: set KILN_AUTH_JWT_SECRET to at least 32 random bytes (e.g. `openssl rand -base64 48`), or KILN_AUTH_JWT_KEYS to a JSON Web Key Set file',
      );
    }
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
      throw new StartupError(`KILN_AUTH_JWT_SECRET is too short: HS256 needs at least ${MIN_SECRET_BYTES} bytes (e.g. \`openssl rand -base64 48\`)`);
    }
    // Imported once: given the bytes, jose would import them again for every token it signs or verifies.
    const hmac = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    const key: SigningKey = { alg: 'HS256', key: hmac };
    return new AccessTokens(settings, key, [key], []);
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

  /**
   * The claims of a token Kiln issued; 401 KILN_UNAUTHENTICATED, with one detail whatever the reason,
   * for any other. jose pins the algorithms and checks the signature, `typ`, `iss`, `aud`, `exp` and
   * `nbf` (with the clock skew); the key comes only from configuration, by the token's `kid`.
   */
  async verify(token: string): Promise<AccessClaims> {
    if (token.length > MAX_TOKEN_LENGTH) throw invalidToken(REFUSED);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.#keyFor(header), {
        algorithms: this.#algorithms,
        issuer: this.issuer,
        audience: this.audience,
        typ: ACCESS_TOKEN_TYPE,
        clockTolerance: this.#clockSkew,
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch {
      throw invalidToken(REFUSED);
    }
    // jose checks `iat` only against a maximum age; a token issued in the future was not issued by this clock.
    if ((payload.iat as number) > Date.now() / 1000 + this.#clockSkew) throw invalidToken(REFUSED);
    if (typeof payload.sub !== 'string' || payload.sub === '') throw invalidToken(REFUSED);
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
    return { sub: payload.sub, roles, exp: payload.exp as number };
  }

  /** The configured key a header names, or a throw (which jose turns into a refusal). */
  #keyFor(header: Record<string, unknown>): JoseKey {
    if (Object.keys(header).some((name) => !ACCEPTED_HEADER.has(name))) throw new Error('unexpected header member');
    if (header.kid !== undefined && typeof header.kid !== 'string') throw new Error('kid is not a string');
    const key = this.#verifiers.get(header.kid);
    if (!key || key.alg !== header.alg) throw new Error('unknown key');
    return key.key;
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

/** 401 for a bearer token no verifier accepts: the same answer as for a refused access token. */
export function refusedToken(): KilnError {
  return invalidToken(REFUSED);
}

/** 401 for a credential that was sent but cannot be accepted (RFC 6750 `invalid_token`). */
export function invalidToken(detail: string): KilnError {
  return new KilnError('KILN_UNAUTHENTICATED', { detail, headers: { 'www-authenticate': 'Bearer realm="kiln", error="invalid_token"' } });
}
