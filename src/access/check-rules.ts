/**
 * The model's access rules, checked against the built resources and turned into the IR: roles with
 * their inheritance closed, every operation's rule, every field's read and write rule. Every problem
 * is reported with its path and the fix, as for the rest of the model. A condition is parsed by
 * expression.ts and typed here: a field is compared only with a value of its type or the caller's id.
 */
import { UUID } from '../core/filter-values.js';
import { FrozenMap } from '../model/frozen-map.js';
import {
  ACCESS_OPERATIONS,
  type AccessModel,
  type AccessOperation,
  BUILT_IN_ROLES,
  type ColumnField,
  type Condition,
  type ConditionValue,
  type FieldRules,
  type Resource,
  type ResourceRules,
  type RoleDefinition,
  type Rule,
} from '../model/ir.js';
import { isPlainObject } from '../model/plain-data.js';
import type { ProblemList } from '../model/problems.js';
import { type CompareOperator, type Literal, type Operand, parseCondition, RuleSyntaxError, type Syntax } from './expression.js';

type Decl = Record<string, unknown>;

// As long as the role names accounts, API keys and tokens carry (src/model/check-auth.ts): a longer one could never be given.
const ROLE_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const ROLE_KEYS = ['inherits', 'everything', 'description'];
const OPERATORS: Readonly<Record<CompareOperator, 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'>> = {
  '==': 'eq',
  '!=': 'ne',
  '>': 'gt',
  '>=': 'gte',
  '<': 'lt',
  '<=': 'lte',
};

/** Whether the declaration holds any rule: then everything not granted is denied. */
export function declaresRules(decl: Decl): boolean {
  if (decl.roles !== undefined) return true;
  const resources = isPlainObject(decl.resources) ? decl.resources : {};
  return Object.values(resources).some((r) => {
    if (!isPlainObject(r)) return false;
    if (r.access !== undefined) return true;
    const fields = isPlainObject(r.fields) ? r.fields : {};
    return Object.values(fields).some((f) => isPlainObject(f) && (f.read !== undefined || f.write !== undefined));
  });
}

/** The access IR of a model that declares rules; undefined (open access) when it declares none. */
export function checkAccess(decl: Decl, resources: readonly Resource[], accountResource: string | undefined, problems: ProblemList): AccessModel | undefined {
  if (!declaresRules(decl)) return undefined;
  const roles = checkRoles(decl.roles, problems);
  const context: CheckContext = { resources: new Map(resources.map((r) => [r.name, r])), roles, accountResource, problems };
  const byResource = new Map<string, ResourceRules>();
  for (const resource of resources) {
    const r = (decl.resources as Decl)[resource.name] as Decl;
    byResource.set(resource.name, resourceRules(r, resource, context));
  }
  return { roles: new FrozenMap([...roles].map((role) => [role.name, role])), resources: new FrozenMap(byResource) };
}

/**
 * The roles a model gives accounts itself (`auth.accounts.signup.roles`), checked once the roles are
 * known: a role no rule can name is a typo. A model that declares no roles checks none, as the app's
 * own code may read them.
 */
export function checkGivenRoles(given: readonly string[], access: AccessModel | undefined, path: string, problems: ProblemList): void {
  for (const role of undeclaredRoles(access, given)) {
    problems.add(path, `unknown role "${role}"`, `declare it under roles, or use one of ${[...(access?.roles.keys() ?? [])].join(', ')}`);
  }
}

/** The roles of `given` the model does not declare; none when it declares no roles at all. */
export function undeclaredRoles(access: AccessModel | undefined, given: readonly string[]): string[] {
  if (!access || access.roles.size === 0) return [];
  return given.filter((role) => !access.roles.has(role));
}

interface CheckContext {
  readonly resources: ReadonlyMap<string, Resource>;
  readonly roles: readonly RoleDefinition[];
  readonly accountResource: string | undefined;
  readonly problems: ProblemList;
}

