/**
 * Accounts in a seed file. A record of the account resource may carry `"password": "…"` in plain
 * text: it is checked against the model's password policy with the rest of the seed, and hashed with
 * the configured argon2 costs when the seed is loaded (the hash, never the password, is stored). A
 * seed may also set `roles` and `verified`, which no request can: it is the operator's own data.
 */
import { SETTINGS, type Settings } from '../config/settings.js';
import { ACCOUNT_FIELDS, type AccountsModel, type Model } from '../model/ir.js';
import { Passwords } from './passwords.js';

/** The key of a seed record that holds the plain password. */
export const SEED_PASSWORD_KEY = 'password';
const ROLE = /^[a-z][a-z0-9_-]{0,62}$/;

/** A seed record of the account resource, split: the fields the resource declares, and the password. */
export interface SeedAccount {
  readonly fields: Record<string, unknown>;
  readonly password?: string;
  /** What is wrong with the password or the roles, as `.field: message`. */
  readonly problems: readonly string[];
}

/** The accounts of the model when `resource` is its account resource and declares no field named `password` itself. */
function accountsOf(model: Model, resource: string): AccountsModel | undefined {
  const accounts = model.auth?.accounts;
  if (accounts?.resource !== resource) return undefined;
  return model.resourcesByName.get(resource)?.fieldsByName.has(SEED_PASSWORD_KEY) ? undefined : accounts;
}

/** Takes the password out of a seed record of the account resource and checks it and the roles; other records pass as they are. */
export function splitSeedAccount(model: Model, resource: string, record: Record<string, unknown>): SeedAccount {
  const accounts = accountsOf(model, resource);
  if (!accounts) return { fields: record, problems: [] };
  const { [SEED_PASSWORD_KEY]: password, ...fields } = record;
  const problems: string[] = [];
  const roles = fields[ACCOUNT_FIELDS.roles];
  if (roles !== undefined && (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string' || !ROLE.test(r)))) {
    problems.push(`.${ACCOUNT_FIELDS.roles}: must be a list of role names (lower case), e.g. ["admin"]`);
  }
  if (password === undefined) return { fields, problems };
  // The policy alone is checked here; the costs of hashing do not matter to it.
  const policy = new Passwords(defaultCosts(), accounts.password);
  const login = typeof fields[accounts.login] === 'string' ? (fields[accounts.login] as string) : '';
  for (const e of policy.policyErrors(password, login, '')) problems.push(`.${SEED_PASSWORD_KEY}: ${e.message}`);
  return problems.length > 0 || typeof password !== 'string' ? { fields, problems } : { fields, password, problems };
}

type Costs = Pick<Settings, 'passwordMemoryKib' | 'passwordTimeCost'>;

function defaultCosts(): Costs {
  return { passwordMemoryKib: SETTINGS.passwordMemoryKib.default, passwordTimeCost: SETTINGS.passwordTimeCost.default };
}

/**
 * The hashes of the seed's passwords, record by record, computed before the seed's transaction opens
 * (hashing is slow on purpose; the transaction should not wait on it).
 */
export async function hashSeedPasswords<R extends { readonly password?: string }>(
  model: Model,
  records: readonly R[],
  costs: Costs = defaultCosts(),
): Promise<Map<R, Record<string, string>>> {
  const hashes = new Map<R, Record<string, string>>();
  const accounts = model.auth?.accounts;
  if (!accounts) return hashes;
  const passwords = new Passwords(costs, accounts.password);
  for (const record of records) {
    if (record.password !== undefined) hashes.set(record, { [ACCOUNT_FIELDS.passwordHash]: await passwords.hash(record.password) });
  }
  return hashes;
}
