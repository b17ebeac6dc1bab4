/**
 * The routes of signing in with an identity provider, two per provider of `auth.oidc`:
 *
 * - GET <prefix>/auth/oidc/<name> starts the login and redirects (302) to the provider. `mode=session`
 *   (the default) ends in a session cookie, `mode=tokens` in an access and refresh token pair answered
 *   as JSON. `redirect` (session mode only: tokens never travel in a URL) is where the browser goes
 *   afterwards, and must be on an origin of KILN_CORS_ORIGINS or KILN_AUTH_LINK_BASE: any other would
 *   make Kiln an open redirect.
 * - GET <prefix>/auth/oidc/<name>/callback is where the provider sends the browser back: the flow is
 *   taken by its state, the code exchanged (oidc.ts), and the identity mapped to an account
 *   (accountFor below): a linked identity, else an account with the provider-verified email (with
 *   `linkByEmail`), else a new account (with `createAccounts`), else 403 KILN_AUTH_NO_ACCOUNT.
 *
 * The start sets a cookie (kiln_oidc_flow, 10 minutes) whose secret the callback must bring back
 * (login CSRF, see OidcFlows): one sign-in per browser at a time, a second one replaces the first.
 * Both are raw Fastify routes (they redirect), documented through the module's `paths`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StartupError } from '../config/startup-error.js';
import { KilnError } from '../core/errors.js';
import type { JsonSchema } from '../core/schemas.js';
import type { Queryable } from '../db/database.js';
import { corsOriginMatchers } from '../http/cors-origins.js';
import { httpOf } from '../http/custom-routes.js';
import type { OidcProvider } from '../model/ir.js';
import { createContext, limitsFrom, SYSTEM } from '../pipeline/context.js';
import type { Account, AccountStore } from './account-store.js';
import { FLOW_TTL_SECONDS, type OidcClient, OidcFlows, type OidcIdentity, oidcClients } from './oidc.js';
import type { AuthModule, AuthRuntime } from './runtime.js';
import { cookieValue } from './session-cookie.js';
import { SESSION_INFO } from './session-routes.js';
import { TOKEN_PAIR_RESPONSE } from './token-pair.js';

const FLOW_COOKIE = 'kiln_oidc_flow';
const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_REDIRECT_LENGTH = 2000;
/**
 * OpenID Connect's standard profile claims: a field of the account resource with one of these names
 * (or its camelCase form) is filled from the claim when a login creates the account.
 */
const PROFILE_CLAIMS = [
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'profile',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'phone_number',
] as const;

