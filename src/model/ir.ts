/**
 * The frozen internal model. Every surface (REST, OpenAPI, SQL, later GraphQL and codegen) reads this
 * and only this. Nodes are discriminated by `kind`. `compileModel` deep-freezes what it returns and
 * its lookup tables are FrozenMaps (a frozen `Map` would still take `set`), so no part of a compiled
 * model can change at run time; readers use only the `ReadonlyMap` methods.
 */
import type { ModelExtensions } from '../extensions/types.js';
import type { OnDelete, ScalarType, StringFormat } from './declaration.js';
import type { FrozenMap } from './frozen-map.js';

export type ColumnRole = 'id' | 'createdAt' | 'updatedAt' | 'foreignKey' | 'data';

export interface ColumnField {
  readonly kind: 'column';
  readonly name: string;
  readonly column: string;
  readonly type: ScalarType;
  readonly role: ColumnRole;
  readonly nullable: boolean;
  /** Must be present on create and replace. */
  readonly required: boolean;
  readonly default: unknown;
  readonly hasDefault: boolean;
  readonly unique: boolean;
  readonly indexed: boolean;
  readonly readOnly: boolean;
  readonly hidden: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: StringFormat;
  readonly min?: number;
  readonly max?: number;
  readonly precision?: number;
  readonly scale?: number;
  readonly values?: readonly string[];
  readonly description?: string;
  readonly example?: unknown;
  /** `default: auth.id`: set on create from the caller's id, never from the request (read-only in the API). */
  readonly fromCaller?: 'id';
}

export interface BelongsToRelation {
  readonly kind: 'belongsTo';
  readonly name: string;
  readonly target: string;
  /** The column field holding the key, e.g. `authorId`. */
  readonly foreignKey: string;
  readonly onDelete: OnDelete;
  readonly constraint: string;
  readonly description?: string;
}

export interface HasManyRelation {
  readonly kind: 'hasMany';
  readonly name: string;
  readonly target: string;
  /** The belongsTo relation on the target that points back here. */
  readonly inverse: string;
  /** The column field on the target holding our key. */
  readonly foreignKey: string;
  readonly description?: string;
}

export interface ManyToManyRelation {
  readonly kind: 'manyToMany';
  readonly name: string;
  readonly target: string;
  readonly joinTable: string;
  /** Join-table column pointing at this resource. */
  readonly sourceColumn: string;
  /** Join-table column pointing at the target. */
  readonly targetColumn: string;
  readonly description?: string;
}

export type Relation = BelongsToRelation | HasManyRelation | ManyToManyRelation;

export interface UniqueConstraint {
  readonly name: string;
  readonly fields: readonly string[];
}

export interface IndexDefinition {
  readonly name: string;
  readonly fields: readonly string[];
}

export interface Resource {
  readonly name: string;
  readonly table: string;
  readonly path: string;
  readonly idType: 'bigint' | 'uuid';
  readonly timestamps: boolean;
  /** Column fields in declaration order: id first, then data and key fields, then timestamps. */
  readonly fields: readonly ColumnField[];
  readonly fieldsByName: FrozenMap<string, ColumnField>;
  readonly relations: readonly Relation[];
  readonly relationsByName: FrozenMap<string, Relation>;
  readonly uniques: readonly UniqueConstraint[];
  readonly indexes: readonly IndexDefinition[];
  readonly description?: string;
  /** One record in words, for messages and docs: "post", "blog post" (the model's `singular`, or derived). */
  readonly singular: string;
  /** The resource's own rate limits (`rateLimit`), when it declares any: by operation, and `default` for the others. */
  readonly rateLimit?: ResourceRateLimits;
  /** The model's `cache` option: `false` never caches its reads; `{ ttl }` caches them that many seconds; absent: KILN_CACHE_TTL. */
  readonly cache?: false | { readonly ttl: number };
}

/** Calls allowed per window; null: `off`, not limited. */
export type ResourceRateLimits = Readonly<Partial<Record<'default' | AccessOperation, { readonly points: number; readonly windowS: number } | null>>>;

export interface JoinTable {
  readonly name: string;
  readonly left: { readonly resource: string; readonly column: string };
  readonly right: { readonly resource: string; readonly column: string };
}

/** The model's `api` option with its defaults: the OpenAPI `info`. */
export interface ApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly contact?: { readonly name?: string; readonly url?: string; readonly email?: string };
  readonly license?: { readonly name: string; readonly identifier?: string; readonly url?: string };
}

