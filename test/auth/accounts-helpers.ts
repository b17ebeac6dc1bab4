/**
 * What the password-account suites share: a small model with accounts, cheap argon2 costs, exact
 * problem bodies, and the sign-up and sign-in calls.
 */
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { Settings } from '../../src/config/settings.js';
import { ERRORS } from '../../src/core/errors.js';
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow } from '../../src/model/load.js';
import type { TestResponse, TestServer } from '../helpers/server.js';

/** The cheapest argon2 costs Kiln accepts: the suites are about the flows, not the hashing cost. */
export const FAST_HASHING: Partial<Settings> = { passwordMemoryKib: 8192, passwordTimeCost: 1 };

export const PASSWORD = 'correct horse battery';

export interface AccountsModelOptions {
  readonly verification?: 'optional' | 'required';
  readonly signup?: Record<string, unknown>;
  readonly hooks?: Record<string, unknown>;
}

/** Members with an email login and a name, and notes they write. */
export function accountsModel(options: AccountsModelOptions = {}): Model {
  return compileOrThrow('accounts test model', {
    auth: {
      accounts: {
        resource: 'members',
        login: 'email',
        signup: { fields: ['name'], ...options.signup },
        ...(options.verification && { verification: options.verification }),
      },
    },
    resources: {
      members: {
        fields: {
          email: { type: 'string', format: 'email', maxLength: 254, unique: true },
          name: { type: 'string', minLength: 1, maxLength: 100 },
        },
        ...(options.hooks && { hooks: options.hooks }),
      },
    },
  });
}

/** Asserts the exact problem+json body of an error answer (all but the request id, which is checked to be the response's). */
export async function expectExactProblem(
  res: TestResponse,
  status: number,
  code: keyof typeof ERRORS,
  detail: string,
  errors?: readonly { path: string; code: string; message: string }[],
): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const { instance, ...body } = JSON.parse(text);
  assert.equal(instance, res.headers.get('x-request-id'));
  assert.deepEqual(body, {
    type: `https://kiln.dev/errors/${code}`,
    title: ERRORS[code].title,
    status,
    detail,
    code,
    ...(errors && { errors }),
  });
}

export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string;
}

export function signup(server: TestServer, email: string, password = PASSWORD, name = 'Ada'): Promise<TestResponse> {
  return server.fetch('/v1/auth/signup', { method: 'POST', json: { email, password, name } });
}

export function login(server: TestServer, email: string, password = PASSWORD): Promise<TestResponse> {
  return server.fetch('/v1/auth/login', { method: 'POST', json: { login: email, password } });
}

/** Signs in and answers the pair; fails the test on any other answer. */
export async function tokensOf(res: TestResponse): Promise<Tokens> {
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const { data } = JSON.parse(text);
  assert.deepEqual(Object.keys(data).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
  assert.equal(data.tokenType, 'Bearer');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return data;
}

/** A new account that can sign in: signed up, then signed in. */
export async function signedUp(server: TestServer, email: string, password = PASSWORD): Promise<Tokens> {
  assert.equal((await signup(server, email, password)).status, 202);
  return tokensOf(await login(server, email, password));
}

export function refresh(server: TestServer, refreshToken: string): Promise<TestResponse> {
  return server.fetch('/v1/auth/refresh', { method: 'POST', json: { refreshToken } });
}

export function bearer(accessToken: string): { authorization: string } {
  return { authorization: `Bearer ${accessToken}` };
}

export const INVALID_CREDENTIALS = 'the login or the password is wrong';
export const REFRESH_INVALID = 'the refresh token is unknown, revoked or expired; sign in again';
export const REFRESH_REUSED = 'the refresh token was already used; every token of its sign-in is revoked as a precaution: sign in again';

export const REDIS_URL = 'redis://127.0.0.1:6379';
/** The window the rate-limit suites configure. */
export const RATE_WINDOW_S = 60;

/** The exact 429 of a limit, its Retry-After a whole number of seconds within the window. */
export async function expectRateLimited(res: TestResponse, kind: 'ip' | 'account'): Promise<void> {
  const retryAfter = res.headers.get('retry-after') ?? '';
  assert.match(retryAfter, /^\d+$/, `Retry-After is whole seconds, got "${retryAfter}"`);
  assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= RATE_WINDOW_S, `Retry-After ${retryAfter} within the window`);
  const who = kind === 'ip' ? 'from this address' : 'for this account';
  await expectExactProblem(res, 429, 'KILN_RATE_LIMITED', `too many attempts ${who}; retry in ${retryAfter} seconds`);
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}
