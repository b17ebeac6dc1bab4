/**
 * What a client that signs in without a browser session gets: a short-lived access token and the
 * refresh token that renews it, answered with Cache-Control: no-store (RFC 6749 §5.1) so no cache
 * keeps them.
 */
import type { JsonSchema } from '../core/schemas.js';
import type { RouteHttp } from '../extensions/types.js';
import type { Account } from './account-store.js';
import type { AuthRuntime } from './runtime.js';

export interface TokenPair {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  readonly refreshToken: string;
}

export const TOKEN_PAIR_RESPONSE = {
  type: 'object',
  properties: {
    data: {
      type: 'object',
      properties: {
        accessToken: { type: 'string', maxLength: 8192, description: 'Send it as `Authorization: Bearer <accessToken>`.' },
        tokenType: { type: 'string', enum: ['Bearer'] },
        expiresIn: { type: 'integer', format: 'int32', minimum: 1, maximum: 86400, description: 'Seconds until the access token expires.' },
        refreshToken: { type: 'string', maxLength: 256, description: 'Exchange it once at POST /auth/refresh for a new pair.' },
      },
      required: ['accessToken', 'tokenType', 'expiresIn', 'refreshToken'],
      additionalProperties: false,
    },
  },
  required: ['data'],
  additionalProperties: false,
} as const satisfies JsonSchema;

/** An access token for `account`, with `refreshToken` (a new family when none is given). */
export async function tokenPair(
  runtime: AuthRuntime,
  account: Pick<Account, 'id' | 'roles'>,
  http: RouteHttp,
  refreshToken?: string,
): Promise<{ data: TokenPair }> {
  const { tokens, refresh } = runtime;
  if (!tokens || !refresh) throw new Error('token sign-in needs auth.accounts in the model');
  const { accessToken, expiresIn } = await tokens.issue(account);
  http.setHeader('cache-control', 'no-store');
  return { data: { accessToken, tokenType: 'Bearer', expiresIn, refreshToken: refreshToken ?? (await refresh.start(account.id)) } };
}
