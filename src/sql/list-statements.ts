/**
 * List statements built once per shape. A list's text depends only on the shape of its query (which
 * fields are filtered with which operator, the sort, which keys of the cursor are null, the columns
 * and joins), never on the values, which travel as parameters. The first request of a shape compiles
 * the text; the next ones reuse it (the same string, whose prepared-statement name is then found
 * without hashing new text) and only collect their values, in the order the compiler binds them.
 *
 * Covered: lists filtered on the resource's own fields, under no access rule or a rule on the
 * resource's own fields (`status == 'published' || authorId == auth.id`: one shape for every caller
 * of the same roles, only the caller's id differs), with joined relations under no rule. Anything
 * else (a rule through a relation, a filter through a relation, which binds the related resource's
 * rule too, a field shown on some rows only) is compiled each time.
 * test/unit/list-statements.test.ts holds the cached statements equal to freshly compiled ones.
 */
import type { Predicate } from '../core/predicate.js';
import type { ListQuery } from '../core/query.js';
import type { Model, Resource } from '../model/ir.js';
import type { Statement } from './fragments.js';
import { boundValue } from './predicate.js';
import { type Access, compileList, type Join, type Projection } from './select.js';

/** Shapes remembered per server; an API has few, and a client cannot make it keep more than this. */
const MAX_SHAPES = 2000;

export class ListStatements {
  readonly #model: Model;
  readonly #texts = new Map<string, string>();

  constructor(model: Model) {
    this.#model = model;
  }

  /** How many shapes are remembered (what a repeated shape must not grow). */
  get shapes(): number {
    return this.#texts.size;
  }

  compile(resource: Resource, query: ListQuery, select: Projection, access: Access, joins: readonly Join[], after?: readonly unknown[]): Statement {
    if (!this.#cacheable(resource, query.where, access, joins)) return compileList(this.#model, resource, query, select, access, joins, after);
    const key = shapeKey(resource, query, select, access.rows, joins, after);
    const text = this.#texts.get(key);
    if (text !== undefined) return { text, values: valuesOf(query, access.rows, after) };
    const statement = compileList(this.#model, resource, query, select, access, joins, after);
    if (this.#texts.size < MAX_SHAPES) this.#texts.set(key, statement.text);
    return statement;
  }

  /** A field shown on some rows only binds the caller's values in the select list: such a list is compiled each time. */
  #cacheable(resource: Resource, where: Predicate, access: Access, joins: readonly Join[]): boolean {
    if (!ownTree(access.rows) || !ownComparisons(where)) return false;
    if (access.shownOf?.(resource)) return false;
    for (const join of joins) if (access.scopeOf(join.target) !== undefined || access.shownOf?.(join.target)) return false;
    return true;
  }
}

/** TRUE, one comparison, or an AND of comparisons, all on the resource's own fields. */
function ownComparisons(where: Predicate): boolean {
  if (where.kind === 'true' || where.kind === 'compare') return true;
  return where.kind === 'and' && where.items.every((item) => item.kind === 'compare');
}

/** A rule of and, or, not and comparisons on the resource's own fields: its text depends on its shape only. */
function ownTree(rule: Predicate): boolean {
  switch (rule.kind) {
    case 'true':
    case 'false':
    case 'compare':
      return true;
    case 'and':
    case 'or':
      return rule.items.every(ownTree);
    case 'not':
      return ownTree(rule.item);
    default:
      return false;
  }
}

/** The rule's shape: its structure, fields and operators, without the values it binds. */
function ruleShape(rule: Predicate): string {
  switch (rule.kind) {
    case 'true':
      return 'T';
    case 'false':
      return 'F';
    case 'compare':
      return rule.operator === 'isNull' ? `${rule.field}[isNull:${rule.value ? 1 : 0}]` : `${rule.field}[${rule.operator}]`;
    case 'and':
    case 'or':
      return `${rule.kind}(${rule.items.map(ruleShape).join(',')})`;
    case 'not':
      return `not(${ruleShape(rule.item)})`;
    default:
      throw new Error(`a ${rule.kind} rule has no cached shape`);
  }
}

/** The rule's values in the order the compiler binds them: depth first, left to right. */
function ruleValues(rule: Predicate, values: unknown[]): void {
  if (rule.kind === 'compare') {
    if (rule.operator !== 'isNull') values.push(boundValue(rule.operator, rule.value));
  } else if (rule.kind === 'and' || rule.kind === 'or') for (const item of rule.items) ruleValues(item, values);
  else if (rule.kind === 'not') ruleValues(rule.item, values);
}

function comparisons(where: Predicate): readonly Predicate[] {
  if (where.kind === 'true') return [];
  return where.kind === 'and' ? where.items : [where];
}

function shapeKey(resource: Resource, query: ListQuery, select: Projection, rule: Predicate, joins: readonly Join[], after?: readonly unknown[]): string {
  let key = `${resource.name}|${select.columns.join(',')}|${rule.kind === 'true' ? '' : ruleShape(rule)}|`;
  for (const item of comparisons(query.where)) {
    if (item.kind !== 'compare') continue;
    // isNull binds nothing: its value (IS NULL or IS NOT NULL) is part of the text.
    key += item.operator === 'isNull' ? `${item.field}[isNull:${item.value ? 1 : 0}],` : `${item.field}[${item.operator}],`;
  }
  key += '|';
  for (const k of query.sort) key += `${k.descending ? '-' : ''}${k.field.name},`;
  key += '|';
  // A null cursor value changes the keyset condition's text, not only its parameters.
  if (after) for (const value of after) key += value === null || value === undefined ? 'n' : 'v';
  key += '|';
  for (const join of joins) key += `${join.relation.name}(${join.columns.join(',')})`;
  return key;
}

/** The parameters compileList binds, in its order: the rule, the filters, the cursor's values, the limit. */
function valuesOf(query: ListQuery, rule: Predicate, after?: readonly unknown[]): unknown[] {
  const values: unknown[] = [];
  ruleValues(rule, values);
  for (const item of comparisons(query.where)) {
    if (item.kind === 'compare' && item.operator !== 'isNull') values.push(boundValue(item.operator, item.value));
  }
  if (after) for (const value of after) if (value !== null && value !== undefined) values.push(value);
  values.push(query.limit + 1);
  return values;
}
