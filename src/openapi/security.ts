/**
 * The security of the OpenAPI document: the schemes a caller can authenticate with, and the security
 * requirement of every operation. Only a model that declares `auth` has schemes; without it every
 * operation is open to anyone, and the document says nothing it could not keep.
 *
 * An operation states one of three kinds of access:
 * - `signed-in`: a route with `authenticated: true`; one of the schemes is required.
 * - `anyone`: every other API operation, until the access rules of the authorization issue decide
 *   more: the schemes, or none (`{}`). A credential that is sent is checked even there, and a bad
 *   one is answered 401, so the 401 is documented on every API operation.
 * - `public`: sign-up, login, refresh, password reset and verification, the probes and the JWKS:
 *   they are how a caller gets a credential, so they need none (`[{}]`, anonymous allowed; an empty
 *   list would read, to Spectral's OWASP `write-restricted`, as a forgotten requirement).
 *
 * OpenID Connect providers get no `openIdConnect` scheme: signing in with one ends in Kiln's own
 * session or tokens, and the API never accepts the provider's tokens unless `auth.bearer` lists it
 * (then they are bearer JWTs, under `bearerAuth`).
 */
import { PLAIN_COOKIE_NAME, SECURE_COOKIE_NAME } from '../auth/session-cookie.js';
import type { Settings } from '../config/settings.js';
import type { JsonSchema } from '../core/schemas.js';
import type { Model } from '../model/ir.js';

/** The settings the scheme descriptions state; `dev` (`kiln dev`) serves the session cookie over plain HTTP. */
export type SecuritySettings = Pick<
  Settings,
  'apiPrefix' | 'authAccessTtlS' | 'authRefreshTtlS' | 'authSessionIdleS' | 'authSessionAbsoluteS' | 'authCookieSecure' | 'authApiKeyHeader'
> & { readonly dev?: boolean };

export type Access = 'signed-in' | 'anyone' | 'public';

/** The CSRF header a cookie-authenticated unsafe request carries (src/auth/csrf.ts). */
const CSRF_HEADER = 'X-CSRF-Token';

const duration = (seconds: number): string => {
  if (seconds % 86400 === 0) return `${seconds / 86400} day${seconds === 86400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? '' : 's'}`;
  return `${seconds} seconds`;
};

/** `components.securitySchemes` of a model; undefined when it declares no `auth`. */
export function securitySchemes(model: Model, settings: SecuritySettings): Record<string, JsonSchema> | undefined {
  const auth = model.auth;
  if (!auth) return undefined;
  const prefix = settings.apiPrefix;
  const issuers = auth.bearer.map((b) => `\`${b.issuer}\` (audience \`${b.audience}\`)`);
  const external =
    issuers.length > 0
      ? ` Access tokens of the identity provider${issuers.length > 1 ? 's' : ''} ${issuers.join(', ')} are accepted too, verified against its published keys, issuer and audience.`
      : '';
  const schemes: Record<string, JsonSchema> = {};
  if (auth.accounts) {
    schemes.bearerAuth = {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        `An access token from \`POST ${prefix}/auth/login\`: a signed JWT (\`typ: at+jwt\`) issued and verified following RFC8725 (pinned algorithms, no \`alg: none\`, ` +
        `no keys taken from the token, \`iss\`, \`aud\`, \`exp\` and \`typ\` required). It expires ${duration(settings.authAccessTtlS)} after it is issued: ` +
        `before then, exchange the refresh token for a new pair at \`POST ${prefix}/auth/refresh\` (a refresh token lives ${duration(settings.authRefreshTtlS)} and works once; ` +
        `using a spent one revokes its whole family).${external} An API key is accepted here too.`,
    };
    schemes.cookieAuth = {
      type: 'apiKey',
      in: 'cookie',
      // The name the session part really sets (src/auth/session-cookie.ts): `__Host-` only when Secure.
      name: settings.authCookieSecure && !settings.dev ? SECURE_COOKIE_NAME : PLAIN_COOKIE_NAME,
      description:
        `The browser session set by a login that asks for a session: an opaque, HttpOnly, SameSite=Lax cookie, renewed at login, ending after ${duration(settings.authSessionIdleS)} idle ` +
        `or ${duration(settings.authSessionAbsoluteS)} after the login. A request with a method other than GET, HEAD or OPTIONS that authenticates with it must carry the ` +
        `session's CSRF token (\`csrfToken\` of \`GET ${prefix}/auth/session\`) in the \`${CSRF_HEADER}\` header, or it is refused with 403; token and API-key requests need none.`,
    };
    schemes.apiKeyAuth = {
      type: 'apiKey',
      in: 'header',
      name: settings.authApiKeyHeader,
      description: `A machine client's API key, shown once when it is created; also accepted as \`Authorization: Bearer <key>\`. It carries the roles it was given and stops working when revoked or expired.`,
    };
  } else if (issuers.length > 0) {
    schemes.bearerAuth = {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: `An access token of the identity provider${issuers.length > 1 ? 's' : ''} ${issuers.join(', ')}, verified following RFC8725 against its published keys, issuer and audience; short-lived, renewed with the provider.`,
    };
  }
  return Object.keys(schemes).length > 0 ? schemes : undefined;
}

/** The `security` of an operation with this access, under these schemes. */
export function securityRequirement(schemes: Readonly<Record<string, JsonSchema>>, access: Access): JsonSchema[] {
  if (access === 'public') return [{}];
  const each = Object.keys(schemes).map((name) => ({ [name]: [] }));
  return access === 'signed-in' ? each : [...each, {}];
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Gives every operation of the path items that states no requirement of its own (no `security`, or
 * an empty list, which OpenAPI reads as "none" and linters as forgotten) the requirement of `access`.
 */
export function secureOperations(paths: Record<string, JsonSchema>, schemes: Readonly<Record<string, JsonSchema>>, access: Access): void {
  for (const item of Object.values(paths)) {
    for (const method of METHODS) {
      const operation = item[method] as JsonSchema | undefined;
      const stated = operation?.security as unknown[] | undefined;
      if (operation && !stated?.length) operation.security = securityRequirement(schemes, access);
    }
  }
}
