/**
 * The API-key part of authentication: keys are accepted as `Authorization: Bearer kiln_…` and in the
 * KILN_AUTH_API_KEY_HEADER header, and a signed-in account manages its own keys under
 * /auth/api-keys. Only an account signed in in person (access token or session) creates keys, and
 * only with roles it holds: a key cannot mint another key, so a leaked one cannot outlive its revocation.
 */
import { StartupError } from '../config/startup-error.js';
import { KilnError } from '../core/errors.js';
import type { JsonSchema } from '../core/schemas.js';
import { defineRoute } from '../extensions/define.js';
import type { AnyRoute } from '../extensions/types.js';
import type { RequestContext } from '../pipeline/context.js';
import { type AccountStore, AUTHENTICATED_ROLE } from './account-store.js';
import { type ApiKeyInfo, type ApiKeys, apiKeyBearer, apiKeyHeaderAuthenticator, MAX_KEYS_PER_ACCOUNT } from './api-keys.js';
import type { AuthModule, AuthRuntime } from './runtime.js';

const DAY_MS = 86_400_000;
/** Headers that already carry other credentials: a key there would be read as something else. */
const RESERVED_HEADERS = ['authorization', 'cookie'];

const ROLE_SCHEMA = { type: 'string', maxLength: 63, pattern: '^[a-z][a-z0-9_-]{0,62}$' } as const satisfies JsonSchema;
const TIMESTAMP = { type: 'string', format: 'date-time', maxLength: 40 } as const satisfies JsonSchema;
const NULLABLE_TIMESTAMP = { type: ['string', 'null'], format: 'date-time', maxLength: 40 } as const satisfies JsonSchema;

const KEY_PROPERTIES = {
  id: { type: 'string', format: 'uuid', maxLength: 36 },
  name: { type: 'string', maxLength: 100 },
  roles: { type: 'array', items: ROLE_SCHEMA, maxItems: 50 },
  createdAt: TIMESTAMP,
  expiresAt: { ...NULLABLE_TIMESTAMP, description: 'When the key stops working; null for a key that does not expire.' },
} as const satisfies Record<string, JsonSchema>;

const CREATED_KEY = {
  type: 'object',
  properties: {
    data: {
      type: 'object',
      properties: {
        ...KEY_PROPERTIES,
        key: {
          type: 'string',
          maxLength: 100,
          description: 'The key itself, shown this once: Kiln keeps only its hash. Send it as `Authorization: Bearer <key>`.',
        },
      },
      required: ['id', 'name', 'roles', 'createdAt', 'expiresAt', 'key'],
    },
  },
  required: ['data'],
} as const satisfies JsonSchema;

const KEY_LIST = {
  type: 'object',
  properties: {
    data: {
      type: 'array',
      maxItems: MAX_KEYS_PER_ACCOUNT,
      items: {
        type: 'object',
        properties: { ...KEY_PROPERTIES, lastUsedAt: { ...NULLABLE_TIMESTAMP, description: 'Last use, to the minute; null if never used.' } },
        required: ['id', 'name', 'roles', 'createdAt', 'expiresAt', 'lastUsedAt'],
      },
    },
  },
  required: ['data'],
} as const satisfies JsonSchema;

interface CreateBody {
  name: string;
  roles?: string[];
  expiresInDays?: number;
}

