/**
 * Signing in with an OpenID Provider, the protocol side (openid-client): discovery, the authorization
 * URL (code flow with PKCE S256, `state` and `nonce`), and the code exchange, which checks the state,
 * the ID token's signature, `iss`, `aud`, `exp` and `nonce`. What a login flow keeps between the two
 * redirects is stored in kiln_auth_oidc_flows (OidcFlows); the routes are in oidc-routes.ts.
 */
import type { FastifyBaseLogger } from 'fastify';
import * as client from 'openid-client';
import type { Settings } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import { KilnError } from '../core/errors.js';
import type { Queryable } from '../db/database.js';
import type { OidcProvider } from '../model/ir.js';
import { hashSecret, newSecret, safeEqual } from './secrets.js';

/** How long a started login may take before its callback is refused. */
export const FLOW_TTL_SECONDS = 600;
/** Seconds to wait for the provider's discovery document, token endpoint or userinfo. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/** Who the provider says signed in. */
export interface OidcIdentity {
  readonly subject: string;
  readonly email?: string;
  readonly emailVerified: boolean;
  /** Every claim of the ID token (and userinfo, when the ID token has no email). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** The environment variable holding a provider's client secret: KILN_OIDC_<NAME>_CLIENT_SECRET. */
export function clientSecretEnv(provider: string): string {
  return `KILN_OIDC_${provider.toUpperCase().replace(/-/g, '_')}_CLIENT_SECRET`;
}

/** 401 for a sign-in the provider refused or whose answer did not check out. */
export function oidcFailed(detail: string): KilnError {
  return new KilnError('KILN_AUTH_OIDC_FAILED', { detail });
}

/** One configured identity provider, as Kiln's client of it. */
export class OidcClient {
  readonly provider: OidcProvider;
  /** Kiln's callback, registered with the provider: the provider redirects only there. */
  readonly redirectUri: string;
  readonly #secret: string;
  readonly #allowHttp: boolean;
  readonly #log: Pick<FastifyBaseLogger, 'warn'>;
  #config: Promise<client.Configuration> | undefined;

  constructor(provider: OidcProvider, secret: string, redirectUri: string, log: Pick<FastifyBaseLogger, 'warn'>) {
    this.provider = provider;
    this.#log = log;
    this.#secret = secret;
    this.redirectUri = redirectUri;
    // check-auth.ts allows http only for loopback issuers (a provider run locally or in tests).
    this.#allowHttp = provider.issuer.startsWith('http://');
  }

  /**
   * The provider's metadata, discovered once. A provider that cannot be reached does not stop the
   * start: the rest of the API (and the other ways to sign in) should not go down with a third party,
   * and a restart loop would not bring it back sooner. Discovery is tried again on the next login,
   * which is answered 503 KILN_AUTH_OIDC_UNAVAILABLE while it keeps failing.
   */
  configuration(): Promise<client.Configuration> {
    this.#config ??= client
      .discovery(new URL(this.provider.issuer), this.provider.clientId, undefined, client.ClientSecretBasic(this.#secret), {
        timeout: PROVIDER_TIMEOUT_SECONDS,
        ...(this.#allowHttp && { execute: [client.allowInsecureRequests] }),
      })
      .catch((error: unknown) => {
        this.#config = undefined;
        // The cause (an address, a status) is for the operator: the client gets 503 without it.
        const cause = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
        this.#log.warn({ provider: this.provider.name, err: { message: cause } }, 'identity provider discovery failed; retrying on the next login');
        throw unavailable(this.provider.name, error);
      });
    return this.#config;
  }

  /** Where to send the browser: the provider's authorization endpoint with this flow's checks. */
  async authorizationUrl(flow: { state: string; nonce: string; codeVerifier: string }): Promise<URL> {
    const config = await this.configuration();
    return client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.provider.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
  }

  /**
   * The identity behind the callback's query: the code is exchanged with the flow's verifier, and the
   * ID token must carry the flow's nonce. Any refusal is 401 KILN_AUTH_OIDC_FAILED (the provider's own
   * error code, never its free text or a token, goes in the detail); an unreachable provider is 503.
   */
  async exchange(query: URLSearchParams, flow: { state: string; nonce: string; codeVerifier: string }): Promise<OidcIdentity> {
    const config = await this.configuration();
    const callbackUrl = new URL(this.redirectUri);
    callbackUrl.search = query.toString();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.#refusal(error);
    }
    const idClaims = tokens.claims() as Record<string, unknown> | undefined;
    if (!idClaims || typeof idClaims.sub !== 'string') throw oidcFailed(`${this.provider.name} answered without an ID token`);
    let claims: Record<string, unknown> = { ...idClaims };
    if (typeof claims.email !== 'string' && tokens.access_token) {
      try {
        claims = { ...(await client.fetchUserInfo(config, tokens.access_token, idClaims.sub)), ...claims };
      } catch (error) {
        throw this.#refusal(error);
      }
    }
    return {
      subject: idClaims.sub,
      ...(typeof claims.email === 'string' && { email: claims.email }),
      emailVerified: claims.email_verified === true,
      claims,
    };
  }

