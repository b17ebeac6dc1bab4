/**
 * The shapes a user writes, in `kiln.config.ts` or in YAML/JSON. Both forms are plain data with the
 * same meaning; `compileModel` turns either into the frozen IR in `ir.ts`.
 */
import type { AnyRoute, ExtensionsDeclaration, HookName } from '../extensions/types.js';

export type ScalarType = 'string' | 'text' | 'integer' | 'bigint' | 'decimal' | 'float' | 'boolean' | 'date' | 'datetime' | 'enum' | 'json' | 'uuid';

export type RelationType = 'belongsTo' | 'hasMany' | 'manyToMany';

export type OnDelete = 'restrict' | 'cascade' | 'setNull';

export type StringFormat = 'email' | 'url' | 'uuid';

/** Options every stored field accepts. */
export interface CommonFieldOptions<T = unknown> {
  /** Must be present on create. Defaults to true unless the field is nullable or has a default. */
  required?: boolean;
  /** Accepts and returns `null`; the column is nullable. */
  nullable?: boolean;
  default?: T;
  unique?: boolean;
  /** Adds a btree index on the column. */
  index?: boolean;
  /** Set by the server: returned, never accepted in a request body. */
  readOnly?: boolean;
  /** Accepted where declared, never returned (e.g. a password hash). */
  hidden?: boolean;
  description?: string;
  example?: T;
  /** The field's previous name: a migration renames the column instead of dropping it (see docs/how-to/migrations.md). */
  renamedFrom?: string;
  /** Who may read the field; everyone who may read the record when absent (docs/reference/access-rules.md). */
  read?: RuleDeclaration;
  /** Who may write the field: roles or a condition on the caller only; everyone who may write the record when absent. */
  write?: RuleDeclaration;
}

/**
 * Who may perform an operation or read or write a field: `public`, `authenticated`, a list of roles, or
 * a condition in the rule language (`"authorId == auth.id || auth.roles has 'editor'"`), see
 * docs/reference/access-rules.md.
 */
export type RuleDeclaration = 'public' | 'authenticated' | readonly string[] | (string & {});

/** A rule per operation; `list` takes `read`'s when absent; an operation without a rule is denied (once the model declares any rule). */
export interface AccessDeclaration {
  list?: RuleDeclaration;
  read?: RuleDeclaration;
  create?: RuleDeclaration;
  update?: RuleDeclaration;
  delete?: RuleDeclaration;
}

export interface RoleDeclaration {
  /** A role (or roles) whose grants this one has too. */
  inherits?: string | readonly string[];
  /** Granted every operation, every row and every field rule (hidden fields stay hidden). */
  everything?: boolean;
  description?: string;
}

export interface StringFieldDeclaration extends CommonFieldOptions<string> {
  type: 'string' | 'text';
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: StringFormat;
}

export interface NumberFieldDeclaration extends CommonFieldOptions<number> {
  type: 'integer' | 'float';
  min?: number;
  max?: number;
}

/** bigint and decimal travel as strings in JSON so no precision is lost. */
export interface BigintFieldDeclaration extends CommonFieldOptions<string | number> {
  type: 'bigint';
  min?: number;
  max?: number;
}

export interface DecimalFieldDeclaration extends CommonFieldOptions<string | number> {
  type: 'decimal';
  precision?: number;
  scale?: number;
}

export interface EnumFieldDeclaration<V extends string = string> extends CommonFieldOptions<V> {
  type: 'enum';
  values: readonly V[];
}

export interface PlainFieldDeclaration extends CommonFieldOptions {
  type: 'boolean' | 'date' | 'datetime' | 'json' | 'uuid';
}

export interface BelongsToDeclaration<T extends string = string> {
  type: 'belongsTo';
  /** Name of the resource this one points at. */
  target: T;
  required?: boolean;
  nullable?: boolean;
  onDelete?: OnDelete;
  index?: boolean;
  readOnly?: boolean;
  description?: string;
  /** The relation's previous name: a migration renames its key column instead of dropping it. */
  renamedFrom?: string;
  /** `auth.id`: the key is set on create to the caller's account (read-only in the API). */
  default?: 'auth.id';
  /** Who may read the key (and so include the relation). */
  read?: RuleDeclaration;
  /** Who may write the key: roles or a condition on the caller only. */
  write?: RuleDeclaration;
}

export interface HasManyDeclaration<T extends string = string> {
  type: 'hasMany';
  target: T;
  /** The belongsTo field on the target that points back; inferred when there is exactly one. */
  inverse?: string;
  description?: string;
}

export interface ManyToManyDeclaration<T extends string = string> {
  type: 'manyToMany';
  target: T;
  /**
   * Join table name. Defaults to the two table names sorted and joined by `_` (`posts_tags`), or to
   * `<table>_<relation>` (`posts_editors`) when the resource has several manyToMany to the target;
   * the other side of such a link names that table here (see join-tables.ts).
   */
  through?: string;
  description?: string;
}

export type FieldDeclaration =
  | StringFieldDeclaration
  | NumberFieldDeclaration
  | BigintFieldDeclaration
  | DecimalFieldDeclaration
  | EnumFieldDeclaration
  | PlainFieldDeclaration
  | BelongsToDeclaration
  | HasManyDeclaration
  | ManyToManyDeclaration;

