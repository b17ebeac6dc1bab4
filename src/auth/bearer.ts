/**
 * `Authorization: Bearer <token>`: the token goes to the verifier of its kind (an API key by its
 * prefix, a JWT by its issuer: Kiln's own or a configured external one). A token that no verifier
 * claims, or that its verifier refuses, is answered 401 with WWW-Authenticate: a credential that was
 * sent is never silently treated as none.
 */
import { decodeJwt } from 'jose';
import type { Authenticator } from '../pipeline/authenticate.js';
import type { Principal } from '../pipeline/context.js';
import { principalOf } from './account-store.js';
import { type AccessTokens, invalidToken, MAX_TOKEN_LENGTH, refusedToken } from './jwt.js';

/**
 * Undefined when the token is not of its kind; the caller when it is and is valid; throws 401
 * (invalidToken) when it is of its kind and not valid.
 */
export type BearerVerifier = (token: string) => Principal | undefined | Promise<Principal | undefined>;

const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

export function bearerAuthenticator(verifiers: readonly BearerVerifier[]): Authenticator {
  // A request without the header is answered at once, with no promise: the anonymous read stays cheap.
  return ({ headers }) => (headers.authorization === undefined ? undefined : verifyBearer(headers.authorization, verifiers));
}

async function verifyBearer(header: string | string[], verifiers: readonly BearerVerifier[]): Promise<Principal> {
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (!match) throw invalidToken('the Authorization header must be "Bearer <token>"');
  const token = match[1] as string;
  if (token.length > MAX_TOKEN_LENGTH) throw invalidToken(`the bearer token is longer than ${MAX_TOKEN_LENGTH} characters`);
  for (const verify of verifiers) {
    const principal = await verify(token);
    if (principal) return principal;
  }
  throw refusedToken();
}

/** The issuer a JWT claims, read without trusting it (only to pick the verifier); undefined for anything else. */
export function claimedIssuer(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** Kiln's own access tokens: a JWT naming Kiln's issuer. */
export function kilnTokenVerifier(tokens: AccessTokens): BearerVerifier {
  return async (token) => {
    if (claimedIssuer(token) !== tokens.issuer) return undefined;
    const claims = await tokens.verify(token);
    return principalOf({ id: claims.sub, roles: claims.roles });
  };
}
