/**
 * The model's `auth` option: which resource holds the accounts and how people sign in. Checked like
 * every other option, and the account resource gets the fields Kiln manages itself (password hash,
 * roles, verified, disabled) as ordinary fields, so migrations, the OpenAPI document and the
 * serialisers see them like any other: the hash is neither accepted nor returned, the rest are
 * returned and never accepted.
 */
import type { FieldDeclaration } from './declaration.js';
import { ACCOUNT_FIELDS, type AccountsModel, type AuthModel, BUILT_IN_ROLES, type ExternalBearer, type OidcProvider } from './ir.js';
import { boolean, integer, oneOf, shown, type ValueCheck } from './option-values.js';
import { isPlainObject } from './plain-data.js';
import type { ProblemList } from './problems.js';

interface ResourceView {
  fields: Record<string, Record<string, unknown>>;
}
interface ModelView {
  resources: Record<string, ResourceView>;
}

const ROLE = /^[a-z][a-z0-9_-]{0,62}$/;
const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/;

/** The managed fields as declarations: how they are stored. */
export const ACCOUNT_FIELD_DECLARATIONS: Readonly<Record<string, FieldDeclaration>> = {
  [ACCOUNT_FIELDS.passwordHash]: {
    type: 'string',
    maxLength: 255,
    nullable: true,
    hidden: true,
    readOnly: true,
    description: 'The argon2id hash of the password; null for an account that signs in only through an identity provider.',
  },
  [ACCOUNT_FIELDS.roles]: { type: 'json', readOnly: true, default: [], description: 'The roles of the account, set by an administrator.', example: ['editor'] },
  [ACCOUNT_FIELDS.verified]: { type: 'boolean', readOnly: true, default: false, description: 'Whether the email address of the account is verified.' },
  [ACCOUNT_FIELDS.disabled]: {
    type: 'boolean',
    readOnly: true,
    default: false,
    description: 'A disabled account cannot sign in; its tokens, sessions and keys stop working.',
  },
};

const problemAt = (problems: ProblemList, path: string, found: ReturnType<ValueCheck>) => {
  if (found) problems.add(path, found.message, found.hint);
};

/** A check that first says a missing option is missing (rather than "not undefined"). */
const required =
  (check: ValueCheck): ValueCheck =>
  (value, option) => {
    if (value !== undefined) return check(value, option);
    const found = check('', option);
    return { message: `${option} is required`, hint: found?.hint ?? `give ${option}` };
  };

/** An https URL, or http on loopback (a provider run for development or tests). */
const issuerUrl: ValueCheck = (value, option) =>
  typeof value === 'string' && URL.canParse(value) && (value.startsWith('https://') || LOOPBACK.test(value))
    ? undefined
    : { message: `${option} must be an https URL (http only on localhost), not ${shown(value)}`, hint: `e.g. ${option}: "https://accounts.example.com"` };

const nonEmptyText =
  (example: string): ValueCheck =>
  (value, option) =>
    typeof value === 'string' && value.trim() !== ''
      ? undefined
      : { message: `${option} must be a non-empty string, not ${shown(value)}`, hint: `e.g. ${option}: "${example}"` };

function unknownKeys(value: Record<string, unknown>, known: readonly string[], path: string, problems: ProblemList): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) problems.add(`${path}.${key}`, `unknown ${path} option "${key}"`, `use one of: ${known.join(', ')}`);
  }
}

function stringsMatching(value: unknown, path: string, pattern: RegExp, what: string, example: string, problems: ProblemList): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !pattern.test(v))) {
    problems.add(path, `${path} must be a list of ${what}`, `e.g. ${path.split('.').at(-1)}: ${example}`);
    return [];
  }
  return value as string[];
}

/** Checks `auth` against the declared resources; the compiled option, or undefined when absent or wrong. */
export function checkAuth(auth: unknown, model: ModelView, problems: ProblemList): AuthModel | undefined {
  if (auth === undefined) return undefined;
  if (!isPlainObject(auth)) {
    problems.add('auth', `auth must be an object, not ${shown(auth)}`, 'e.g. auth: { accounts: { resource: "users", login: "email" } }');
    return undefined;
  }
  unknownKeys(auth, ['accounts', 'oidc', 'bearer'], 'auth', problems);
  const before = problems.items.length;
  const accounts = auth.accounts === undefined ? undefined : checkAccounts(auth.accounts, model, problems);
  // Invite-only accounts stay invite-only: a provider login creates an account only when signup is open, unless told to.
  const oidc = checkOidc(auth.oidc, accounts?.signup.enabled ?? true, problems);
  if (oidc.length > 0 && auth.accounts === undefined) {
    problems.add('auth.oidc', 'signing in with an identity provider needs accounts', 'declare auth.accounts: { resource: "users" } as well');
  }
  const bearer = checkBearer(auth.bearer, problems);
  if (problems.items.length > before) return undefined;
  return { ...(accounts && { accounts }), oidc, bearer };
}