  #refusal(error: unknown): KilnError {
    if (error instanceof KilnError) return error;
    const name = this.provider.name;
    if (error instanceof client.AuthorizationResponseError) return oidcFailed(`${name} refused the sign-in (${codeOnly(error.error)})`);
    if (error instanceof client.ResponseBodyError) return oidcFailed(`${name} refused the authorization code (${codeOnly(error.error)})`);
    if (isNetworkError(error)) return unavailable(name, error);
    return oidcFailed(`the answer of ${name} could not be verified (state, nonce, issuer, audience or expiry of the ID token)`);
  }
}

/** An OAuth error code as the provider sent it, if it has the shape of one (RFC 6749 allows no more). */
function codeOnly(code: string): string {
  return /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(code) ? code : 'error';
}

function isNetworkError(error: unknown): boolean {
  const cause = (error as { cause?: unknown })?.cause;
  return (
    error instanceof TypeError ||
    (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) ||
    (cause !== undefined && cause !== error && isNetworkError(cause))
  );
}

function unavailable(provider: string, cause: unknown): KilnError {
  return new KilnError('KILN_AUTH_OIDC_UNAVAILABLE', {
    detail: `the identity provider ${provider} cannot be reached; try again later`,
    headers: { 'retry-after': '5' },
    cause,
  });
}

/**
 * The clients of the model's providers. Each needs its secret (KILN_OIDC_<NAME>_CLIENT_SECRET) and
 * KILN_PUBLIC_URL, the base of the callback the provider redirects to: a callback built from the
 * request's Host header would let a client choose it. Either missing stops the start.
 */
export function oidcClients(
  providers: readonly OidcProvider[],
  settings: Settings,
  log: Pick<FastifyBaseLogger, 'warn'>,
  { env = process.env, describeOnly = false }: { env?: NodeJS.ProcessEnv; describeOnly?: boolean } = {},
): OidcClient[] {
  return providers.map((provider) => {
    const variable = clientSecretEnv(provider.name);
    const secret = env[variable];
    // Only a server needs the secret and its own address: a description of its routes (kiln openapi) does not.
    if (!secret && !describeOnly) {
      throw new StartupError(
        `the identity provider ${provider.name} needs its client secret: set ${variable} to the secret the provider issued for ${provider.clientId}`,
      );
    }
    if (!settings.publicUrl && !describeOnly) {
      throw new StartupError(
        `signing in with ${provider.name} needs KILN_PUBLIC_URL: the provider redirects back to <KILN_PUBLIC_URL>${settings.apiPrefix}/auth/oidc/${provider.name}/callback`,
      );
    }
    const base = (settings.publicUrl || 'http://localhost').replace(/\/+$/, '');
    return new OidcClient(provider, secret ?? '', `${base}${settings.apiPrefix}/auth/oidc/${provider.name}/callback`, log);
  });
}

/** A login between its two redirects. */
export interface OidcFlow {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly mode: 'session' | 'tokens';
  readonly redirect?: string;
}

/**
 * The logins in progress. The state is kept only as a hash (it travels in URLs); the row also holds
 * the hash of a secret set in a cookie of the browser that started the login, so a callback URL sent
 * to someone else (login CSRF: signing a victim into the attacker's account) is refused. A flow is
 * taken once: a replayed callback finds nothing.
 */
export class OidcFlows {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /** Stores a new flow; returns it with the browser secret for the cookie. */
  async begin(provider: string, mode: OidcFlow['mode'], redirect: string | undefined): Promise<{ flow: OidcFlow; browserSecret: string }> {
    const flow: OidcFlow = { state: newSecret(), nonce: newSecret(), codeVerifier: client.randomPKCECodeVerifier(), mode, ...(redirect && { redirect }) };
    const browserSecret = newSecret();
    await this.#db.query(`DELETE FROM "kiln_auth_oidc_flows" WHERE "expires_at" < now()`);
    await this.#db.query(
      `INSERT INTO "kiln_auth_oidc_flows" ("state_hash", "provider", "code_verifier", "nonce", "mode", "redirect", "browser_hash", "expires_at")
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
      [hashSecret(flow.state), provider, flow.codeVerifier, flow.nonce, mode, redirect ?? null, hashSecret(browserSecret), FLOW_TTL_SECONDS],
    );
    return { flow, browserSecret };
  }

  /** The flow of `state`, removed; undefined when unknown, used, expired, of another provider or another browser. */
  async take(provider: string, state: string, browserSecret: string | undefined): Promise<OidcFlow | undefined> {
    const rows = await this.#db.query<{ code_verifier: string; nonce: string; mode: string; redirect: string | null; browser_hash: string; live: boolean }>(
      `DELETE FROM "kiln_auth_oidc_flows" WHERE "state_hash" = $1 AND "provider" = $2
       RETURNING "code_verifier", "nonce", "mode", "redirect", "browser_hash", "expires_at" > now() AS "live"`,
      [hashSecret(state), provider],
    );
    const row = rows[0];
    if (!row?.live || browserSecret === undefined || !safeEqual(hashSecret(browserSecret), row.browser_hash)) return undefined;
    return {
      state,
      nonce: row.nonce,
      codeVerifier: row.code_verifier,
      mode: row.mode === 'tokens' ? 'tokens' : 'session',
      ...(row.redirect && { redirect: row.redirect }),
    };
  }
}
