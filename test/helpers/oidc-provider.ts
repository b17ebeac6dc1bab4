/**
 * A real OpenID Provider (oidc-provider) on 127.0.0.1 for the identity-provider and external-bearer
 * tests, and a cookie-keeping client that walks a login through it without a browser.
 *
 * The provider's own interaction pages (HTML forms) are replaced by a tiny handler: whoever the test
 * named in `signInAs` is signed in, and whatever the client asks for is granted, through the
 * provider's interactionDetails/interactionFinished API. Two clients are registered: `kiln` (code +
 * PKCE, redirecting to Kiln's callback) and `service` (client credentials, JWT access tokens for the
 * resource `API_AUDIENCE` or any other resource it asks for, with a `roles` claim).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
// @ts-expect-error oidc-provider ships no types (and @types/oidc-provider is no dependency): the few parts used are typed below.
import ProviderModule from 'oidc-provider';
import type { TestResponse } from './server.js';

interface Grant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}
interface InteractionDetails {
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}
interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, options: { mergeWithLastSubmission: boolean }): Promise<void>;
  Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
}
const Provider = ProviderModule as new (issuer: string, configuration: object) => Provider;

export const KILN_CLIENT_ID = 'kiln';
export const KILN_CLIENT_SECRET = 'kiln-client-secret-0123456789abcdef';
export const SERVICE_CLIENT_ID = 'service';
export const SERVICE_CLIENT_SECRET = 'service-client-secret-0123456789abcdef';
/** The client whose access tokens live one second: for the expiry test. */
export const SHORT_LIVED_CLIENT_ID = 'short-lived';
/** The resource (audience) Kiln accepts external tokens for. */
export const API_AUDIENCE = 'https://api.kiln.test';
/** The roles every access token of the service clients carries. */
export const SERVICE_ROLES = ['reporter', 'auditor'];

export interface TestIdentity {
  readonly email: string;
  readonly email_verified: boolean;
  readonly name?: string;
}

export interface TestProvider {
  readonly issuer: string;
  /** People who can sign in, by subject; tests add their own. */
  readonly identities: Map<string, TestIdentity>;
  /** The subject the next interaction signs in. */
  signInAs: string;
  /** A client-credentials access token of `clientId` for `resource`. */
  clientCredentials(resource: string, clientId?: string): Promise<string>;
  close(): Promise<void>;
}

/** A free port of 127.0.0.1, released at once (for a server that must know its URL before it starts). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Starts the provider on `port` (a free one when absent); `redirectUris` are those of the `kiln` client. */
export async function startTestProvider(redirectUris: readonly string[], port?: number): Promise<TestProvider> {
  const listenPort = port ?? (await freePort());
  const issuer = `http://127.0.0.1:${listenPort}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const identities = new Map<string, TestIdentity>([['alice', { email: 'alice@example.com', email_verified: true, name: 'Alice Example' }]]);

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: KILN_CLIENT_ID,
        client_secret: KILN_CLIENT_SECRET,
        redirect_uris: [...redirectUris],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
      ...[SERVICE_CLIENT_ID, SHORT_LIVED_CLIENT_ID].map((client_id) => ({
        client_id,
        client_secret: SERVICE_CLIENT_SECRET,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        response_types: [],
      })),
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    // Set explicitly: the provider logs a notice for every default it falls back to.
    ttl: {
      AccessToken: 300,
      AuthorizationCode: 60,
      ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? 300,
      IdToken: 300,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    pkce: { required: () => true },
    // The ID token carries the claims, so Kiln needs no userinfo call.
    conformIdTokenClaims: false,
    findAccount: (_ctx: unknown, sub: string) => {
      const identity = identities.get(sub);
      return identity && { accountId: sub, claims: () => ({ sub, ...identity }) };
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Only the client-credentials tokens name a resource; the login asks for none.
        defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string, client: { clientId: string }) => ({
          audience: resource,
          scope: 'read',
          accessTokenFormat: 'jwt',
          accessTokenTTL: client.clientId === SHORT_LIVED_CLIENT_ID ? 1 : 300,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { kind: string }) => (token.kind === 'ClientCredentials' ? { roles: SERVICE_ROLES } : undefined),
  });

  const callback = provider.callback();
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interact(req, res).catch((error: Error) => {
        res.statusCode = 500;
        res.end(error.message);
      });
      return;
    }
    callback(req, res);
  });

  /** Signs in `signInAs` (the login prompt), then grants what the client asked for (the consent prompt). */
  async function interact(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: handle.signInAs } }, { mergeWithLastSubmission: false });
      return;
    }
    const accountId = details.session?.accountId as string;
    const grant = details.grantId
      ? ((await provider.Grant.find(details.grantId)) as Grant)
      : new provider.Grant({ accountId, clientId: details.params.client_id as string });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
  }

  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const handle: TestProvider = {
    issuer,
    identities,
    signInAs: 'alice',
    async clientCredentials(resource, clientId = SERVICE_CLIENT_ID) {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${SERVICE_CLIENT_SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'read' }),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!res.ok || !body.access_token) throw new Error(`client credentials failed: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return handle;
}

/**
 * A user agent without a browser: keeps cookies per origin (name → value; paths and expiry ignored,
 * enough for one test's short flows) and follows redirects by hand.
 */
export class CookieAgent {
  readonly #jars = new Map<string, Map<string, string>>();

  async fetch(url: string, init: RequestInit = {}): Promise<TestResponse> {
    const origin = new URL(url).origin;
    const jar = this.#jars.get(origin) ?? new Map<string, string>();
    this.#jars.set(origin, jar);
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(cookie) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  /** The cookie `name` of `origin`, if set. */
  cookie(origin: string, name: string): string | undefined {
    return this.#jars.get(origin)?.get(name);
  }

  /**
   * Follows redirects from `url` until one leads to a URL starting with `stopAt` (Kiln's callback),
   * and returns that URL without requesting it, so the test decides what to send.
   */
  async followUntil(url: string, stopAt: string): Promise<string> {
    let next = url;
    for (let hop = 0; hop < 10; hop++) {
      if (next.startsWith(stopAt)) return next;
      const res = await this.fetch(next);
      await res.arrayBuffer();
      const location = res.headers.get('location');
      if (res.status < 300 || res.status > 399 || !location) throw new Error(`expected a redirect from ${next}, got ${res.status}`);
      next = new URL(location, next).href;
    }
    throw new Error(`too many redirects from ${url}`);
  }
}
