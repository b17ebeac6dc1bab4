/**
 * Checking a login and a password: what every way of signing in with a password shares (the token
 * login, the session login). An unknown login and a wrong password get the same answer after the same
 * work (one argon2 verification), so neither the body nor the time of an answer tells whether an
 * account exists. What is known only to whoever holds the right password (the account is disabled or
 * not verified) is said only after the password was checked.
 */
import { KilnError } from '../core/errors.js';
import type { JsonSchema } from '../core/schemas.js';
import type { Account } from './account-store.js';
import type { AuthRuntime } from './runtime.js';

/** Longest login and password a sign-in accepts: above any the model allows, and a bound on the work. */
export const LOGIN_SCHEMA = { type: 'string', minLength: 1, maxLength: 320 } as const satisfies JsonSchema;
export const PASSWORD_SCHEMA = { type: 'string', minLength: 1, maxLength: 1024, writeOnly: true } as const satisfies JsonSchema;

/** The body of a sign-in with a password, for tokens (POST /auth/login) or a session (POST /auth/session). */
export const SIGN_IN_BODY = {
  type: 'object',
  properties: { login: LOGIN_SCHEMA, password: PASSWORD_SCHEMA },
  required: ['login', 'password'],
  additionalProperties: false,
} as const satisfies JsonSchema;

/** What a sign-in with a password may answer besides success. */
export const SIGN_IN_ERRORS = [
  'KILN_VALIDATION_FAILED',
  'KILN_AUTH_INVALID_CREDENTIALS',
  'KILN_AUTH_ACCOUNT_DISABLED',
  'KILN_AUTH_NOT_VERIFIED',
  'KILN_RATE_LIMITED',
  'KILN_REDIS_UNAVAILABLE',
];

export interface CredentialsArgs {
  readonly login: string;
  readonly password: string;
  /** The client's address, for the per-IP limit. */
  readonly ip: string;
}

/** The password services of a runtime whose model declares accounts; throws when it does not (a wiring mistake). */
export function passwordServices(runtime: AuthRuntime) {
  const { accounts, passwords, limiter } = runtime;
  if (!accounts || !passwords || !limiter) throw new Error('password sign-in needs auth.accounts in the model');
  return { accounts, passwords, limiter };
}

/**
 * The account `login` and `password` sign in to. Limited per IP and per normalised login (429); 401
 * KILN_AUTH_INVALID_CREDENTIALS for an unknown login, a wrong password, or a disabled account with a
 * wrong password; with the right password, 403 KILN_AUTH_ACCOUNT_DISABLED or KILN_AUTH_NOT_VERIFIED
 * (when the model requires verification). A hash made with older costs is replaced on success.
 */
export async function checkCredentials(runtime: AuthRuntime, args: CredentialsArgs): Promise<Account> {
  const { accounts, passwords, limiter } = passwordServices(runtime);
  const login = accounts.normalizeLogin(args.login);
  await limiter.consume('ip', args.ip);
  await limiter.consume('account', login);
  const account = await accounts.findByLogin(login);
  const matches = await passwords.verify(account?.passwordHash ?? null, args.password);
  if (!account || !matches) throw invalidCredentials();
  if (account.disabled) throw accountDisabled();
  if (runtime.auth.accounts?.verification === 'required' && !account.verified) {
    throw new KilnError('KILN_AUTH_NOT_VERIFIED', {
      detail: 'this account must verify its email address before signing in: follow the link in the verification mail',
    });
  }
  // A successful sign-in does not use up the account's attempts: only failures count toward its limit.
  await limiter.reward('account', login);
  if (account.passwordHash && passwords.needsRehash(account.passwordHash)) {
    await accounts.setPasswordHash(account.id, await passwords.hash(args.password));
  }
  return account;
}

export function invalidCredentials(): KilnError {
  return new KilnError('KILN_AUTH_INVALID_CREDENTIALS', { detail: 'the login or the password is wrong' });
}

export function accountDisabled(): KilnError {
  return new KilnError('KILN_AUTH_ACCOUNT_DISABLED', { detail: 'this account is disabled; ask an operator to enable it' });
}
