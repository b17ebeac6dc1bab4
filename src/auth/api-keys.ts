/**
 * API keys for machine clients: `kiln_<lookup>_<secret>`, a recognisable prefix that secret scanners
 * can match, a public lookup id that finds the row with one index probe, and 32 random bytes of
 * secret of which only the SHA-256 is kept. A key belongs to an account and acts as it, with the
 * key's roles narrowed to those the account still holds: the account is read with the key on every
 * use, so disabling it or taking a role away takes effect at once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { KilnError } from '../core/errors.js';
import type { Queryable } from '../db/database.js';
import { ACCOUNT_FIELDS, type Resource } from '../model/ir.js';
import type { Authenticator } from '../pipeline/authenticate.js';
import type { Principal } from '../pipeline/context.js';
import { principalOf, rolesOf } from './account-store.js';
import type { BearerVerifier } from './bearer.js';
import { invalidToken } from './jwt.js';
import { hashSecret, newSecret, safeEqual } from './secrets.js';

/** The most keys an account may hold that are not revoked. */
export const MAX_KEYS_PER_ACCOUNT = 100;

export const API_KEY_PREFIX = 'kiln_';
const LOOKUP_LENGTH = 12;
const LOOKUP_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const KEY_FORMAT = /^kiln_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** last_used_at is written at most this often per key: a busy key must not cost a write per request. */
const LAST_USED_EVERY_S = 60;

/**
 * The one answer to every key that cannot be used, whatever the reason (unknown, wrong secret,
 * revoked, expired, account disabled): which of them it was would tell a holder of a stolen key
 * more than it should know.
 */
const INVALID_KEY = 'the API key is not valid: it is unknown, revoked or expired, or its account is disabled';

/** A key as listed: everything but the secret. */
export interface ApiKeyInfo {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

/** A key just created: the only time its full text exists outside the client. */
export interface CreatedApiKey extends ApiKeyInfo {
  readonly key: string;
}

export interface NewApiKey {
  readonly accountId: string;
  readonly name: string;
  readonly roles: readonly string[];
  /** Null or absent: the key does not expire. */
  readonly expiresAt?: Date | null;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

const COLUMNS = `"id"::text AS "id", "account_id" AS "accountId", "name", "roles", "created_at" AS "createdAt", "expires_at" AS "expiresAt", "last_used_at" AS "lastUsedAt", "revoked_at" AS "revokedAt"`;

export class ApiKeys {
  readonly #db: Queryable;
  /** Reads a key with the state of its account, in one statement (see #authenticateSql). */
  readonly #authenticateSql: string;

