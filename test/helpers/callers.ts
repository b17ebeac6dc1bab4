/**
 * Callers for the authorization suites: a valid Kiln access token for any account id and roles,
 * signed with the secret startTestServer gives every server, so a test can act as anyone without
 * creating accounts and signing in (the token path itself is tested in test/auth/).
 */
import { accessClaims, signHs256 } from './jwt-forge.js';
import { TEST_JWT_SECRET } from './server.js';

/** Kiln's defaults when KILN_AUTH_ISSUER, KILN_PUBLIC_URL and KILN_AUTH_AUDIENCE are unset. */
const ISSUER = 'kiln';
const AUDIENCE = 'kiln-api';

/** A bearer token for account `id` holding `roles` (besides `authenticated`, which every account holds). */
export function tokenFor(id: number | string, roles: readonly string[] = []): string {
  return signHs256(TEST_JWT_SECRET, { alg: 'HS256', typ: 'at+jwt' }, accessClaims(ISSUER, AUDIENCE, { sub: String(id), roles: [...roles] }));
}

/** The Authorization header of `tokenFor(id, roles)`, to spread into a request's headers. */
export function as(id: number | string, roles: readonly string[] = []): { authorization: string } {
  return { authorization: `Bearer ${tokenFor(id, roles)}` };
}
