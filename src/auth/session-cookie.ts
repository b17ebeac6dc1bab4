/**
 * The session cookie: its name, its attributes, and how it is read back (the Cookie header is parsed
 * by the `cookie` package). The Set-Cookie value is written here, attribute by attribute, since a
 * session id is base64url and needs no encoding.
 *
 * `HttpOnly` keeps it from scripts, `SameSite=Lax` keeps it off cross-site subrequests and POSTs
 * (the CSRF token guards the rest, see csrf.ts), `Path=/` and no `Domain` keep it on this host.
 * Over TLS it is `Secure` and named with the `__Host-` prefix, which browsers accept only with
 * exactly those attributes, so no sibling subdomain can plant or shadow it. A browser on another
 * origin sends it only when CORS allows credentials: KILN_CORS_CREDENTIALS=true with the origins
 * listed in KILN_CORS_ORIGINS.
 */
import { parse } from 'cookie';
import type { Settings } from '../config/settings.js';

/** Name when Secure; browsers refuse a `__Host-` cookie without Secure, Path=/ and with a Domain. */
export const SECURE_COOKIE_NAME = '__Host-kiln_session';
/** Name over plain HTTP (`kiln dev`, or KILN_AUTH_COOKIE_SECURE=false). */
export const PLAIN_COOKIE_NAME = 'kiln_session';

/** The longest session id read from a cookie: ids are 43 characters, anything longer is not one. */
const MAX_ID_LENGTH = 64;

export class SessionCookie {
  readonly name: string;
  readonly secure: boolean;
  readonly #maxAge: number;

  /** Secure unless `dev` or KILN_AUTH_COOKIE_SECURE=false; lives as long as the session's absolute timeout. */
  constructor(settings: Pick<Settings, 'authCookieSecure' | 'authSessionAbsoluteS'>, dev: boolean) {
    this.secure = settings.authCookieSecure && !dev;
    this.name = this.secure ? SECURE_COOKIE_NAME : PLAIN_COOKIE_NAME;
    this.#maxAge = settings.authSessionAbsoluteS;
  }

  /** The Set-Cookie value carrying a session id. */
  set(id: string): string {
    return this.#serialize(id, this.#maxAge);
  }

  /** The Set-Cookie value that makes the browser forget the cookie. */
  clear(): string {
    return `${this.#serialize('', 0)}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
  }

  /**
   * The session id the request's Cookie header carries under this cookie's name; undefined when it
   * carries none. A value that cannot be a session id is still returned (the caller answers it like
   * an unknown session: the browser is told to drop it).
   */
  read(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
    const value = cookieValue(headers, this.name);
    return value !== undefined && value.length > MAX_ID_LENGTH ? value.slice(0, MAX_ID_LENGTH) : value;
  }

  #serialize(value: string, maxAge: number): string {
    return `${this.name}=${value}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`;
  }
}

/** The value of cookie `name` in the request's Cookie header(s); undefined when absent or empty. */
export function cookieValue(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const header = headers.cookie;
  if (header === undefined) return undefined;
  // HTTP/2 may send one Cookie header per cookie; Node joins them with "; " but an array is possible.
  return parse(Array.isArray(header) ? header.join('; ') : header)[name] || undefined;
}