function checkRoles(declared: unknown, problems: ProblemList): RoleDefinition[] {
  if (declared === undefined) return [];
  if (!isPlainObject(declared)) {
    problems.add('roles', 'roles must be an object of role names', 'e.g. roles: { editor: {}, admin: { everything: true } }');
    return [];
  }
  const direct = new Map<string, string[]>();
  const roles: { name: string; everything: boolean; description?: string }[] = [];
  for (const [name, value] of Object.entries(declared)) {
    const path = `roles.${name}`;
    if ((BUILT_IN_ROLES as readonly string[]).includes(name)) {
      problems.add(path, `"${name}" is a built-in role`, `drop it: every caller is either anonymous or authenticated already`);
      continue;
    }
    if (!ROLE_NAME.test(name)) problems.add(path, `"${name}" is not a valid role name`, 'use lower case letters, digits, _ and -, starting with a letter');
    const options = value === null || value === undefined ? {} : value;
    if (!isPlainObject(options)) {
      problems.add(path, 'a role is declared with an object', 'e.g. editor: { inherits: author }');
      continue;
    }
    for (const key of Object.keys(options)) {
      if (!ROLE_KEYS.includes(key)) problems.add(`${path}.${key}`, `unknown role option "${key}"`, `a role takes ${ROLE_KEYS.join(', ')}`);
    }
    const inherits = options.inherits === undefined ? [] : typeof options.inherits === 'string' ? [options.inherits] : options.inherits;
    if (!Array.isArray(inherits) || inherits.some((i) => typeof i !== 'string')) {
      problems.add(`${path}.inherits`, 'inherits must be a role name or a list of role names', 'e.g. inherits: author');
    } else direct.set(name, inherits as string[]);
    if (options.everything !== undefined && typeof options.everything !== 'boolean') {
      problems.add(`${path}.everything`, 'everything must be true or false', 'everything: true grants every operation, row and field');
    }
    if (options.description !== undefined && typeof options.description !== 'string') {
      problems.add(`${path}.description`, 'description must be text', 'write a sentence');
    }
    roles.push({
      name,
      everything: options.everything === true,
      ...(typeof options.description === 'string' && { description: options.description }),
    });
  }
  const known = new Set([...BUILT_IN_ROLES, ...roles.map((r) => r.name)]);
  for (const [name, parents] of direct) {
    for (const parent of parents) {
      if (!known.has(parent))
        problems.add(`roles.${name}.inherits`, `unknown role "${parent}"`, `declare it under roles, or use one of ${[...known].join(', ')}`);
    }
  }
  return roles.map((role) => {
    const closure = inherited(role.name, direct);
    if (closure.has(role.name)) problems.add(`roles.${role.name}.inherits`, `the role ${role.name} inherits itself`, 'remove the cycle from inherits');
    closure.delete(role.name);
    return { ...role, inherits: [...closure] };
  });
}

function inherited(name: string, direct: ReadonlyMap<string, readonly string[]>): Set<string> {
  const seen = new Set<string>();
  const queue = [...(direct.get(name) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...(direct.get(next) ?? []));
  }
  return seen;
}

