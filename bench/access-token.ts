/**
 * The access token of the authenticated read: what Kiln's login answers (AccessTokens.issue: HS256,
 * `typ: at+jwt`, iss, aud, sub, jti, iat, exp and roles), signed here with jose so the run needs no
 * account and no login. Both servers get the same secret, issuer and audience through the
 * environment, as KILN_AUTH_JWT_SECRET, KILN_AUTH_ISSUER and KILN_AUTH_AUDIENCE.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

export const BENCH_AUTH_ENV = {
  KILN_AUTH_JWT_SECRET: 'kiln-bench-access-token-secret-0123456789abcdef',
  KILN_AUTH_ISSUER: 'https://kiln-bench.test',
  KILN_AUTH_AUDIENCE: 'kiln-api',
} as const;

/** A token for account 1, valid for an hour: longer than any run. */
export function benchAccessToken(): Promise<string> {
  return new SignJWT({ roles: [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(BENCH_AUTH_ENV.KILN_AUTH_ISSUER)
    .setAudience(BENCH_AUTH_ENV.KILN_AUTH_AUDIENCE)
    .setSubject('1')
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(BENCH_AUTH_ENV.KILN_AUTH_JWT_SECRET));
}
