/**
 * CSRF protection of cookie-authenticated requests: the synchronizer-token pattern. Every session has
 * a random CSRF token, handed to the page by POST and GET /auth/session (a script of this origin
 * reads it; another origin cannot, under the same-origin policy), and every request that changes
 * something (POST, PUT, PATCH, DELETE) with the session cookie must send it back in X-CSRF-Token.
 * A forged cross-site request carries the cookie but cannot know the token. SameSite=Lax already keeps
 * the cookie off most cross-site requests; the token also covers same-site origins (a sibling
 * subdomain) and browsers without SameSite. Requests authenticated by an Authorization header need no
 * token: a browser never adds that header on its own.
 */
import { KilnError } from '../core/errors.js';
import { safeEqual } from './secrets.js';

export const CSRF_HEADER = 'x-csrf-token';

/** The methods that may change state (RFC 9110 §9.2.1 names the others safe). */
const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isUnsafeMethod(method: string): boolean {
  return UNSAFE_METHODS.has(method.toUpperCase());
}

/** Throws 403 KILN_AUTH_CSRF unless the request's X-CSRF-Token equals the session's token. */
export function checkCsrf(headers: Readonly<Record<string, string | string[] | undefined>>, expected: string): void {
  const sent = headers[CSRF_HEADER];
  if (sent === undefined) {
    throw new KilnError('KILN_AUTH_CSRF', {
      detail: 'a request with the session cookie that changes something must send the X-CSRF-Token header (the csrfToken of GET /auth/session)',
    });
  }
  if (typeof sent !== 'string' || !safeEqual(sent, expected)) {
    throw new KilnError('KILN_AUTH_CSRF', { detail: 'the X-CSRF-Token header does not match this session; read the csrfToken again from GET /auth/session' });
  }
}