function checkAccounts(value: unknown, model: ModelView, problems: ProblemList): AccountsModel | undefined {
  const path = 'auth.accounts';
  if (!isPlainObject(value)) {
    problems.add(path, `${path} must be an object, not ${shown(value)}`, 'e.g. accounts: { resource: "users", login: "email" }');
    return undefined;
  }
  unknownKeys(value, ['resource', 'login', 'signup', 'verification', 'password'], path, problems);
  const name = value.resource;
  const resource = typeof name === 'string' && Object.hasOwn(model.resources, name) ? model.resources[name] : undefined;
  if (resource && !isPlainObject(resource.fields)) return undefined; // reported with the resource
  if (!resource) {
    problems.add(
      `${path}.resource`,
      `${path}.resource must name a declared resource, not ${shown(name)}`,
      `use one of: ${Object.keys(model.resources).join(', ')}`,
    );
    return undefined;
  }
  for (const managed of Object.keys(ACCOUNT_FIELD_DECLARATIONS)) {
    if (Object.hasOwn(resource.fields, managed)) {
      problems.add(
        `resources.${name}.fields.${managed}`,
        `${managed} is managed by Kiln on the account resource`,
        `remove it from resources.${name}.fields: Kiln adds passwordHash, roles, verified and disabled itself`,
      );
    }
  }
  const login = value.login ?? 'email';
  const loginField = typeof login === 'string' && Object.hasOwn(resource.fields, login) ? resource.fields[login] : undefined;
  if (!loginField || (loginField.type !== 'string' && loginField.type !== 'text') || loginField.unique !== true || loginField.hidden === true) {
    problems.add(
      `${path}.login`,
      `${path}.login must name a unique, visible string field of ${String(name)}, not ${shown(login)}`,
      `e.g. login: "email", with fields: { email: field.string({ format: "email", unique: true }) }`,
    );
  }
  const signup = isPlainObject(value.signup) ? value.signup : value.signup === undefined ? {} : undefined;
  if (!signup)
    problems.add(`${path}.signup`, `${path}.signup must be an object, not ${shown(value.signup)}`, 'e.g. signup: { enabled: true, fields: ["name"] }');
  let fields: string[] = [];
  let roles: string[] = [];
  if (signup) {
    unknownKeys(signup, ['enabled', 'fields', 'roles'], `${path}.signup`, problems);
    if (signup.enabled !== undefined) problemAt(problems, `${path}.signup.enabled`, boolean(signup.enabled, 'enabled'));
    if (signup.fields !== undefined) {
      fields = stringsMatching(signup.fields, `${path}.signup.fields`, /^.+$/, 'field names', '["name"]', problems);
      for (const field of fields) {
        const declared = resource.fields[field];
        const writable = declared && declared.readOnly !== true && declared.type !== 'hasMany' && declared.type !== 'manyToMany' && field !== login;
        if (!writable) {
          problems.add(
            `${path}.signup.fields`,
            `${shown(field)} is not a writable field of ${String(name)} besides the login`,
            'list fields the account resource declares',
          );
        }
      }
    }
    if (signup.roles !== undefined) roles = stringsMatching(signup.roles, `${path}.signup.roles`, ROLE, 'role names (lower case)', '["reader"]', problems);
    for (const role of roles.filter((r) => (BUILT_IN_ROLES as readonly string[]).includes(r))) {
      problems.add(`${path}.signup.roles`, `"${role}" is a role Kiln gives by itself`, 'remove it: every caller is either anonymous or authenticated already');
    }
  }
  if (value.verification !== undefined)
    problemAt(problems, `${path}.verification`, oneOf(['optional', 'required'], 'verification')(value.verification, 'verification'));
  const password = isPlainObject(value.password) ? value.password : {};
  if (value.password !== undefined && !isPlainObject(value.password))
    problems.add(`${path}.password`, `${path}.password must be an object`, 'e.g. password: { minLength: 12 }');
  unknownKeys(password, ['minLength', 'maxLength'], `${path}.password`, problems);
  const minLength = password.minLength ?? 10;
  const maxLength = password.maxLength ?? 128;
  problemAt(problems, `${path}.password.minLength`, integer(8, 256, 12)(minLength, 'minLength'));
  problemAt(problems, `${path}.password.maxLength`, integer(typeof minLength === 'number' ? minLength : 8, 1024, 128)(maxLength, 'maxLength'));
  return {
    resource: name as string,
    login: login as string,
    signup: { enabled: signup?.enabled !== false, fields, roles },
    verification: value.verification === 'required' ? 'required' : 'optional',
    password: { minLength: minLength as number, maxLength: maxLength as number },
  };
}

