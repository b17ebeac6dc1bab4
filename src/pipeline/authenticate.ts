/**
 * Stage "authenticate": who is calling. Authenticators are tried in order; the first that recognises
 * the request's credentials names the principal, and a request none recognises is anonymous. An
 * authenticator that finds credentials it cannot accept (a bad token) throws KILN_UNAUTHENTICATED
 * (401) rather than answering undefined, so a broken credential is never silently anonymous.
 * Kiln's own authentication (tokens, sessions, API keys) plugs in here; so can an application's.
 */
import { ANONYMOUS, type Principal } from './context.js';

/** What an authenticator may look at: the transport's headers and the client address. */
export interface Credentials {
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly ip: string;
  /** The HTTP method (upper case): a cookie credential is accepted on an unsafe one only with its CSRF token. */
  readonly method: string;
}

export type Authenticator = (credentials: Credentials) => Principal | undefined | Promise<Principal | undefined>;

/**
 * The caller of a request. Synchronous when every authenticator answers synchronously (the common
 * case of none at all), so the request path pays no promise for a stage that has nothing to do.
 */
export function authenticate(authenticators: readonly Authenticator[], credentials: Credentials): Principal | Promise<Principal> {
  for (let i = 0; i < authenticators.length; i++) {
    const found = (authenticators[i] as Authenticator)(credentials);
    if (found instanceof Promise) return found.then((principal) => principal ?? authenticate(authenticators.slice(i + 1), credentials));
    if (found) return found;
  }
  return ANONYMOUS;
}