/** The fields Kiln adds to the account resource and manages itself: never written through the API. */
export const ACCOUNT_FIELDS = { passwordHash: 'passwordHash', roles: 'roles', verified: 'verified', disabled: 'disabled' } as const;

export interface AccountsModel {
  readonly resource: string;
  readonly login: string;
  readonly signup: { readonly enabled: boolean; readonly fields: readonly string[]; readonly roles: readonly string[] };
  readonly verification: 'optional' | 'required';
  readonly password: { readonly minLength: number; readonly maxLength: number };
}

export interface OidcProvider {
  readonly name: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly createAccounts: boolean;
  readonly linkByEmail: boolean;
}

export interface ExternalBearer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl?: string;
  readonly rolesClaim: string;
}

/** The model's `auth` option with its defaults. */
export interface AuthModel {
  readonly accounts?: AccountsModel;
  readonly oidc: readonly OidcProvider[];
  readonly bearer: readonly ExternalBearer[];
}

export interface Model {
  readonly api: ApiInfo;
  /** Present when the model declares `auth`. */
  readonly auth?: AuthModel;
  /** Present when the model declares access rules: then an operation without a rule is denied. */
  readonly access?: AccessModel;
  readonly resources: readonly Resource[];
  readonly resourcesByName: FrozenMap<string, Resource>;
  readonly joinTables: readonly JoinTable[];
  /** The app's hooks and routes, when the model declares any: code, never part of a snapshot. */
  readonly extensions?: ModelExtensions;
}

/** An operation a rule is declared for (`access: { list, read, create, update, delete }`). */
export const ACCESS_OPERATIONS = ['list', 'read', 'create', 'update', 'delete'] as const;
export type AccessOperation = (typeof ACCESS_OPERATIONS)[number];

/** The value a field is compared with in a condition: a literal of the field's type, or the caller's id. */
export type ConditionValue = { readonly kind: 'literal'; readonly value: unknown } | { readonly kind: 'authId' };

/**
 * A checked condition of the rule language (src/access/): field names, relations, types and roles are
 * known to be right. It still holds the caller symbolically; src/access/policy.ts turns it into a
 * Predicate for one caller.
 */
export type Condition =
  | { readonly kind: 'const'; readonly value: boolean }
  | { readonly kind: 'and' | 'or'; readonly items: readonly Condition[] }
  | { readonly kind: 'not'; readonly item: Condition }
  /** A column field of the resource, or of one reached through `through` (belongsTo relations, in order). */
  | {
      readonly kind: 'field';
      readonly through: readonly string[];
      readonly field: string;
      readonly operator: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'notIn' | 'isNull';
      readonly value: ConditionValue;
    }
  /** The caller holds the role (inheritance counts). */
  | { readonly kind: 'role'; readonly role: string }
  /** The caller is signed in (`auth.id != null`). */
  | { readonly kind: 'signedIn' }
  /** Some record of a hasMany or manyToMany relation matches `where`. */
  | { readonly kind: 'exists'; readonly relation: string; readonly where: Condition };

/** Who a rule lets in. `condition` also limits the rows (and, for create and update, the new row). */
export type Rule =
  | { readonly kind: 'public' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'roles'; readonly roles: readonly string[] }
  | { readonly kind: 'condition'; readonly source: string; readonly condition: Condition };

export interface RoleDefinition {
  readonly name: string;
  /** Every role it inherits, directly or not (never itself). */
  readonly inherits: readonly string[];
  /** Granted every operation, every row and every field rule. */
  readonly everything: boolean;
  readonly description?: string;
}

export interface FieldRules {
  readonly read?: Rule;
  readonly write?: Rule;
}

export interface ResourceRules {
  /** The rule of each operation that has one; `list` already holds `read`'s when it was not given. */
  readonly operations: Readonly<Partial<Record<AccessOperation, Rule>>>;
  readonly fields: FrozenMap<string, FieldRules>;
}

/** The model's access rules; present when it declares any (deny by default), absent when it declares none (open). */
export interface AccessModel {
  /** The declared roles (the built-in `anonymous` and `authenticated` are not listed). */
  readonly roles: FrozenMap<string, RoleDefinition>;
  readonly resources: FrozenMap<string, ResourceRules>;
}

/** The roles every caller holds one of, without being declared. */
export const BUILT_IN_ROLES = ['anonymous', 'authenticated'] as const;

export function getResource(model: Model, name: string): Resource {
  const resource = model.resourcesByName.get(name);
  if (!resource) throw new Error(`unknown resource ${name}`);
  return resource;
}
