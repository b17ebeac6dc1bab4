/**
 * The model's access rules as the policy of the authorize stage (src/pipeline/authorize.ts): for one
 * caller, whether an operation is allowed and on which rows (a Predicate the SQL compiler puts into
 * the statement), which fields they may read and write, and, for people, the effective access table.
 *
 * A condition still names the caller symbolically (auth.id, auth.roles); here it is specialised for
 * one caller and folded: `status == 'published' || auth.roles has 'editor'` is TRUE for an editor and
 * `status = 'published'` for anyone else, so a role check never reaches SQL.
 */
import { and, compare, exists, FALSE, not, or, type Predicate, related, TRUE } from '../core/predicate.js';
import {
  ACCESS_OPERATIONS,
  type AccessModel,
  type AccessOperation,
  BUILT_IN_ROLES,
  type ColumnField,
  type Condition,
  getResource,
  type Model,
  type Resource,
  type ResourceRules,
  type Rule,
} from '../model/ir.js';
import type { AccessDecision, AccessPolicy, FieldAccess } from '../pipeline/authorize.js';
import { OPEN_ACCESS } from '../pipeline/authorize.js';
import type { Principal } from '../pipeline/context.js';
import { callerIdAs } from './caller-values.js';

/** The caller as rules see them: roles with inheritance expanded. */
interface Caller {
  readonly id: string | number | null;
  readonly roles: ReadonlySet<string>;
  /** Granted everything: a role with `everything: true`, or Kiln's own system principal. */
  readonly everything: boolean;
  readonly anonymous: boolean;
}

/** In the access table, a caller of a role whose id is not known: any comparison with it limits rows. */
const SOMEONE = Symbol('someone');

/** What a role may do with one operation of one resource: every row, some rows (a condition), or nothing. */
export type Reach = 'all' | 'rows' | 'none';

export interface AccessTableRow {
  readonly resource: string;
  readonly operation: AccessOperation;
  /** By role: the built-in anonymous and authenticated first, then the declared roles. */
  readonly reach: Readonly<Record<string, Reach>>;
  /** The rule as declared (`[editor]`, `authorId == auth.id`); absent when none is declared. */
  readonly rule?: string;
}

export interface AccessTable {
  readonly roles: readonly string[];
  readonly rows: readonly AccessTableRow[];
}

const NOTHING_LIMITED: FieldAccess = Object.freeze({
  unreadable: new Set<string>(),
  conditional: new Map<string, Predicate>(),
  unwritable: new Set<string>(),
});

/** The policy of a model: its rules when it declares any, open access otherwise. */
export function policyFor(model: Model): AccessPolicy {
  return model.access ? new ModelPolicy(model, model.access) : OPEN_ACCESS;
}

export class ModelPolicy implements AccessPolicy {
  readonly #model: Model;
  readonly #access: AccessModel;
  /** `resource.operation` that some signed-in role may perform: refused to an anonymous caller with 401 (sign in), not 403. */
  readonly #signInHelps: ReadonlySet<string>;

