/**
 * The routes of password accounts for clients that keep tokens themselves (apps, scripts, SPAs
 * without cookies): sign up, sign in for an access and a refresh token, refresh, sign out (one sign-in
 * or all of them), read the signed-in account, change the password. Browser sessions, mail flows and
 * identity providers are parts of their own.
 */
import { KilnError } from '../core/errors.js';
import { validationFailed } from '../core/input.js';
import type { JsonSchema } from '../core/schemas.js';
import { defineRoute } from '../extensions/define.js';
import type { AnyRoute } from '../extensions/types.js';
import { unauthenticated } from '../http/custom-routes.js';
import { type RequestContext, readingPrimary } from '../pipeline/context.js';
import type { Account } from './account-store.js';
import { accountDisabled, checkCredentials, invalidCredentials, PASSWORD_SCHEMA, passwordServices, SIGN_IN_BODY, SIGN_IN_ERRORS } from './credentials.js';
import { MAX_REFRESH_TOKEN_LENGTH, refreshInvalid } from './refresh-tokens.js';
import type { AuthModule, AuthRuntime } from './runtime.js';
import { signupRoute } from './signup.js';
import { TOKEN_PAIR_RESPONSE, tokenPair } from './token-pair.js';

const REFRESH_BODY = {
  type: 'object',
  properties: { refreshToken: { type: 'string', minLength: 1, maxLength: MAX_REFRESH_TOKEN_LENGTH, writeOnly: true } },
  required: ['refreshToken'],
  additionalProperties: false,
} as const satisfies JsonSchema;

