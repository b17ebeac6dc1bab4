/**
 * The session cookie: its name, its attributes, and how it is read back. Written by hand rather than
 * with @fastify/cookie's parse/serialize, which only work once the plugin is registered (they load
 * the `cookie` module lazily); a session id is base64url, so it needs no encoding either way.
 *
 * `HttpOnly` keeps it from scripts, `SameSite=Lax` keeps it off cross-site subrequests and POSTs
 * (the CSRF token guards the rest, see csrf.ts), `Path=/` and no `Domain` keep it on this host.
 * Over TLS it is `Secure` and named with the `__Host-` prefix, which browsers accept only with
 * exactly those attributes, so no sibling subdomain can plant or shadow it. A browser on another
 * origin sends it only when CORS allows credentials: KILN_CORS_CREDENTIALS=true with the origins
 * listed in KILN_CORS_ORIGINS.
 */
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
    const header = headers.cookie;
    if (header === undefined) return undefined;
    // HTTP/2 may send one Cookie header per cookie; Node joins them with "; " but an array is possible.
    for (const part of (Array.isArray(header) ? header.join('; ') : header).split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).trim() !== this.name) continue;
      const value = part.slice(eq + 1).trim();
      return value.length > MAX_ID_LENGTH ? value.slice(0, MAX_ID_LENGTH) : value;
    }
    return undefined;
  }

  #serialize(value: string, maxAge: number): string {
    return `${this.name}=${value}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`;
  }
}