function resourceRules(r: Decl, resource: Resource, context: CheckContext): ResourceRules {
  const operations: Partial<Record<AccessOperation, Rule>> = {};
  const path = `resources.${resource.name}.access`;
  if (r.access !== undefined && !isPlainObject(r.access)) {
    context.problems.add(path, 'access must be an object of operations', `e.g. access: { read: public, create: authenticated, update: "authorId == auth.id" }`);
  } else if (r.access) {
    for (const [operation, value] of Object.entries(r.access)) {
      if (!(ACCESS_OPERATIONS as readonly string[]).includes(operation)) {
        context.problems.add(`${path}.${operation}`, `unknown operation "${operation}"`, `access takes ${ACCESS_OPERATIONS.join(', ')}`);
        continue;
      }
      const rule = checkRule(value, resource, `${path}.${operation}`, context, 'row');
      if (rule) operations[operation as AccessOperation] = rule;
    }
    if (!operations.list && operations.read) operations.list = operations.read;
  }
  const fields = new Map<string, FieldRules>();
  for (const [name, declared] of Object.entries((r.fields ?? {}) as Decl)) {
    if (!isPlainObject(declared)) continue;
    const field = declared.type === 'belongsTo' ? `${name}Id` : name;
    const fieldPath = `resources.${resource.name}.fields.${name}`;
    const read = declared.read === undefined ? undefined : checkRule(declared.read, resource, `${fieldPath}.read`, context, 'row');
    const write = declared.write === undefined ? undefined : checkRule(declared.write, resource, `${fieldPath}.write`, context, 'caller');
    if (read || write) fields.set(field, { ...(read && { read }), ...(write && { write }) });
  }
  return { operations, fields: new FrozenMap(fields) };
}

/** `scope`: `row` conditions may name the record's fields; `caller` conditions only auth.id and auth.roles. */
function checkRule(value: unknown, resource: Resource, path: string, context: CheckContext, scope: 'row' | 'caller'): Rule | undefined {
  const { problems } = context;
  if (value === 'public') return { kind: 'public' };
  if (value === 'authenticated') return { kind: 'authenticated' };
  if (Array.isArray(value)) {
    const roles = value.filter((v): v is string => typeof v === 'string');
    if (roles.length !== value.length || roles.length === 0) {
      problems.add(path, 'a list rule holds role names', 'e.g. [editor, admin]');
      return undefined;
    }
    const known = knownRoles(context);
    for (const role of roles) if (!known.has(role)) problems.add(path, `unknown role "${role}"`, roleHint(known));
    return { kind: 'roles', roles };
  }
  if (typeof value !== 'string' || value.trim() === '') {
    problems.add(
      path,
      'a rule is public, authenticated, a list of roles or a condition',
      `e.g. public, authenticated, [editor], or "authorId == auth.id" (docs/reference/access-rules.md)`,
    );
    return undefined;
  }
  let syntax: Syntax;
  try {
    syntax = parseCondition(value);
  } catch (error) {
    if (!(error instanceof RuleSyntaxError)) throw error;
    problems.add(
      path,
      `${error.message} (at character ${error.at + 1} of ${JSON.stringify(value)})`,
      'fix the condition: the grammar is in docs/reference/access-rules.md',
    );
    return undefined;
  }
  const typer = new ConditionTyper(context, path, scope);
  const condition = typer.condition(syntax, resource);
  return typer.failed ? undefined : { kind: 'condition', source: value, condition };
}

function knownRoles(context: CheckContext): Set<string> {
  return new Set([...BUILT_IN_ROLES, ...context.roles.map((r) => r.name)]);
}

function roleHint(known: ReadonlySet<string>): string {
  return `declare it under roles, or use one of ${[...known].join(', ')}`;
}

/** Types one condition: every problem is reported at the rule's path. */
class ConditionTyper {
  failed = false;
  readonly #context: CheckContext;
  readonly #path: string;
  readonly #scope: 'row' | 'caller';

  constructor(context: CheckContext, path: string, scope: 'row' | 'caller') {
    this.#context = context;
    this.#path = path;
    this.#scope = scope;
  }

  condition(node: Syntax, resource: Resource): Condition {
    switch (node.kind) {
      case 'and':
      case 'or':
        return { kind: node.kind, items: node.items.map((item) => this.condition(item, resource)) };
      case 'not':
        return { kind: 'not', item: this.condition(node.item, resource) };
      case 'exists':
        return this.#exists(node.relation, node.where, resource);
      case 'operand':
        return this.#alone(node.operand, resource);
      case 'has':
        return this.#has(node.left, node.right);
      case 'in':
        if (node.right.kind === 'auth' && node.right.name === 'roles') return this.#has(node.right, node.left);
        return this.#compare(node.left, 'in', node.right, resource);
      case 'compare':
        return this.#compare(node.left, node.operator, node.right, resource);
    }
  }