export interface IndexDeclaration {
  fields: readonly string[];
  unique?: boolean;
  name?: string;
}

export interface ResourceDeclaration {
  fields: Record<string, FieldDeclaration>;
  /** Primary key kind. Default `bigint` (identity column). */
  id?: 'bigint' | 'uuid';
  /** Adds `createdAt` and `updatedAt`. Default true. */
  timestamps?: boolean;
  /** Table name; defaults to the resource name in snake_case. */
  table?: string;
  /** URL segment; defaults to the resource name in kebab-case. */
  path?: string;
  /** Composite unique constraints, each a list of field names. */
  unique?: readonly (readonly string[])[];
  indexes?: readonly IndexDeclaration[];
  description?: string;
  /** One record in words, for messages and docs ("no such person"); default: the name made singular ("blogPosts" → "blog post"). */
  singular?: string;
  /** The resource's previous name: a migration renames its table instead of dropping it. */
  renamedFrom?: string;
  /** Lifecycle hooks: the app's code, kept out of the model's data (docs/how-to/hooks-and-routes.md). */
  hooks?: { readonly [K in HookName]?: unknown };
  /** Who may list, read, create, update and delete its records (docs/reference/access-rules.md). */
  access?: AccessDeclaration;
  /** The response cache of its reads (docs/how-to/caching.md): `false` off, `{ ttl: seconds }` its own lifetime; default KILN_CACHE_TTL. */
  cache?: boolean | { ttl: number };
  /** Calls one caller may make, by operation: `{ default: '100/min', create: '10/min' }`, or `'off'` (docs/reference/model.md#rate-limits). */
  rateLimit?: { readonly [K in 'default' | 'list' | 'read' | 'create' | 'update' | 'delete']?: string };
}

/** How the API presents itself: the OpenAPI `info` (title, version, description, contact, license). */
export interface ApiDeclaration {
  /** Default "Kiln API". */
  title?: string;
  /** The API's own version, not Kiln's. Default "1.0.0". */
  version?: string;
  /** Markdown shown at the top of /docs, before the notes Kiln adds on errors and bounds. */
  description?: string;
  contact?: { name?: string; url?: string; email?: string };
  /** `identifier` (an SPDX expression) or `url`, not both. */
  license?: { name: string; identifier?: string; url?: string };
}

export interface ModelDeclaration {
  resources: Record<string, ResourceDeclaration>;
  /** Custom routes below the API prefix (docs/how-to/hooks-and-routes.md). */
  routes?: readonly AnyRoute[];
  /** A module whose default export is `{ hooks, routes }`, relative to the model file: how the YAML/JSON form names code. */
  extensions?: string | ExtensionsDeclaration;
  api?: ApiDeclaration;
  /** Accounts, logins and identity providers (docs/explanation/authentication.md). */
  auth?: AuthDeclaration;
  /** Roles besides the built-in `anonymous` and `authenticated` (docs/reference/access-rules.md). */
  roles?: Record<string, RoleDeclaration>;
}

/** The resource whose records are the accounts people sign in with. */
export interface AccountsDeclaration {
  /** The account resource, e.g. "users". Kiln adds its fields passwordHash, roles, verified and disabled. */
  resource: string;
  /** The unique string field people sign in with. Default "email". */
  login?: string;
  signup?: {
    /** False: no POST /auth/signup (invite-only: accounts come from `kiln accounts create` or an administrator). Default true. */
    enabled?: boolean;
    /** Fields of the account resource a signup may set besides the login and the password. Default none. */
    fields?: string[];
    /** Roles a new account gets. Default none. */
    roles?: string[];
  };
  /** "required": an account signs in only once its email is verified. Default "optional". */
  verification?: 'optional' | 'required';
  password?: {
    /** Default 10. */
    minLength?: number;
    /** Bounds the cost of hashing. Default 128. */
    maxLength?: number;
  };
}

/** An OpenID Connect provider people may sign in with. Its client secret is read from KILN_OIDC_<NAME>_CLIENT_SECRET. */
export interface OidcProviderDeclaration {
  /** The issuer URL; its discovery document is read from <issuer>/.well-known/openid-configuration. */
  issuer: string;
  clientId: string;
  /** Default ["openid", "email", "profile"]. */
  scopes?: string[];
  /** Create an account on the first login of someone unknown. Default: whether signup is open (accounts.signup.enabled). */
  createAccounts?: boolean;
  /** Link a login to the existing account with the same verified email. Default true. */
  linkByEmail?: boolean;
}

/** An issuer whose bearer access tokens Kiln accepts (machine-to-machine calls from behind an identity provider). */
export interface ExternalBearerDeclaration {
  issuer: string;
  /** The audience the tokens must name: this API. */
  audience: string;
  /** Where its keys are; default: the jwks_uri of the issuer's discovery document. */
  jwksUrl?: string;
  /** The claim holding the caller's roles (a list or a space-separated string). Default "roles". */
  rolesClaim?: string;
}

export interface AuthDeclaration {
  accounts?: AccountsDeclaration;
  oidc?: Record<string, OidcProviderDeclaration>;
  bearer?: ExternalBearerDeclaration[];
}
