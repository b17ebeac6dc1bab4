/**
 * The one place where a predicate (a request's filters, an access rule) becomes SQL. Every statement
 * that touches a resource asks this compiler for its conditions, so a rule cannot be skipped by a
 * path that forgot it: reads at every include depth, relation filters, UPDATE, DELETE and link writes.
 */
import type { Predicate } from '../core/predicate.js';
import { getResource, type Model, type Resource } from '../model/ir.js';
import { escapeLike, ident, type Params, qualified } from './fragments.js';

/**
 * The access rule that limits which rows of `resource` the caller may see; undefined when every row is
 * visible. A relation filter (`author.email=…`) goes through it, so a filter cannot reveal rows the
 * caller cannot read.
 */
export type ScopeOf = (resource: Resource) => Predicate | undefined;

/** What compiling needs beyond the predicate: the model, the statement's parameters and fresh aliases. */
export class PredicateCompiler {
  readonly #model: Model;
  readonly #params: Params;
  readonly #scopeOf: ScopeOf | undefined;
  /** Shared with the trusted() compiler of the same statement, so every alias stays unique. */
  #aliases = { next: 0 };

  /** `scopeOf` applies to relations a predicate goes through; leave it out for trusted predicates (rules). */
  constructor(model: Model, params: Params, scopeOf?: ScopeOf) {
    this.#model = model;
    this.#params = params;
    this.#scopeOf = scopeOf;
  }

  get params(): Params {
    return this.#params;
  }

  /** SQL for `predicate` over `resource` aliased `alias`; undefined when it is always true. */
  compile(resource: Resource, alias: string, predicate: Predicate): string | undefined {
    return predicate.kind === 'true' ? undefined : this.#node(resource, alias, predicate);
  }

  /** The same compiler, with relations no longer scoped: for the trusted rule predicates of a statement. */
  trusted(): PredicateCompiler {
    const inner = new PredicateCompiler(this.#model, this.#params);
    inner.#aliases = this.#aliases;
    return inner;
  }

  #node(resource: Resource, alias: string, p: Predicate): string {
    switch (p.kind) {
      case 'true':
        return 'TRUE';
      case 'false':
        return 'FALSE';
      case 'and':
        return `(${p.items.map((item) => this.#node(resource, alias, item)).join(' AND ')})`;
      case 'or':
        return `(${p.items.map((item) => this.#node(resource, alias, item)).join(' OR ')})`;
      case 'not':
        return `NOT ${this.#node(resource, alias, p.item)}`;
      case 'compare':
        return this.#compare(resource, alias, p.field, p.operator, p.value);
      case 'related':
      case 'exists':
        return this.#through(resource, alias, p.relation, p.where, p.kind);
    }
  }

  #compare(resource: Resource, alias: string, fieldName: string, operator: string, value: unknown): string {
    const field = resource.fieldsByName.get(fieldName);
    if (!field) throw new Error(`predicate names an unknown field ${resource.name}.${fieldName}`);
    const column = qualified(alias, field.column);
    if (operator === 'isNull') return value ? `${column} IS NULL` : `${column} IS NOT NULL`;
    const param = this.#params.add(boundValue(operator, value));
    switch (operator) {
      case 'eq':
        return `${column} = ${param}`;
      case 'ne':
        return `${column} IS DISTINCT FROM ${param}`;
      case 'gt':
        return `${column} > ${param}`;
      case 'gte':
        return `${column} >= ${param}`;
      case 'lt':
        return `${column} < ${param}`;
      case 'lte':
        return `${column} <= ${param}`;
      case 'in':
        return `${column} = ANY(${param})`;
      case 'notIn':
        return `(${column} IS NULL OR ${column} <> ALL(${param}))`;
      case 'ieq':
        return `lower(${column}) = lower(${param})`;
      case 'contains':
      case 'startsWith':
      case 'endsWith':
        return `${column} LIKE ${param}`;
      case 'icontains':
      case 'istartsWith':
      case 'iendsWith':
        return `${column} ILIKE ${param}`;
      default:
        throw new Error(`unknown operator ${operator}`);
    }
  }

  /** EXISTS over the related rows, with the target's access rule inside when one applies. */
  #through(resource: Resource, alias: string, relationName: string, where: Predicate, kind: 'related' | 'exists'): string {
    const relation = resource.relationsByName.get(relationName);
    if (!relation) throw new Error(`predicate names an unknown relation ${resource.name}.${relationName}`);
    if ((kind === 'related') !== (relation.kind === 'belongsTo')) {
      throw new Error(`${kind} does not apply to the ${relation.kind} relation ${resource.name}.${relationName}`);
    }
    const target = getResource(this.#model, relation.target);
    const n = ++this.#aliases.next;
    const r = `r${n}`;
    const scope = this.#scopeOf?.(target);
    const inner = [this.compile(target, r, where), scope ? this.trusted().compile(target, r, scope) : undefined].filter((c) => c !== undefined);
    let from: string;
    let link: string;
    if (relation.kind === 'belongsTo') {
      const key = resource.fieldsByName.get(relation.foreignKey);
      if (!key) throw new Error(`relation ${resource.name}.${relation.name} has no key field`);
      from = `${ident(target.table)} AS ${r}`;
      link = `${r}."id" = ${qualified(alias, key.column)}`;
    } else if (relation.kind === 'hasMany') {
      const key = target.fieldsByName.get(relation.foreignKey);
      if (!key) throw new Error(`relation ${resource.name}.${relation.name} has no key field`);
      from = `${ident(target.table)} AS ${r}`;
      link = `${qualified(r, key.column)} = ${alias}."id"`;
    } else {
      const j = `l${n}`;
      from = `${ident(relation.joinTable)} AS ${j} JOIN ${ident(target.table)} AS ${r} ON ${r}."id" = ${qualified(j, relation.targetColumn)}`;
      link = `${qualified(j, relation.sourceColumn)} = ${alias}."id"`;
    }
    return `EXISTS (SELECT 1 FROM ${from} WHERE ${[link, ...inner].join(' AND ')})`;
  }
}

/**
 * The parameter a comparison binds (isNull binds none): the value itself, or the LIKE pattern of the
 * text operators, with the user's `%` and `_` escaped so they match themselves.
 */
export function boundValue(operator: string, value: unknown): unknown {
  switch (operator) {
    case 'contains':
    case 'icontains':
      return `%${escapeLike(String(value))}%`;
    case 'startsWith':
    case 'istartsWith':
      return `${escapeLike(String(value))}%`;
    case 'endsWith':
    case 'iendsWith':
      return `%${escapeLike(String(value))}`;
    default:
      return value;
  }
}