  #problem(message: string, hint: string): Condition {
    this.failed = true;
    this.#context.problems.add(this.#path, message, hint);
    return { kind: 'const', value: false };
  }

  #alone(operand: Operand, resource: Resource): Condition {
    if (operand.kind === 'literal' && typeof operand.value === 'boolean') return { kind: 'const', value: operand.value };
    if (operand.kind === 'path') {
      if (this.#scope === 'caller') return this.#rowInCallerRule();
      const target = this.#field(operand.path, resource);
      if (!target) return { kind: 'const', value: false };
      if (target.field.type !== 'boolean') {
        return this.#problem(`${operand.path.join('.')} is ${article(target.field.type)} field, not a condition`, `compare it: ${operand.path.join('.')} == …`);
      }
      return { kind: 'field', through: target.through, field: target.field.name, operator: 'eq', value: { kind: 'literal', value: true } };
    }
    return this.#problem(
      `${describeOperand(operand)} alone is not a condition`,
      "compare it with something, e.g. authorId == auth.id, or auth.roles has 'editor'",
    );
  }

  #has(left: Operand, right: Operand): Condition {
    if (left.kind !== 'auth' || left.name !== 'roles') {
      return this.#problem(`"has" applies only to auth.roles, not ${describeOperand(left)}`, "write auth.roles has 'editor'");
    }
    if (right.kind !== 'literal' || typeof right.value !== 'string') {
      return this.#problem(`auth.roles has takes a role name in quotes, not ${describeOperand(right)}`, "write auth.roles has 'editor'");
    }
    const known = knownRoles(this.#context);
    if (!known.has(right.value)) return this.#problem(`unknown role "${right.value}"`, roleHint(known));
    return { kind: 'role', role: right.value };
  }

  #exists(relationName: string, where: Syntax | undefined, resource: Resource): Condition {
    if (this.#scope === 'caller') return this.#rowInCallerRule();
    const relation = resource.relationsByName.get(relationName);
    if (!relation) {
      return this.#problem(`${resource.name} has no relation "${relationName}"`, relationHint(resource, ['hasMany', 'manyToMany']));
    }
    if (relation.kind === 'belongsTo') {
      return this.#problem(
        `exists() goes through a hasMany or manyToMany relation; ${relationName} is a belongsTo`,
        `name its fields directly instead: ${relationName}.<field> == …`,
      );
    }
    const target = this.#context.resources.get(relation.target) as Resource;
    return { kind: 'exists', relation: relationName, where: where ? this.condition(where, target) : { kind: 'const', value: true } };
  }

  #compare(left: Operand, operator: CompareOperator | 'in', right: Operand, resource: Resource): Condition {
    // auth.id on the left reads as naturally as on the right: put the field first.
    if (left.kind !== 'path' && right.kind === 'path' && operator !== 'in') return this.#compare(right, flipped(operator), left, resource);
    if (left.kind === 'auth' && left.name === 'id' && right.kind === 'literal' && right.value === null && (operator === '==' || operator === '!=')) {
      const signedIn: Condition = { kind: 'signedIn' };
      return operator === '!=' ? signedIn : { kind: 'not', item: signedIn };
    }
    if (left.kind === 'auth' && left.name === 'roles') {
      return this.#problem('auth.roles is compared with "has"', "write auth.roles has 'editor'");
    }
    if (left.kind !== 'path') {
      return this.#problem(
        `${describeOperand(left)} ${operator} ${describeOperand(right)} compares no field of the record`,
        'compare a field with a value or auth.id, e.g. authorId == auth.id',
      );
    }
    if (this.#scope === 'caller') return this.#rowInCallerRule();
    const target = this.#field(left.path, resource);
    if (!target) return { kind: 'const', value: false };
    const { field, through } = target;
    const name = left.path.join('.');
    if (right.kind === 'path') {
      return this.#problem(
        `${name} is compared with another field, ${right.path.join('.')}`,
        'compare a field with a value or auth.id: two fields cannot be compared in a rule',
      );
    }
    if (right.kind === 'auth') {
      if (right.name === 'roles') return this.#problem(`${name} cannot be compared with auth.roles`, "test roles with auth.roles has 'editor'");
      return this.#authId(field, name, operator, through);
    }
    if (right.kind === 'list') {
      if (operator !== 'in') return this.#problem(`a list goes with "in", not "${operator}"`, `write ${name} in [ … ]`);
      for (const item of right.items) if (!this.#fits(field, name, item)) return { kind: 'const', value: false };
      return { kind: 'field', through, field: field.name, operator: 'in', value: { kind: 'literal', value: right.items } };
    }
    if (operator === 'in') return this.#problem(`"in" takes a list of values or auth.roles`, `write ${name} in ['a', 'b']`);
    if (right.value === null) {
      if (operator !== '==' && operator !== '!=') return this.#problem(`null is compared only with == or !=`, `write ${name} == null`);
      if (!field.nullable) return this.#problem(`${name} is never null`, `drop the comparison, or make the field nullable`);
      return { kind: 'field', through, field: field.name, operator: 'isNull', value: { kind: 'literal', value: operator === '==' } };
    }
    if (!this.#fits(field, name, right.value)) return { kind: 'const', value: false };
    if (operator !== '==' && operator !== '!=' && !ORDERED.has(field.type)) {
      return this.#problem(`${name} is ${article(field.type)} field: it has no order for "${operator}"`, 'compare it with == or !=');
    }
    return { kind: 'field', through, field: field.name, operator: OPERATORS[operator], value: { kind: 'literal', value: right.value } };
  }

  #authId(field: ColumnField, name: string, operator: CompareOperator | 'in', through: readonly string[]): Condition {
    if (operator !== '==' && operator !== '!=') return this.#problem(`auth.id is compared only with == or !=`, `write ${name} == auth.id`);
    const accounts = this.#context.accountResource ? this.#context.resources.get(this.#context.accountResource) : undefined;
    const idTypes = accounts ? [accounts.idType] : ['bigint', 'uuid', 'string', 'text'];
    if (!idTypes.includes(field.type)) {
      return this.#problem(
        `${name} is ${article(field.type)} field; auth.id is ${accounts ? `the ${accounts.idType} id of a ${accounts.name} record` : 'an account id'}`,
        `compare auth.id with the id or a key of ${accounts?.name ?? 'the accounts'}, e.g. authorId == auth.id`,
      );
    }
    const value: ConditionValue = { kind: 'authId' };
    return { kind: 'field', through, field: field.name, operator: OPERATORS[operator], value };
  }

  #rowInCallerRule(): Condition {
    return this.#problem(
      'a field write rule decides by the caller only (auth.id, auth.roles), not by the record',
      "use roles or auth.roles has '…' here, and put conditions on the record in the resource's update rule",
    );
  }

  /** The field a path names, through belongsTo relations; undefined after reporting why it names none. */
  #field(path: readonly string[], resource: Resource): { field: ColumnField; through: string[] } | undefined {
    let current = resource;
    const through: string[] = [];
    for (const [i, part] of path.entries()) {
      const last = i === path.length - 1;
      if (last) {
        const field = current.fieldsByName.get(part);
        if (!field) {
          const relation = current.relationsByName.get(part);
          if (relation?.kind === 'belongsTo') {
            this.#problem(`${path.join('.')} is a relation, not a field`, `name its key, ${relation.foreignKey}, or a field of it: ${part}.<field>`);
          } else {
            this.#problem(`${current.name} has no field "${part}"`, `use one of ${current.fields.map((f) => f.name).join(', ')}`);
          }
          return undefined;
        }
        if (field.hidden) {
          this.#problem(`${path.join('.')} is a hidden field`, 'a rule may not depend on a field nobody can read: use another field');
          return undefined;
        }
        if (field.type === 'json') {
          this.#problem(`${path.join('.')} is a json field, which a rule cannot compare`, 'compare a scalar field');
          return undefined;
        }
        return { field, through };
      }
      const relation = current.relationsByName.get(part);
      if (relation?.kind !== 'belongsTo') {
        this.#problem(
          relation ? `${part} is a ${relation.kind} relation: a path goes only through belongsTo relations` : `${current.name} has no relation "${part}"`,
          relation ? `write exists(${part}, …) to test its records` : relationHint(current, ['belongsTo']),
        );
        return undefined;
      }
      through.push(part);
      current = this.#context.resources.get(relation.target) as Resource;
    }
    return undefined;
  }

  #fits(field: ColumnField, name: string, value: Literal): boolean {
    const problem = literalProblem(field, value);
    if (!problem) return true;
    this.#problem(`${name} is ${article(field.type)} field: ${problem}`, `compare ${name} with ${valueExample(field)}`);
    return false;
  }
}