/** The module of the model's identity providers; the start is refused when one cannot be served (see oidcClients). */
export function oidcModule(runtime: AuthRuntime): AuthModule {
  if (!runtime.accounts) throw new StartupError('signing in with an identity provider needs auth.accounts');
  const accounts: AccountStore = runtime.accounts;
  const clients = oidcClients(runtime.auth.oidc, runtime.settings, runtime.log, { describeOnly: runtime.describeOnly });
  const claimFields = new Map(clients.map((c) => [c.provider.name, profileFields(c.provider, accounts)]));
  const flows = new OidcFlows(runtime.db);
  const allowedRedirect = redirectCheck(runtime);
  const prefix = runtime.settings.apiPrefix;
  // Discovery at start-up, but not in its way (see OidcClient.configuration): a failure is logged there and retried on the next login.
  if (!runtime.describeOnly) for (const c of clients) c.configuration().catch(() => {});

  const cookiePath = `${prefix}/auth/oidc`;
  const cookie = (value: string, maxAge: number) =>
    `${FLOW_COOKIE}=${value}; Path=${cookiePath}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${runtime.settings.authCookieSecure && !runtime.dev ? '; Secure' : ''}`;

  async function begin(c: OidcClient, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const query = req.query as Record<string, unknown>;
    const mode = query.mode ?? 'session';
    if (mode !== 'session' && mode !== 'tokens') throw queryInvalid('mode', 'must be "session" or "tokens"');
    const redirect = query.redirect;
    if (redirect !== undefined) {
      if (mode === 'tokens') throw queryInvalid('redirect', 'is only for mode=session: tokens are answered as JSON, never put in a URL');
      if (typeof redirect !== 'string' || !allowedRedirect(redirect)) {
        throw new KilnError('KILN_AUTH_REDIRECT_NOT_ALLOWED', {
          detail: 'redirect must be a URL on an origin of KILN_CORS_ORIGINS or of KILN_AUTH_LINK_BASE',
        });
      }
    }
    await c.configuration(); // 503 before a flow is stored for a provider that cannot be reached
    const { flow, browserSecret } = await flows.begin(c.provider.name, mode, redirect as string | undefined);
    const url = await c.authorizationUrl(flow);
    return reply
      .code(302)
      .header('cache-control', 'no-store')
      .header('set-cookie', cookie(browserSecret, FLOW_TTL_SECONDS))
      .header('location', url.href)
      .send();
  }

  async function callback(c: OidcClient, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const search = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1 || req.url.length));
    // The URL holds the code and state: no cache keeps the answer, no Referer carries the URL on.
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').header('set-cookie', cookie('', 0));
    const state = search.get('state');
    const flow = state ? await flows.take(c.provider.name, state, cookieValue(req.headers, FLOW_COOKIE)) : undefined;
    if (!flow) {
      throw new KilnError('KILN_AUTH_OIDC_STATE_INVALID', {
        detail: 'this sign-in is unknown, expired, already used or was started in another browser: start it again',
      });
    }
    const identity = await c.exchange(search, flow);
    // Finding, linking or creating the account is Kiln's own flow, after the provider vouched for the
    // identity: as the system, so the account resource's access rules (about requests) do not stop it.
    const ctx = createContext({ limits: limitsFrom(runtime.settings), requestId: String(req.id), log: req.log, principal: SYSTEM });
    const account = await accountFor(runtime, accounts, c.provider, identity, claimFields.get(c.provider.name) ?? [], ctx);
    if (account.disabled) throw new KilnError('KILN_AUTH_ACCOUNT_DISABLED', { detail: 'this account is disabled' });
    if (runtime.auth.accounts?.verification === 'required' && !account.verified) {
      throw new KilnError('KILN_AUTH_NOT_VERIFIED', { detail: 'verify the email address of this account before signing in' });
    }
    req.log.info({ provider: c.provider.name, accountId: account.id, mode: flow.mode }, 'signed in with an identity provider');
    if (flow.mode === 'tokens') {
      const { tokens, refresh } = runtime;
      if (!tokens || !refresh) throw new Error('tokens mode needs access and refresh tokens');
      const { accessToken, expiresIn } = await tokens.issue(account);
      const refreshToken = await refresh.start(account.id);
      return reply
        .code(200)
        .type(JSON_TYPE)
        .send(JSON.stringify({ data: { accessToken, tokenType: 'Bearer', expiresIn, refreshToken } }));
    }
    const sessions = runtime.sessions;
    if (!sessions) throw new Error('session mode needs the session service');
    const session = await sessions.start(httpOf(req, reply), account.id);
    if (flow.redirect) return reply.code(302).header('location', flow.redirect).send();
    return reply
      .code(200)
      .type(JSON_TYPE)
      .send(JSON.stringify({ data: { csrfToken: session.csrfToken, expiresAt: session.expiresAt } }));
  }

  return {
    register(app) {
      for (const c of clients) {
        const base = `${prefix}/auth/oidc/${c.provider.name}`;
        app.get(base, (req, reply) => begin(c, req, reply));
        app.get(`${base}/callback`, (req, reply) => callback(c, req, reply));
      }
    },
    paths: Object.fromEntries(clients.flatMap((c) => openApiPaths(prefix, c.provider.name))),
  };
}

/**
 * The account of a provider's identity, found or created (see the file comment). An email links only
 * when the provider verified it: anyone can claim an address at a provider that does not check it.
 */