  constructor(model: Model, access: AccessModel) {
    this.#model = model;
    this.#access = access;
    this.#signInHelps = new Set(
      this.table()
        .rows.filter((row) => Object.entries(row.reach).some(([role, reach]) => role !== 'anonymous' && reach !== 'none'))
        .map((row) => `${row.resource}.${row.operation}`),
    );
  }

  decide(principal: Principal, resource: Resource, action: AccessOperation): AccessDecision {
    const caller = this.#caller(principal);
    if (caller.everything) return ALLOWED_EVERY_ROW;
    const rule = this.#rules(resource).operations[action];
    if (!rule) return this.#denied(caller, resource, action, `no rule lets anyone ${action} ${resource.name}`);
    const rows = this.#reach(rule, caller, resource);
    if (rows.kind === 'false') return this.#denied(caller, resource, action, `your roles do not allow you to ${action} ${resource.name}`);
    return rows.kind === 'true' ? ALLOWED_EVERY_ROW : { allowed: true, rows };
  }

  /** 401 for an anonymous caller when signing in could help (some role may do it, an `everything` role included); 403 otherwise. */
  #denied(caller: Caller, resource: Resource, action: AccessOperation, detail: string): AccessDecision {
    if (caller.anonymous && this.#signInHelps.has(`${resource.name}.${action}`)) {
      return { allowed: false, unauthenticated: true, detail: `sign in to ${action} ${resource.name}` };
    }
    return { allowed: false, detail };
  }

  fields(principal: Principal, resource: Resource): FieldAccess {
    const rules = this.#rules(resource).fields;
    if (rules.size === 0) return NOTHING_LIMITED;
    const caller = this.#caller(principal);
    if (caller.everything) return NOTHING_LIMITED;
    const unreadable = new Set<string>();
    const conditional = new Map<string, Predicate>();
    const unwritable = new Set<string>();
    for (const [field, { read, write }] of rules) {
      if (read) {
        const rows = this.#reach(read, caller, resource);
        if (rows.kind === 'false') unreadable.add(field);
        else if (rows.kind !== 'true') conditional.set(field, rows);
      }
      if (write && this.#reach(write, caller, resource).kind !== 'true') unwritable.add(field);
    }
    return { unreadable, conditional, unwritable };
  }

  /** Each resource × operation, and what each role reaches: for `kiln check`, the banner, the docs and the OpenAPI document. */
  table(): AccessTable {
    const roles = [...BUILT_IN_ROLES, ...this.#access.roles.keys()];
    const rows: AccessTableRow[] = [];
    for (const resource of this.#model.resources) {
      for (const operation of ACCESS_OPERATIONS) {
        const rule = this.#rules(resource).operations[operation];
        const reach: Record<string, Reach> = {};
        for (const role of roles) {
          const caller =
            role === 'anonymous'
              ? this.#caller({ kind: 'anonymous', id: null, roles: ['anonymous'] })
              : this.#caller({ kind: 'account', id: null, roles: ['authenticated', role] }, SOMEONE);
          reach[role] = caller.everything ? 'all' : !rule ? 'none' : reachOf(this.#reach(rule, caller, resource));
        }
        rows.push({ resource: resource.name, operation, reach, ...(rule && { rule: ruleText(rule) }) });
      }
    }
    return { roles, rows };
  }

  #rules(resource: Resource): ResourceRules {
    return this.#access.resources.get(resource.name) as ResourceRules;
  }

  #caller(principal: Principal, id: string | number | null | typeof SOMEONE = principal.id): Caller {
    const roles = new Set<string>(principal.roles);
    let everything = principal.kind === 'system';
    for (const name of principal.roles) {
      const role = this.#access.roles.get(name);
      if (!role) continue;
      everything ||= role.everything;
      for (const parent of role.inherits) {
        roles.add(parent);
        everything ||= this.#access.roles.get(parent)?.everything === true;
      }
    }
    const anonymous = principal.kind === 'anonymous';
    if (!anonymous) roles.add('authenticated');
    return { id: id as string | number | null, roles, everything, anonymous };
  }

  /** The rows `rule` lets the caller reach, folded: TRUE, FALSE, or a condition on the record. */
  #reach(rule: Rule, caller: Caller, resource: Resource): Predicate {
    switch (rule.kind) {
      case 'public':
        return TRUE;
      case 'authenticated':
        return caller.anonymous ? FALSE : TRUE;
      case 'roles':
        return rule.roles.some((role) => caller.roles.has(role)) ? TRUE : FALSE;
      case 'condition':
        return this.#condition(rule.condition, caller, resource);
    }
  }

  #condition(condition: Condition, caller: Caller, resource: Resource): Predicate {
    switch (condition.kind) {
      case 'const':
        return condition.value ? TRUE : FALSE;
      case 'and':
        return and(...condition.items.map((item) => this.#condition(item, caller, resource)));
      case 'or':
        return or(...condition.items.map((item) => this.#condition(item, caller, resource)));
      case 'not':
        return not(this.#condition(condition.item, caller, resource));
      case 'role':
        return caller.roles.has(condition.role) ? TRUE : FALSE;
      case 'signedIn':
        return caller.anonymous ? FALSE : TRUE;
      case 'exists': {
        const relation = resource.relationsByName.get(condition.relation);
        if (!relation) throw new Error(`rule names an unknown relation ${resource.name}.${condition.relation}`);
        const where = this.#condition(condition.where, caller, getResource(this.#model, relation.target));
        return where.kind === 'false' ? FALSE : exists(condition.relation, where);
      }
      case 'field': {
        let target = resource;
        for (const name of condition.through) {
          const relation = target.relationsByName.get(name);
          if (!relation) throw new Error(`rule names an unknown relation ${target.name}.${name}`);
          target = getResource(this.#model, relation.target);
        }
        let predicate: Predicate;
        if (condition.value.kind === 'literal') predicate = compare(condition.field, condition.operator, condition.value.value);
        else {
          const field = target.fieldsByName.get(condition.field) as ColumnField;
          const id = callerId(caller, field);
          // With no caller id (anonymous), or one that cannot be a value of the field, no row holds it.
          if (id === undefined) return condition.operator === 'ne' && !caller.anonymous ? TRUE : FALSE;
          predicate = compare(condition.field, condition.operator, id);
        }
        for (const name of [...condition.through].reverse()) predicate = related(name, predicate);
        return predicate;
      }
    }
  }
}

const ALLOWED_EVERY_ROW: AccessDecision = Object.freeze({ allowed: true, rows: TRUE });

/** The caller's id as a value of `field`; undefined when it cannot be one (an external subject compared with a bigint key). */
function callerId(caller: Caller, field: ColumnField): string | undefined {
  const id = caller.id as unknown;
  if (id === SOMEONE) return 'someone';
  if (id === null || id === undefined) return undefined;
  return callerIdAs(field, id as string | number);
}

function reachOf(predicate: Predicate): Reach {
  return predicate.kind === 'true' ? 'all' : predicate.kind === 'false' ? 'none' : 'rows';
}

/** A rule as it is written in the model. */
export function ruleText(rule: Rule): string {
  switch (rule.kind) {
    case 'public':
    case 'authenticated':
      return rule.kind;
    case 'roles':
      return `[${rule.roles.join(', ')}]`;
    case 'condition':
      return rule.source;
  }
}