const ORDERED: ReadonlySet<string> = new Set(['string', 'text', 'integer', 'bigint', 'decimal', 'float', 'date', 'datetime']);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function literalProblem(field: ColumnField, value: Literal): string | undefined {
  switch (field.type) {
    case 'string':
    case 'text':
      return typeof value === 'string' ? undefined : `${describeLiteral(value)} is not text`;
    case 'enum':
      if (typeof value !== 'string') return `${describeLiteral(value)} is not one of its values`;
      return field.values?.includes(value) ? undefined : `"${value}" is not one of its values (${(field.values ?? []).join(', ')})`;
    case 'uuid':
      return typeof value === 'string' && UUID.test(value) ? undefined : `${describeLiteral(value)} is not a uuid`;
    case 'integer':
    case 'bigint':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : `${describeLiteral(value)} is not an integer`;
    case 'decimal':
    case 'float':
      return typeof value === 'number' ? undefined : `${describeLiteral(value)} is not a number`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${describeLiteral(value)} is not true or false`;
    case 'date':
      return typeof value === 'string' && DATE.test(value) ? undefined : `${describeLiteral(value)} is not a date (YYYY-MM-DD)`;
    case 'datetime':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? undefined : `${describeLiteral(value)} is not a date-time`;
    case 'json':
      return 'a rule cannot compare json';
  }
}

function valueExample(field: ColumnField): string {
  switch (field.type) {
    case 'enum':
      return `one of ${(field.values ?? []).map((v) => `'${v}'`).join(', ')}`;
    case 'integer':
    case 'bigint':
    case 'decimal':
    case 'float':
      return 'a number, e.g. 10';
    case 'boolean':
      return 'true or false';
    case 'date':
      return "a date, e.g. '2026-01-31'";
    case 'datetime':
      return "a date-time, e.g. '2026-01-31T12:00:00Z'";
    default:
      return "text in quotes, e.g. 'draft'";
  }
}

function flipped(operator: CompareOperator | 'in'): CompareOperator | 'in' {
  switch (operator) {
    case '<':
      return '>';
    case '<=':
      return '>=';
    case '>':
      return '<';
    case '>=':
      return '<=';
    default:
      return operator;
  }
}

function describeOperand(operand: Operand): string {
  switch (operand.kind) {
    case 'path':
      return operand.path.join('.');
    case 'auth':
      return `auth.${operand.name}`;
    case 'literal':
      return describeLiteral(operand.value);
    case 'list':
      return 'a list';
  }
}

function describeLiteral(value: Literal): string {
  return typeof value === 'string' ? `the text '${value}'` : value === null ? 'null' : String(value);
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function relationHint(resource: Resource, kinds: readonly string[]): string {
  const names = resource.relations.filter((r) => kinds.includes(r.kind)).map((r) => r.name);
  return names.length > 0 ? `use one of ${names.join(', ')}` : `${resource.name} has no ${kinds.join(' or ')} relation`;
}