/** The API keys of a runtime that has accounts. */
export function apiKeyModule(runtime: AuthRuntime, keys: ApiKeys): AuthModule {
  const { accounts } = runtime;
  if (!accounts) throw new Error('API keys need auth.accounts in the model');
  const header = runtime.settings.authApiKeyHeader.toLowerCase();
  if (RESERVED_HEADERS.includes(header)) {
    throw new StartupError(`KILN_AUTH_API_KEY_HEADER cannot be ${header}: it carries other credentials; choose a header of its own, e.g. x-api-key`);
  }

  const create = defineRoute<Record<string, string>, Record<string, never>, CreateBody>({
    method: 'POST',
    path: '/auth/api-keys',
    tags: ['auth'],
    summary: 'Create an API key',
    description:
      'Creates a key that acts as the calling account with the given roles (all of its roles when none are given; only roles it holds). The key is in the answer once and never again. Only an account signed in with an access token or a session may create keys: an API key may not.',
    authenticated: true,
    body: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 100, description: 'What the key is for, to recognise it in the list.' },
        roles: { type: 'array', items: ROLE_SCHEMA, uniqueItems: true, maxItems: 50 },
        expiresInDays: {
          type: 'integer',
          format: 'int32',
          minimum: 1,
          maximum: 3650,
          description: 'Days until the key stops working; without it, it works until revoked.',
        },
      },
      required: ['name'],
      additionalProperties: false,
    },
    status: 201,
    response: CREATED_KEY,
    errors: ['KILN_VALIDATION_FAILED', 'KILN_UNAUTHENTICATED', 'KILN_FORBIDDEN', 'KILN_AUTH_KEY_LIMIT'],
    async handler({ ctx, body }) {
      const account = await signedInAccount(accounts, ctx);
      const wanted = (body.roles ?? account.roles).filter((role) => role !== AUTHENTICATED_ROLE);
      const notHeld = wanted.filter((role) => !account.roles.includes(role));
      if (notHeld.length > 0) {
        throw new KilnError('KILN_FORBIDDEN', {
          detail: `an API key may carry only roles your account holds; it does not hold ${notHeld.map((r) => `"${r}"`).join(', ')}`,
        });
      }
      const created = await keys.create({
        accountId: account.id,
        name: body.name,
        roles: wanted,
        expiresAt: body.expiresInDays === undefined ? null : new Date(Date.now() + body.expiresInDays * DAY_MS),
      });
      ctx.log.info({ apiKeyId: created.id, accountId: account.id }, 'api key created');
      const { accountId: _owner, lastUsedAt: _used, revokedAt: _revoked, ...shown } = created;
      return { data: shown };
    },
  });

  const list = defineRoute({
    method: 'GET',
    path: '/auth/api-keys',
    tags: ['auth'],
    summary: "List the caller's API keys",
    description: 'The keys of the calling account that are not revoked, oldest first, without their secrets (expired ones included, with their expiresAt).',
    authenticated: true,
    response: KEY_LIST,
    errors: ['KILN_UNAUTHENTICATED', 'KILN_FORBIDDEN'],
    async handler({ ctx }) {
      const listed = await keys.list({ accountId: ownerOf(ctx) });
      return { data: listed.map(({ accountId: _owner, revokedAt: _revoked, ...shown }: ApiKeyInfo) => shown) };
    },
  });

  const revoke = defineRoute<{ id: string }>({
    method: 'DELETE',
    path: '/auth/api-keys/:id',
    tags: ['auth'],
    summary: 'Revoke an API key',
    description: 'The key stops working at once. Only keys of the calling account can be revoked; any other id is not found.',
    authenticated: true,
    params: { type: 'object', properties: { id: { type: 'string', format: 'uuid', maxLength: 36 } }, required: ['id'] },
    status: 204,
    errors: ['KILN_PATH_INVALID', 'KILN_UNAUTHENTICATED', 'KILN_FORBIDDEN', 'KILN_NOT_FOUND'],
    async handler({ ctx, params }) {
      // Another account's key answers as one that does not exist: a 403 would confirm that it does.
      const revoked = await keys.revoke(params.id, ownerOf(ctx));
      if (!revoked) throw new KilnError('KILN_NOT_FOUND', { detail: `you have no API key ${params.id} (or it is revoked already)` });
      ctx.log.info({ apiKeyId: revoked.id, accountId: revoked.accountId }, 'api key revoked');
    },
  });

  return {
    routes: [create, list, revoke] as AnyRoute[],
    bearer: [apiKeyBearer(keys)],
    authenticators: [apiKeyHeaderAuthenticator(keys, header)],
  };
}

/** The account whose keys the caller manages: itself, whether signed in or acting through one of its keys. */
function ownerOf(ctx: RequestContext): string {
  const { kind, id } = ctx.principal;
  if ((kind !== 'account' && kind !== 'apiKey') || id === null) throw new KilnError('KILN_FORBIDDEN', { detail: 'only an account has API keys' });
  return String(id);
}

/** The account signed in in person; an API key (or a service) may not create keys. */
async function signedInAccount(accounts: AccountStore, ctx: RequestContext) {
  const { kind, id } = ctx.principal;
  if (kind === 'apiKey') {
    throw new KilnError('KILN_FORBIDDEN', {
      detail: 'an API key cannot create API keys: sign in as the account (access token or session) to create one',
    });
  }
  if (kind !== 'account' || id === null) throw new KilnError('KILN_FORBIDDEN', { detail: 'only a signed-in account can create API keys' });
  // The account as it is now, not as the token saw it: disabled since, or with other roles.
  const account = await accounts.findById(String(id));
  if (!account || account.disabled) throw new KilnError('KILN_FORBIDDEN', { detail: 'this account is disabled or no longer exists' });
  return account;
}
