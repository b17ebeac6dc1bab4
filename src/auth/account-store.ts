/**
 * The accounts as authentication sees them: the rows of the account resource, read and written by
 * their columns. The fields Kiln manages (password hash, roles, verified, disabled) are read-only or
 * hidden to the API, so they are written here and nowhere else; records are created through the
 * operations (src/auth/signup.ts), so the resource's validation and hooks apply to them too.
 */
import type { Queryable } from '../db/database.js';
import { ACCOUNT_FIELDS, type AccountsModel, type Resource } from '../model/ir.js';
import type { Principal } from '../pipeline/context.js';

/** An account with the state authentication decides on. `id` is always text, as it travels in tokens. */
export interface Account {
  readonly id: string;
  readonly login: string;
  readonly roles: readonly string[];
  readonly verified: boolean;
  readonly disabled: boolean;
  readonly passwordHash: string | null;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

const MAX_BIGINT = 9223372036854775807n;

/** The role every signed-in caller has, beside its own. */
export const AUTHENTICATED_ROLE = 'authenticated';

/** The caller an account is: its roles and the built-in `authenticated`. */
export function principalOf(account: Pick<Account, 'id' | 'roles'>, kind: Principal['kind'] = 'account'): Principal {
  return Object.freeze({ kind, id: account.id, roles: Object.freeze([AUTHENTICATED_ROLE, ...account.roles.filter((r) => r !== AUTHENTICATED_ROLE)]) });
}

export class AccountStore {
  readonly resource: Resource;
  readonly config: AccountsModel;
  readonly #db: Queryable;
  readonly #table: string;
  readonly #select: string;
  readonly #column: Readonly<Record<'id' | 'login' | 'passwordHash' | 'roles' | 'verified' | 'disabled', string>>;
  /** Emails are compared and stored in lower case: Ada@Example.com and ada@example.com are one account. */
  readonly #foldCase: boolean;

  constructor(db: Queryable, resource: Resource, config: AccountsModel) {
    this.#db = db;
    this.resource = resource;
    this.config = config;
    const column = (field: string) => {
      const found = resource.fieldsByName.get(field);
      if (!found) throw new Error(`the account resource ${resource.name} has no field ${field}`);
      return quote(found.column);
    };
    this.#column = {
      id: column('id'),
      login: column(config.login),
      passwordHash: column(ACCOUNT_FIELDS.passwordHash),
      roles: column(ACCOUNT_FIELDS.roles),
      verified: column(ACCOUNT_FIELDS.verified),
      disabled: column(ACCOUNT_FIELDS.disabled),
    };
    this.#table = quote(resource.table);
    const c = this.#column;
    this.#select = `SELECT ${c.id}::text AS "id", ${c.login} AS "login", ${c.roles} AS "roles", ${c.verified} AS "verified", ${c.disabled} AS "disabled", ${c.passwordHash} AS "passwordHash" FROM ${this.#table}`;
    this.#foldCase = resource.fieldsByName.get(config.login)?.format === 'email';
  }

  /** The login as stored: trimmed, and in lower case for an email. */
  normalizeLogin(login: string): string {
    const trimmed = login.trim();
    return this.#foldCase ? trimmed.toLowerCase() : trimmed;
  }

  async findByLogin(login: string, q: Queryable = this.#db): Promise<Account | undefined> {
    const rows = await q.query<RawAccount>(`${this.#select} WHERE ${this.#column.login} = $1`, [this.normalizeLogin(login)]);
    return rows[0] && toAccount(rows[0]);
  }

  async findById(id: string, q: Queryable = this.#db): Promise<Account | undefined> {
    if (!this.#isId(id)) return undefined;
    const rows = await q.query<RawAccount>(`${this.#select} WHERE ${this.#column.id} = $1`, [id]);
    return rows[0] && toAccount(rows[0]);
  }

  /** Every account in id order, at most `limit` (the CLI's list). */
  async list(limit = 1000, q: Queryable = this.#db): Promise<Account[]> {
    const rows = await q.query<RawAccount>(`${this.#select} ORDER BY ${this.#column.id} LIMIT $1`, [limit]);
    return rows.map(toAccount);
  }

  setPasswordHash(id: string, hash: string | null, q: Queryable = this.#db): Promise<boolean> {
    return this.#set('passwordHash', id, hash, q);
  }

  setRoles(id: string, roles: readonly string[], q: Queryable = this.#db): Promise<boolean> {
    return this.#set('roles', id, JSON.stringify(roles), q);
  }

  setVerified(id: string, verified: boolean, q: Queryable = this.#db): Promise<boolean> {
    return this.#set('verified', id, verified, q);
  }

  setDisabled(id: string, disabled: boolean, q: Queryable = this.#db): Promise<boolean> {
    return this.#set('disabled', id, disabled, q);
  }

  /** Whether `id` has the shape of the resource's ids: anything else cannot name an account (and would fail the cast). */
  #isId(id: string): boolean {
    return this.resource.idType === 'uuid'
      ? /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)
      : /^[1-9]\d{0,18}$/.test(id) && BigInt(id) <= MAX_BIGINT;
  }

  async #set(field: 'passwordHash' | 'roles' | 'verified' | 'disabled', id: string, value: unknown, q: Queryable): Promise<boolean> {
    if (!this.#isId(id)) return false;
    const rows = await q.query(`UPDATE ${this.#table} SET ${this.#column[field]} = $2 WHERE ${this.#column.id} = $1 RETURNING 1`, [id, value]);
    return rows.length > 0;
  }
}

interface RawAccount {
  id: string;
  login: string;
  roles: unknown;
  verified: boolean;
  disabled: boolean;
  passwordHash: string | null;
}

/** A stored json(b) list of role names, whichever way the driver or store hands it over (text or parsed). */
export function rolesOf(value: unknown): string[] {
  const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  return Array.isArray(parsed) ? parsed.filter((r): r is string => typeof r === 'string') : [];
}

function toAccount(raw: RawAccount): Account {
  return Object.freeze({
    id: raw.id,
    login: raw.login,
    roles: Object.freeze(rolesOf(raw.roles)),
    verified: raw.verified === true,
    disabled: raw.disabled === true,
    passwordHash: raw.passwordHash,
  });
}
