/**
 * Access tokens of other issuers (`auth.bearer`): a service calling the API with a JWT from the
 * organisation's identity provider (client credentials). A token naming a configured issuer is
 * verified against that issuer's keys only: the configured `jwksUrl`, or the `jwks_uri` of the
 * issuer's discovery document (fetched once, on the first token). Algorithms are pinned to asymmetric
 * ones (an `alg: none` or an HS256 token signed with a public key is refused), and `iss`, `aud`, `exp`
 * and `nbf` are checked with KILN_AUTH_CLOCK_SKEW_S. The caller is a service: its `sub`, with the
 * roles of the configured claim.
 */
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import { KilnError } from '../core/errors.js';
import type { ExternalBearer } from '../model/ir.js';
import { principalOf } from './account-store.js';
import { type BearerVerifier, claimedIssuer } from './bearer.js';
import { refusedToken } from './jwt.js';

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Role names as the model writes them; anything else in the claim is dropped. */
const ROLE = /^[a-z][a-z0-9_-]{0,62}$/i;
const FETCH_TIMEOUT_MS = 5000;

/** The verifier of one configured issuer. */
export function externalBearerVerifier(config: ExternalBearer, clockSkewSeconds: number): BearerVerifier {
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const keySet = () => {
    keys ??= jwksUrlOf(config).then(
      (url) => createRemoteJWKSet(url, { timeoutDuration: FETCH_TIMEOUT_MS }),
      (error: unknown) => {
        keys = undefined; // tried again on the next token
        throw error;
      },
    );
    return keys;
  };
  return async (token) => {
    if (claimedIssuer(token) !== config.issuer) return undefined;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await keySet(), {
        algorithms: ALGORITHMS,
        issuer: config.issuer,
        audience: config.audience,
        clockTolerance: clockSkewSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (isUnreachable(error)) {
        throw new KilnError('KILN_AUTH_OIDC_UNAVAILABLE', {
          detail: `the keys of the token's issuer ${config.issuer} cannot be fetched; try again later`,
          headers: { 'retry-after': '5' },
        });
      }
      // The answer of every refused token, whichever check failed (jwt.ts).
      throw refusedToken();
    }
    return principalOf({ id: payload.sub as string, roles: rolesOf(payload[config.rolesClaim]) }, 'service');
  };
}

/** A roles claim as a list, or as a space-separated string (the OAuth `scope` style). */
export function rolesOf(claim: unknown): string[] {
  const values = typeof claim === 'string' ? claim.split(' ') : Array.isArray(claim) ? claim : [];
  return [...new Set(values.filter((r): r is string => typeof r === 'string' && ROLE.test(r)))];
}

async function jwksUrlOf(config: ExternalBearer): Promise<URL> {
  if (config.jwksUrl) return new URL(config.jwksUrl);
  const res = await fetch(`${config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new errors.JWKSTimeout(`discovery of ${config.issuer} answered ${res.status}`);
  const { issuer, jwks_uri } = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // The document must be the issuer's own (OpenID Connect Discovery §4.3), and its keys on https or loopback http.
  if (issuer !== config.issuer || typeof jwks_uri !== 'string' || !URL.canParse(jwks_uri)) {
    throw new errors.JWKSInvalid(`the discovery document of ${config.issuer} names another issuer or no jwks_uri`);
  }
  return new URL(jwks_uri);
}

/** The issuer's keys could not be fetched (network, timeout): not the token's fault. */
function isUnreachable(error: unknown): boolean {
  return error instanceof errors.JWKSTimeout || error instanceof TypeError || (error instanceof Error && error.name === 'TimeoutError');
}
