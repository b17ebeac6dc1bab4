/**
 * The routes of the flows that go through mail: forgotten password (ask for a link, then set a new
 * password with its token) and email verification (ask for a link, then confirm with its token).
 * Served only when mail can be delivered (account-mail.ts). No answer says whether a login is
 * registered: asking for a reset answers the same for every login, and every unusable token (unknown,
 * spent, expired) is refused with the same code.
 */
import { KilnError } from '../core/errors.js';
import { validationFailed } from '../core/input.js';
import type { JsonSchema } from '../core/schemas.js';
import { defineRoute } from '../extensions/define.js';
import type { AnyRoute } from '../extensions/types.js';
import type { RequestContext } from '../pipeline/context.js';
import type { AccountMailer } from './account-mail.js';
import type { Account, AccountStore } from './account-store.js';
import type { AuthModule, AuthRuntime } from './runtime.js';

/** Long enough for any token Kiln hands out (43 characters), short enough that nobody hashes megabytes. */
const TOKEN_SCHEMA = { type: 'string', minLength: 1, maxLength: 128, writeOnly: true } as const satisfies JsonSchema;

const ACCEPTED = {
  type: 'object',
  properties: { data: { type: 'object', properties: { message: { type: 'string', maxLength: 500 } }, required: ['message'] } },
  required: ['data'],
} as const satisfies JsonSchema;

/** One code for every unusable token, so a refusal tells nothing about why. */
export function tokenInvalid(): KilnError {
  return new KilnError('KILN_AUTH_TOKEN_INVALID', {
    detail: 'this token is unknown, already used or expired: ask for a new mail',
  });
}