async function accountFor(
  runtime: AuthRuntime,
  accounts: AccountStore,
  provider: OidcProvider,
  identity: OidcIdentity,
  claimFields: readonly ProfileField[],
  ctx: ReturnType<typeof createContext>,
): Promise<Account> {
  const db = runtime.db;
  const linked = await db.query<{ account_id: string }>(`SELECT "account_id" FROM "kiln_auth_identities" WHERE "provider" = $1 AND "subject" = $2`, [
    provider.name,
    identity.subject,
  ]);
  const link = async (accountId: string, q: Queryable = db) =>
    q.query(`INSERT INTO "kiln_auth_identities" ("provider", "subject", "account_id") VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
      provider.name,
      identity.subject,
      accountId,
    ]);
  if (linked[0]) {
    const account = await accounts.findById(linked[0].account_id);
    if (account) return account;
    // The account was deleted: the identity is free again.
    await db.query(`DELETE FROM "kiln_auth_identities" WHERE "provider" = $1 AND "subject" = $2`, [provider.name, identity.subject]);
  }
  const noAccount = (detail: string) => new KilnError('KILN_AUTH_NO_ACCOUNT', { detail });
  const email = identity.email;
  if (!email) throw noAccount(`no account is linked to this ${provider.name} identity, and ${provider.name} shared no email address`);
  const existing = await accounts.findByLogin(email);
  if (existing && provider.linkByEmail && identity.emailVerified) {
    await link(existing.id);
    return existing;
  }
  // An account with this email that may not be linked is not named: the answer is the same as for none.
  if (existing || !provider.createAccounts) throw noAccount(`no account is linked to this ${provider.name} identity`);
  const record: Record<string, unknown> = { [accounts.config.login]: accounts.normalizeLogin(email) };
  for (const { field, claim, required } of claimFields) {
    const value = identity.claims[claim];
    if (typeof value === 'string' && value !== '') record[field] = value;
    else if (required) throw noAccount(`${provider.name} did not share "${claim}", which a new account needs`);
  }
  // As a signup (signup.ts), with the signup roles; one transaction, so an account is never left without its identity.
  const signupRoles = accounts.config.signup.roles;
  const row = await runtime.ops.create(ctx, accounts.resource.name, record, {
    around: (write) =>
      runtime.ops.transaction(async (tx) => {
        const written = await write(tx);
        const id = String(written.id);
        await link(id, tx);
        if (identity.emailVerified) await accounts.setVerified(id, true, tx);
        if (signupRoles.length > 0) await accounts.setRoles(id, signupRoles, tx);
        return written;
      }),
  });
  return (await accounts.findById(String(row.id))) as Account;
}

interface ProfileField {
  readonly field: string;
  readonly claim: string;
  readonly required: boolean;
}

/**
 * The account fields a login fills from profile claims. With `createAccounts`, a field a new record
 * needs that no claim can fill stops the start: every first login would fail otherwise.
 */
function profileFields(provider: OidcProvider, accounts: AccountStore): ProfileField[] {
  const fields: ProfileField[] = [];
  const unfillable: string[] = [];
  for (const field of accounts.resource.fields) {
    if (field.readOnly || field.name === accounts.config.login) continue;
    const claim = PROFILE_CLAIMS.find((c) => c === field.name || c.replace(/_([a-z])/g, (_, l: string) => l.toUpperCase()) === field.name);
    if (claim) fields.push({ field: field.name, claim, required: field.required });
    else if (field.required) unfillable.push(field.name);
  }
  if (provider.createAccounts && unfillable.length > 0) {
    throw new StartupError(
      `auth.oidc.${provider.name} creates accounts, but ${accounts.resource.name} requires ${unfillable.join(', ')}, which no OpenID claim fills: give ${unfillable.length > 1 ? 'them' : 'it'} a default or make ${unfillable.length > 1 ? 'them' : 'it'} nullable, or set createAccounts: false`,
    );
  }
  return fields;
}

/** Whether `url` may be redirected to: http(s), on an origin of KILN_CORS_ORIGINS (but `*`) or of KILN_AUTH_LINK_BASE. */
function redirectCheck(runtime: AuthRuntime): (url: string) => boolean {
  const { corsOrigins, authLinkBase } = runtime.settings;
  const matchers = corsOriginMatchers(corsOrigins.filter((o) => o !== '*'));
  if (authLinkBase && URL.canParse(authLinkBase)) matchers.push(new URL(authLinkBase).origin);
  return (url) => {
    if (url.length > MAX_REDIRECT_LENGTH || !URL.canParse(url)) return false;
    const { protocol, origin, username, password } = new URL(url);
    if ((protocol !== 'https:' && protocol !== 'http:') || username || password) return false;
    return matchers.some((m) => (typeof m === 'string' ? m === origin : m.test(origin)));
  };
}

function queryInvalid(parameter: string, message: string): KilnError {
  return new KilnError('KILN_QUERY_INVALID', {
    detail: `query parameter "${parameter}": ${message}`,
    errors: [{ path: parameter, code: 'invalid', message }],
  });
}

const problem = (description: string): JsonSchema => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

function openApiPaths(prefix: string, name: string): [string, JsonSchema][] {
  const base = `${prefix}/auth/oidc/${name}`;
  const tags = ['auth'];
  return [
    [
      base,
      {
        get: {
          operationId: `oidcStart_${name.replace(/-/g, '_')}`,
          tags,
          summary: `Sign in with ${name}`,
          description:
            'Starts the authorization code flow with PKCE and redirects to the identity provider. Sets a short-lived cookie binding the sign-in to this browser.',
          parameters: [
            { name: 'mode', in: 'query', schema: { type: 'string', enum: ['session', 'tokens'], default: 'session' } },
            {
              name: 'redirect',
              in: 'query',
              description: 'Session mode only: where to send the browser once signed in; an origin of KILN_CORS_ORIGINS or KILN_AUTH_LINK_BASE.',
              schema: { type: 'string', format: 'uri', maxLength: 2000 },
            },
          ],
          responses: {
            302: { description: 'To the identity provider.', headers: { Location: { schema: { type: 'string', format: 'uri', maxLength: 4000 } } } },
            400: problem('KILN_QUERY_INVALID or KILN_AUTH_REDIRECT_NOT_ALLOWED.'),
            503: problem('KILN_AUTH_OIDC_UNAVAILABLE: the provider cannot be reached.'),
          },
        },
      },
    ],
    [
      `${base}/callback`,
      {
        get: {
          operationId: `oidcCallback_${name.replace(/-/g, '_')}`,
          tags,
          summary: `Return from ${name}`,
          description:
            'Where the identity provider sends the browser back. Session mode: sets the session cookie, then redirects or answers the CSRF token. Tokens mode: answers an access and refresh token pair.',
          parameters: ['code', 'state', 'iss', 'error'].map((p) => ({ name: p, in: 'query', schema: { type: 'string', maxLength: 2000 } })),
          responses: {
            200: {
              description: 'Signed in.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      data: {
                        oneOf: [SESSION_INFO.properties.data, TOKEN_PAIR_RESPONSE.properties.data],
                      },
                    },
                    required: ['data'],
                  },
                },
              },
            },
            302: {
              description: 'Session mode with a redirect: signed in, back to the front end.',
              headers: { Location: { schema: { type: 'string', format: 'uri', maxLength: 2000 } } },
            },
            400: problem('KILN_AUTH_OIDC_STATE_INVALID: the sign-in is unknown, expired, used, or from another browser.'),
            401: problem('KILN_AUTH_OIDC_FAILED: the provider refused, or its answer could not be verified.'),
            403: problem('KILN_AUTH_NO_ACCOUNT, KILN_AUTH_ACCOUNT_DISABLED or KILN_AUTH_NOT_VERIFIED.'),
            503: problem('KILN_AUTH_OIDC_UNAVAILABLE: the provider cannot be reached.'),
          },
        },
      },
    ],
  ];
}