  constructor(db: Queryable, accountResource: Resource) {
    this.#db = db;
    const column = (field: string) => quote(accountResource.fieldsByName.get(field)?.column ?? field);
    // The key side is cast to the account id's type, not the other way round: the join then probes
    // the account's primary key instead of casting every account id to text.
    this.#authenticateSql = `SELECT k."id"::text AS "id", k."secret_hash" AS "secretHash", k."roles" AS "roles", k."account_id" AS "accountId",
  a.${column(ACCOUNT_FIELDS.roles)} AS "accountRoles", a.${column(ACCOUNT_FIELDS.disabled)} AS "disabled",
  (k."revoked_at" IS NULL AND (k."expires_at" IS NULL OR k."expires_at" > now())) AS "usable",
  (k."last_used_at" IS NULL OR k."last_used_at" < now() - interval '${LAST_USED_EVERY_S} seconds') AS "stale"
FROM "kiln_auth_api_keys" k JOIN ${quote(accountResource.table)} a ON a.${column('id')} = k."account_id"::${accountResource.idType}
WHERE k."lookup" = $1`;
  }

  /** Whether a credential is meant as an API key (then it is checked as one, and refused if it is not valid). */
  static claims(credential: string): boolean {
    return credential.startsWith(API_KEY_PREFIX);
  }

  async create(key: NewApiKey, q: Queryable = this.#db): Promise<CreatedApiKey> {
    const lookup = newLookup();
    const secret = newSecret();
    // The number of live keys is bounded, so the list of an account's keys is too.
    const rows = await q.query<RawKey>(
      `INSERT INTO "kiln_auth_api_keys" ("id", "lookup", "secret_hash", "name", "account_id", "roles", "expires_at")
SELECT $1, $2, $3, $4, $5, $6, $7
WHERE (SELECT count(*) FROM "kiln_auth_api_keys" WHERE "account_id" = $5 AND "revoked_at" IS NULL) < $8
RETURNING ${COLUMNS}`,
      [randomUUID(), lookup, hashSecret(secret), key.name, key.accountId, JSON.stringify(uniqueRoles(key.roles)), key.expiresAt ?? null, MAX_KEYS_PER_ACCOUNT],
    );
    if (rows.length === 0) {
      throw new KilnError('KILN_AUTH_KEY_LIMIT', {
        detail: `an account holds at most ${MAX_KEYS_PER_ACCOUNT} API keys that are not revoked; revoke unused ones first`,
      });
    }
    return Object.freeze({ ...toInfo(rows[0] as RawKey), key: `${API_KEY_PREFIX}${lookup}_${secret}` });
  }

  /** The keys of one account, or of every account; revoked keys only when asked. Oldest first. */
  async list(options: { accountId?: string; includeRevoked?: boolean } = {}, q: Queryable = this.#db): Promise<ApiKeyInfo[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (options.accountId !== undefined) {
      values.push(options.accountId);
      where.push(`"account_id" = $${values.length}`);
    }
    if (!options.includeRevoked) where.push(`"revoked_at" IS NULL`);
    const rows = await q.query<RawKey>(
      `SELECT ${COLUMNS} FROM "kiln_auth_api_keys"${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY "created_at", "id"`,
      values,
    );
    return rows.map(toInfo);
  }

  /** Revokes a key that is not yet revoked (of `accountId` only, when given); the key, or undefined when there is none. */
  async revoke(id: string, accountId?: string, q: Queryable = this.#db): Promise<ApiKeyInfo | undefined> {
    if (!UUID.test(id)) return undefined;
    const rows = await q.query<RawKey>(
      `UPDATE "kiln_auth_api_keys" SET "revoked_at" = now() WHERE "id" = $1 AND "revoked_at" IS NULL${accountId === undefined ? '' : ' AND "account_id" = $2'} RETURNING ${COLUMNS}`,
      accountId === undefined ? [id] : [id, accountId],
    );
    return rows[0] && toInfo(rows[0]);
  }

  /**
   * The caller a key is: undefined when the credential is not meant as a key (no `kiln_` prefix);
   * throws 401 (invalidToken) when it is and cannot be used.
   */
  async authenticate(credential: string): Promise<Principal | undefined> {
    if (!ApiKeys.claims(credential)) return undefined;
    const match = KEY_FORMAT.exec(credential);
    if (!match) throw invalidToken(INVALID_KEY);
    const [, lookup, secret] = match as unknown as [string, string, string];
    const [row] = await this.#db.query<RawUse>(this.#authenticateSql, [lookup]);
    if (!row || !safeEqual(hashSecret(secret), row.secretHash) || !row.usable || row.disabled === true) throw invalidToken(INVALID_KEY);
    if (row.stale) {
      await this.#db.query(`UPDATE "kiln_auth_api_keys" SET "last_used_at" = now() WHERE "id" = $1`, [row.id]);
    }
    const held = new Set(rolesOf(row.accountRoles));
    return principalOf({ id: row.accountId, roles: rolesOf(row.roles).filter((role) => held.has(role)) }, 'apiKey');
  }
}

/** `Authorization: Bearer kiln_…`. */
export function apiKeyBearer(keys: ApiKeys): BearerVerifier {
  return (token) => keys.authenticate(token);
}

/** The key in its own header (KILN_AUTH_API_KEY_HEADER): sent there, it must be a valid key. */
export function apiKeyHeaderAuthenticator(keys: ApiKeys, header: string): Authenticator {
  const name = header.toLowerCase();
  const verify = async (value: string): Promise<Principal> => {
    const principal = await keys.authenticate(value.trim());
    if (!principal) throw invalidToken(INVALID_KEY); // no kiln_ prefix: this header carries nothing else
    return principal;
  };
  // Synchronous without the header: no promise for a request that carries no key.
  return ({ headers }) => {
    const value = headers[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalidToken(`send one ${name} header, not several`);
    return verify(value);
  };
}

/** 12 characters of [a-z0-9], each equally likely (bytes past the last whole multiple of 36 are skipped). */
function newLookup(): string {
  let lookup = '';
  while (lookup.length < LOOKUP_LENGTH) {
    for (const byte of randomBytes(LOOKUP_LENGTH * 2)) {
      if (byte < 252 && lookup.length < LOOKUP_LENGTH) lookup += LOOKUP_ALPHABET[byte % LOOKUP_ALPHABET.length];
    }
  }
  return lookup;
}

function uniqueRoles(roles: readonly string[]): string[] {
  return [...new Set(roles)];
}

interface RawKey {
  id: string;
  accountId: string;
  name: string;
  roles: unknown;
  createdAt: Date | string;
  expiresAt: Date | string | null;
  lastUsedAt: Date | string | null;
  revokedAt: Date | string | null;
}

interface RawUse {
  id: string;
  secretHash: string;
  roles: unknown;
  accountId: string;
  accountRoles: unknown;
  disabled: boolean | null;
  usable: boolean;
  stale: boolean;
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

function toInfo(raw: RawKey): ApiKeyInfo {
  return Object.freeze({
    id: raw.id,
    accountId: raw.accountId,
    name: raw.name,
    roles: Object.freeze(rolesOf(raw.roles)),
    createdAt: iso(raw.createdAt) as string,
    expiresAt: iso(raw.expiresAt),
    lastUsedAt: iso(raw.lastUsedAt),
    revokedAt: iso(raw.revokedAt),
  });
}