/** The mail flows of a runtime that has accounts and mail. */
export function mailModule(runtime: AuthRuntime, mail: AccountMailer): AuthModule {
  const { accounts, passwords, limiter } = runtime;
  if (!accounts || !passwords || !limiter) throw new Error('the mail flows need auth.accounts in the model');
  const limit = (kind: 'ip' | 'account', key: string) => limiter.consume(kind, key);

  const forgot = defineRoute<Record<string, string>, Record<string, never>, { login: string }>({
    method: 'POST',
    path: '/auth/password/forgot',
    tags: ['auth'],
    summary: 'Ask for a password-reset mail',
    description:
      'Sends a link to reset the password to the account with this login, if there is one and it is enabled. The answer is the same whether or not the login is registered; the link works once, within 30 minutes, and a new request makes earlier links stop working. Limited per client IP and per login.',
    body: {
      type: 'object',
      properties: { login: { type: 'string', minLength: 1, maxLength: 320 } },
      required: ['login'],
      additionalProperties: false,
    },
    status: 202,
    response: ACCEPTED,
    errors: ['KILN_VALIDATION_FAILED', 'KILN_RATE_LIMITED', 'KILN_REDIS_UNAVAILABLE'],
    async handler({ body, http }) {
      await limit('ip', http.ip);
      const login = accounts.normalizeLogin(body.login);
      await limit('account', login);
      const account = await accounts.findByLogin(login);
      // Not awaited: the time of the answer must not tell whether a mail was made and sent.
      if (account && !account.disabled) void mail.sendPasswordReset(account);
      return { data: { message: 'if an account has this login, a mail with a link to reset its password is on its way' } };
    },
  });

  const reset = defineRoute<Record<string, string>, Record<string, never>, { token: string; password: string }>({
    method: 'POST',
    path: '/auth/password/reset',
    tags: ['auth'],
    summary: 'Set a new password with the token of a reset mail',
    description:
      'Sets the password of the account the token was sent to, marks its email address verified (the mail reached its owner), and signs it out everywhere: every refresh token and session of the account is revoked. The token works once.',
    body: {
      type: 'object',
      properties: { token: TOKEN_SCHEMA, password: { type: 'string', maxLength: accounts.config.password.maxLength, writeOnly: true } },
      required: ['token', 'password'],
      additionalProperties: false,
    },
    status: 204,
    errors: ['KILN_VALIDATION_FAILED', 'KILN_AUTH_TOKEN_INVALID', 'KILN_RATE_LIMITED', 'KILN_REDIS_UNAVAILABLE'],
    async handler({ body, http }) {
      await limit('ip', http.ip);
      // The token is checked, not spent, before the password: a password the policy refuses leaves the link usable.
      const account = await liveAccount(accounts, await mail.tokens.peek(body.token, 'reset'));
      const problems = passwords.policyErrors(body.password, account.login);
      if (problems.length > 0) throw validationFailed(problems);
      const hash = await passwords.hash(body.password);
      await runtime.db.transaction(async (tx) => {
        if (!(await mail.tokens.consume(body.token, 'reset', tx))) throw tokenInvalid();
        await accounts.setPasswordHash(account.id, hash, tx);
        await accounts.setVerified(account.id, true, tx);
        await runtime.refresh?.revokeAll(account.id, tx);
      });
      await runtime.sessions?.revokeAll(account.id);
    },
  });

  const requestVerification = defineRoute({
    method: 'POST',
    path: '/auth/verify/request',
    tags: ['auth'],
    summary: 'Ask for a new verification mail',
    description:
      "Sends a new link to verify the caller's email address (earlier links stop working); nothing is sent when it is verified already. The link works once, within 24 hours. Limited per client IP and per account.",
    authenticated: true,
    status: 202,
    response: ACCEPTED,
    errors: ['KILN_UNAUTHENTICATED', 'KILN_FORBIDDEN', 'KILN_RATE_LIMITED', 'KILN_REDIS_UNAVAILABLE'],
    async handler({ ctx, http }) {
      const account = await callerAccount(accounts, ctx);
      await limit('ip', http.ip);
      await limit('account', account.login);
      if (!account.verified && !account.disabled) void mail.sendVerification(account);
      return { data: { message: 'if this address is not verified yet, a mail with a link to verify it is on its way' } };
    },
  });

  const verify = defineRoute<Record<string, string>, Record<string, never>, { token: string }>({
    method: 'POST',
    path: '/auth/verify',
    tags: ['auth'],
    summary: 'Verify an email address with the token of a verification mail',
    description: 'Marks the email address of the account the token was sent to as verified. The token works once.',
    body: { type: 'object', properties: { token: TOKEN_SCHEMA }, required: ['token'], additionalProperties: false },
    status: 204,
    errors: ['KILN_VALIDATION_FAILED', 'KILN_AUTH_TOKEN_INVALID', 'KILN_RATE_LIMITED', 'KILN_REDIS_UNAVAILABLE'],
    async handler({ body, http }) {
      await limit('ip', http.ip);
      const accountId = await mail.tokens.consume(body.token, 'verify');
      if (!accountId || !(await accounts.setVerified(accountId, true))) throw tokenInvalid();
    },
  });

  return {
    routes: [forgot, reset, requestVerification, verify] as AnyRoute[],
    close: () => mail.close(),
  };
}

/** The account a live token names, if it still exists and may act; the same refusal otherwise. */
async function liveAccount(accounts: AccountStore, accountId: string | undefined): Promise<Account> {
  const account = accountId === undefined ? undefined : await accounts.findById(accountId);
  if (!account || account.disabled) throw tokenInvalid();
  return account;
}

/**
 * The account calling, signed in or through one of its API keys. Any other caller (a service, a
 * token of an external provider) has no address here: its id is not an account's, even when it looks like one.
 */
async function callerAccount(accounts: AccountStore, ctx: RequestContext): Promise<Account> {
  const { kind, id } = ctx.principal;
  const account = (kind === 'account' || kind === 'apiKey') && id !== null ? await accounts.findById(String(id)) : undefined;
  if (!account) throw new KilnError('KILN_FORBIDDEN', { detail: 'only an account, signed in or through one of its API keys, has an email address to verify' });
  return account;
}