function checkOidc(value: unknown, signupOpen: boolean, problems: ProblemList): OidcProvider[] {
  if (value === undefined) return [];
  if (!isPlainObject(value)) {
    problems.add(
      'auth.oidc',
      `auth.oidc must be an object of providers by name, not ${shown(value)}`,
      'e.g. oidc: { google: { issuer: "https://accounts.google.com", clientId: "…" } }',
    );
    return [];
  }
  return Object.entries(value).flatMap(([name, provider]) => {
    const path = `auth.oidc.${name}`;
    if (!PROVIDER_NAME.test(name))
      problems.add(path, `${shown(name)} is not a valid provider name`, 'use lower-case letters, digits and -, starting with a letter');
    if (!isPlainObject(provider)) {
      problems.add(path, `${path} must be an object`, 'e.g. { issuer: "https://accounts.google.com", clientId: "…" }');
      return [];
    }
    unknownKeys(provider, ['issuer', 'clientId', 'scopes', 'createAccounts', 'linkByEmail'], path, problems);
    problemAt(problems, `${path}.issuer`, required(issuerUrl)(provider.issuer, 'issuer'));
    problemAt(problems, `${path}.clientId`, required(nonEmptyText('my-client-id'))(provider.clientId, 'clientId'));
    const scopes =
      provider.scopes === undefined
        ? ['openid', 'email', 'profile']
        : stringsMatching(provider.scopes, `${path}.scopes`, /^[\x21-\x7e]+$/, 'scopes', '["openid", "email"]', problems);
    if (!scopes.includes('openid')) problems.add(`${path}.scopes`, `${path}.scopes must include "openid"`, 'add "openid" to the list');
    for (const key of ['createAccounts', 'linkByEmail'] as const) {
      if (provider[key] !== undefined) problemAt(problems, `${path}.${key}`, boolean(provider[key], key));
    }
    return [
      {
        name,
        issuer: provider.issuer as string,
        clientId: provider.clientId as string,
        scopes,
        createAccounts: typeof provider.createAccounts === 'boolean' ? provider.createAccounts : signupOpen,
        linkByEmail: provider.linkByEmail !== false,
      },
    ];
  });
}

function checkBearer(value: unknown, problems: ProblemList): ExternalBearer[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.add(
      'auth.bearer',
      `auth.bearer must be a list of issuers, not ${shown(value)}`,
      'e.g. bearer: [{ issuer: "https://id.example.com", audience: "my-api" }]',
    );
    return [];
  }
  return value.flatMap((entry, i) => {
    const path = `auth.bearer.${i}`;
    if (!isPlainObject(entry)) {
      problems.add(path, `${path} must be an object`, 'e.g. { issuer: "https://id.example.com", audience: "my-api" }');
      return [];
    }
    unknownKeys(entry, ['issuer', 'audience', 'jwksUrl', 'rolesClaim'], path, problems);
    problemAt(problems, `${path}.issuer`, required(issuerUrl)(entry.issuer, 'issuer'));
    problemAt(problems, `${path}.audience`, required(nonEmptyText('my-api'))(entry.audience, 'audience'));
    if (entry.jwksUrl !== undefined) problemAt(problems, `${path}.jwksUrl`, issuerUrl(entry.jwksUrl, 'jwksUrl'));
    if (entry.rolesClaim !== undefined) problemAt(problems, `${path}.rolesClaim`, nonEmptyText('roles')(entry.rolesClaim, 'rolesClaim'));
    return [
      {
        issuer: entry.issuer as string,
        audience: entry.audience as string,
        ...(typeof entry.jwksUrl === 'string' && { jwksUrl: entry.jwksUrl }),
        rolesClaim: typeof entry.rolesClaim === 'string' ? entry.rolesClaim : 'roles',
      },
    ];
  });
}

/** Adds the managed fields to the account resource's declaration (a plain copy), before it is built. */
export function addAccountFields(model: ModelView, auth: AuthModel | undefined): void {
  const resource = auth?.accounts && model.resources[auth.accounts.resource];
  if (!resource) return;
  if (!isPlainObject(resource.fields)) return;
  for (const [name, declaration] of Object.entries(ACCOUNT_FIELD_DECLARATIONS)) resource.fields[name] = { ...declaration } as Record<string, unknown>;
}