export function accountRoutes(runtime: AuthRuntime): AuthModule {
  const { accounts, passwords, limiter } = passwordServices(runtime);
  const { refresh } = runtime;
  if (!refresh) throw new Error('password accounts need refresh tokens');
  const { sessions } = runtime;

  /** The account of a signed-in caller; 401 when it no longer exists, 403 when the credential is not an account's own. */
  const callerAccount = async (ctx: RequestContext, ownCredentialOnly: boolean): Promise<Account> => {
    const { principal } = ctx;
    if (ownCredentialOnly && principal.kind !== 'account') {
      throw new KilnError('KILN_FORBIDDEN', { detail: 'only the account itself may do this: sign in with its password, not an API key' });
    }
    const account = principal.id === null ? undefined : await accounts.findById(String(principal.id));
    if (!account) throw unauthenticated('the account of this credential no longer exists');
    return account;
  };

  /** Signs the account out everywhere: every refresh token family and every browser session. */
  const revokeEverything = async (accountId: string): Promise<void> => {
    await refresh.revokeAll(accountId);
    await sessions?.revokeAll(accountId);
  };

  const login = defineRoute<Record<string, string>, Record<string, never>, { login: string; password: string }>({
    method: 'POST',
    path: '/auth/login',
    tags: ['auth'],
    summary: 'Sign in for an access token and a refresh token',
    description:
      'An unknown login and a wrong password are answered alike (401). Limited per client IP and per login (429 with Retry-After); a successful sign-in does not count toward the login’s limit.',
    body: SIGN_IN_BODY,
    response: TOKEN_PAIR_RESPONSE,
    errors: SIGN_IN_ERRORS,
    async handler({ body, http }) {
      const account = await checkCredentials(runtime, { login: body.login, password: body.password, ip: http.ip });
      return tokenPair(runtime, account, http);
    },
  });

  const refreshRoute = defineRoute<Record<string, string>, Record<string, never>, { refreshToken: string }>({
    method: 'POST',
    path: '/auth/refresh',
    tags: ['auth'],
    summary: 'Exchange a refresh token for a new pair',
    description:
      'Each refresh token works once: the answer carries the next one. A token sent a second time revokes every token of its sign-in (KILN_AUTH_REFRESH_REUSED), since someone else may hold it. The roles in the new access token are read from the account again.',
    body: REFRESH_BODY,
    response: TOKEN_PAIR_RESPONSE,
    errors: ['KILN_VALIDATION_FAILED', 'KILN_AUTH_REFRESH_INVALID', 'KILN_AUTH_REFRESH_REUSED'],
    async handler({ body, http }) {
      const next = await refresh.rotate(body.refreshToken);
      const account = await accounts.findById(next.accountId);
      if (!account || account.disabled) {
        await refresh.revokeFamilyOf(next.refreshToken);
        throw refreshInvalid();
      }
      return tokenPair(runtime, account, http, next.refreshToken);
    },
  });

  const logout = defineRoute<Record<string, string>, Record<string, never>, { refreshToken: string }>({
    method: 'POST',
    path: '/auth/logout',
    tags: ['auth'],
    summary: 'Sign out one sign-in',
    description:
      'Revokes every refresh token of the sign-in this one belongs to. Answers 204 for an unknown token too. Access tokens already issued stay valid until they expire.',
    body: REFRESH_BODY,
    status: 204,
    errors: ['KILN_VALIDATION_FAILED'],
    async handler({ body }) {
      await refresh.revokeFamilyOf(body.refreshToken);
    },
  });

  const logoutAll = defineRoute({
    method: 'POST',
    path: '/auth/logout/all',
    tags: ['auth'],
    summary: 'Sign out everywhere',
    description: 'Revokes every refresh token and browser session of the signed-in account. Access tokens already issued stay valid until they expire.',
    authenticated: true,
    status: 204,
    errors: ['KILN_UNAUTHENTICATED', 'KILN_FORBIDDEN'],
    async handler({ ctx }) {
      const account = await callerAccount(ctx, true);
      await revokeEverything(account.id);
    },
  });

  const me = defineRoute({
    method: 'GET',
    path: '/auth/me',
    tags: ['auth'],
    summary: 'The signed-in account',
    description: `The ${accounts.resource.singular} of the caller, as GET /${accounts.resource.path}/{id} writes it.`,
    authenticated: true,
    response: { resource: accounts.resource.name },
    errors: ['KILN_UNAUTHENTICATED'],
    async handler({ ctx, ops }) {
      const account = await callerAccount(ctx, false);
      try {
        // From the primary, like every auth table: an account just signed up may not be on a read replica yet.
        return await ops.get(readingPrimary(ctx), accounts.resource.name, account.id);
      } catch (error) {
        // Out of the caller's read access, it reads as missing: for the caller, there is no account.
        if (error instanceof KilnError && error.code === 'KILN_NOT_FOUND') throw unauthenticated('the account of this credential no longer exists');
        throw error;
      }
    },
  });

  const changePassword = defineRoute<Record<string, string>, Record<string, never>, { currentPassword: string; newPassword: string }>({
    method: 'POST',
    path: '/auth/password',
    tags: ['auth'],
    summary: 'Change the password',
    description:
      'Needs the current password. Signs the account out everywhere else (every refresh token and browser session is revoked) and answers a new token pair, so the caller stays signed in. Limited like sign-in.',
    authenticated: true,
    body: {
      type: 'object',
      properties: { currentPassword: PASSWORD_SCHEMA, newPassword: { type: 'string', maxLength: accounts.config.password.maxLength, writeOnly: true } },
      required: ['currentPassword', 'newPassword'],
      additionalProperties: false,
    },
    response: TOKEN_PAIR_RESPONSE,
    errors: [
      'KILN_VALIDATION_FAILED',
      'KILN_UNAUTHENTICATED',
      'KILN_FORBIDDEN',
      'KILN_AUTH_INVALID_CREDENTIALS',
      'KILN_AUTH_ACCOUNT_DISABLED',
      'KILN_RATE_LIMITED',
      'KILN_REDIS_UNAVAILABLE',
    ],
    async handler({ ctx, body, http }) {
      const account = await callerAccount(ctx, true);
      const policy = passwords.policyErrors(body.newPassword, account.login, '/newPassword');
      if (policy.length > 0) throw validationFailed(policy);
      await limiter.consume('ip', http.ip);
      await limiter.consume('account', account.login);
      if (!(await passwords.verify(account.passwordHash, body.currentPassword))) throw invalidCredentials();
      if (account.disabled) throw accountDisabled();
      await limiter.reward('account', account.login);
      const hash = await passwords.hash(body.newPassword);
      await runtime.db.transaction(async (tx) => {
        await accounts.setPasswordHash(account.id, hash, tx);
        await refresh.revokeAll(account.id, tx);
      });
      await sessions?.revokeAll(account.id);
      return tokenPair(runtime, account, http);
    },
  });

  const routes: AnyRoute[] = [login, refreshRoute, logout, logoutAll, me, changePassword];
  if (accounts.config.signup.enabled) routes.unshift(signupRoute(runtime));
  return { routes };
}
