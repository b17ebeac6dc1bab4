/**
 * Turns a transport's read arguments (src/pipeline/parse.ts) into a validated ListQuery or Selection:
 * names checked against the model, values converted, the id tie-breaker added to every order, limits
 * applied, the cursor decoded, and the include tree built with its worst-case size checked against
 * the row budget — all before any SQL runs. Every problem is collected and reported at once.
 *
 * The caller's field rules (FieldsOf) apply to every resource the query reaches: a field it may not
 * read is unknown here, with the very answer an unknown field gets, so its existence does not leak; a
 * field it reads on some rows only may be selected but neither filtered nor sorted by (filtering would
 * reveal its value on the other rows), and a relation whose key it cannot fully read is not followed.
 */
import { type FieldsOf, NO_FIELD_LIMITS, readableFor } from '../access/field-access.js';
import type { Model, Relation, Resource } from '../model/ir.js';
import { getResource } from '../model/ir.js';
import type { Principal } from '../pipeline/context.js';
import type { FilterArg, IncludeArg, ListArgs, SelectionArgs } from '../pipeline/parse.js';
import type { CompiledModel } from './compiled-model.js';
import type { CursorCodec } from './cursor.js';
import { type FieldError, KilnError } from './errors.js';
import { isFilterOperator, operatorsFor } from './filter-operators.js';
import { parseFilterValue, truncate } from './filter-values.js';
import { FIXED_LIMITS, type Limits } from './limits.js';
import { and, compare, type Predicate, related, TRUE } from './predicate.js';
import type { IncludeNode, ListQuery, Selection, SortKey } from './query.js';
import { fieldKind } from './value-messages.js';
import { withArticle } from './words.js';

export interface QueryEnvironment {
  readonly model: Model;
  readonly compiled: CompiledModel;
  readonly cursors: CursorCodec;
}

export function buildListQuery(
  env: QueryEnvironment,
  resource: Resource,
  args: ListArgs,
  limits: Limits,
  fieldsOf: FieldsOf = NO_FIELD_LIMITS,
  caller = '',
): ListQuery {
  const errors: FieldError[] = [...(args.problems ?? [])];
  const where = buildFilters(env.model, resource, args.filters ?? [], limits, errors, fieldsOf);
  const fields = buildFields(env, resource, args.fields, 'fields', errors, fieldsOf);
  const sort = buildSort(env, resource, args.sort, 'sort', errors, fieldsOf);
  const limit = checkLimit(args.limit, limits.pageDefaultLimit, limits.pageMaxLimit, 'limit', errors);
  const include = buildIncludes(env, resource, args.include ?? [], limits, [], errors, fieldsOf);
  checkBudget(limit, include, limits, errors);
  if (errors.length > 0) throw queryInvalid(errors);
  const cursorBinding = `${sortSignature(resource, sort)}${caller && `@${caller}`}`;
  const query: ListQuery = { fields, include, where, sort, limit, count: args.count === true, cursorBinding };
  if (args.cursor === undefined) return query;
  return { ...query, position: env.cursors.decode(args.cursor, cursorBinding) };
}

export function buildSelection(
  env: QueryEnvironment,
  resource: Resource,
  args: SelectionArgs,
  limits: Limits,
  fieldsOf: FieldsOf = NO_FIELD_LIMITS,
): Selection {
  const errors: FieldError[] = [...(args.problems ?? [])];
  const fields = buildFields(env, resource, args.fields, 'fields', errors, fieldsOf);
  const include = buildIncludes(env, resource, args.include ?? [], limits, [], errors, fieldsOf);
  checkBudget(1, include, limits, errors);
  if (errors.length > 0) throw queryInvalid(errors);
  return { fields, include };
}

/**
 * What a cursor is bound to: the resource and its sort, so it cannot be replayed elsewhere; the list
 * adds the caller (cursorCaller), so a cursor another caller was given is refused.
 */
export function sortSignature(resource: Resource, sort: readonly SortKey[]): string {
  return `${resource.name}:${sort.map((k) => `${k.descending ? '-' : ''}${k.field.name}`).join(',')}`;
}

export function queryInvalid(errors: readonly FieldError[]): KilnError {
  const first = errors[0];
  const detail = errors.length === 1 && first ? `${truncate(first.path)}: ${first.message}` : `${errors.length} problems in the query string`;
  return new KilnError('KILN_QUERY_INVALID', { detail, errors });
}

function buildFields(
  env: QueryEnvironment,
  resource: Resource,
  names: readonly string[] | undefined,
  path: string,
  errors: FieldError[],
  fieldsOf: FieldsOf,
): readonly string[] {
  const readable = readableFor(env.compiled.of(resource), fieldsOf(resource));
  if (names === undefined) return readable;
  const wanted = new Set(['id']);
  for (const name of names) {
    if (!readable.includes(name))
      errors.push({ path, code: 'unknown', message: `"${truncate(name)}" is not ${withArticle(`readable ${resource.singular} field`)}` });
    else wanted.add(name);
  }
  return readable.filter((name) => wanted.has(name));
}

function buildSort(
  env: QueryEnvironment,
  resource: Resource,
  items: readonly string[] | undefined,
  path: string,
  errors: FieldError[],
  fieldsOf: FieldsOf,
): readonly SortKey[] {
  if (items === undefined || items.length === 0) return env.compiled.of(resource).defaultSort;
  const keys: SortKey[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const descending = item.startsWith('-');
    const name = descending ? item.slice(1) : item;
    const field = resource.fieldsByName.get(name);
    const reach = field ? readability(fieldsOf, resource, name) : 'none';
    if (!field || field.hidden || field.type === 'json' || reach === 'none') {
      errors.push({ path, code: 'unknown', message: `cannot sort by "${truncate(name)}": it is not ${withArticle(`sortable ${resource.singular} field`)}` });
    } else if (reach === 'someRows') {
      errors.push({ path, code: 'restricted', message: `cannot sort by "${name}": ${someRowsOnly(resource, name)}` });
    } else if (seen.has(name)) {
      errors.push({ path, code: 'repeated', message: `"${name}" appears twice in sort` });
    } else {
      seen.add(name);
      keys.push({ field, descending });
    }
  }
  if (keys.length > FIXED_LIMITS.sortKeys) errors.push({ path, code: 'tooMany', message: `sort by at most ${FIXED_LIMITS.sortKeys} fields` });
  // The id makes the order total, which keyset pagination needs to never skip or repeat a row.
  const id = resource.fieldsByName.get('id');
  if (!seen.has('id') && id) keys.push({ field: id, descending: false });
  return keys;
}

function checkLimit(value: number | undefined, fallback: number, max: number, path: string, errors: FieldError[]): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    errors.push({ path, code: 'range', message: `limit must be a whole number from 1 to ${max}` });
    return fallback;
  }
  return value;
}

function buildFilters(model: Model, resource: Resource, filters: readonly FilterArg[], limits: Limits, errors: FieldError[], fieldsOf: FieldsOf): Predicate {
  const predicates: Predicate[] = [];
  for (const filter of filters) {
    const predicate = buildFilter(model, resource, filter, limits, errors, fieldsOf);
    if (predicate) predicates.push(predicate);
  }
  return and(...predicates);
}

function buildFilter(model: Model, resource: Resource, filter: FilterArg, limits: Limits, errors: FieldError[], fieldsOf: FieldsOf): Predicate | undefined {
  const path = filter.source ?? filter.path.join('.');
  const fail = (code: string, message: string) => {
    errors.push({ path, code, message });
    return undefined;
  };
  const [first = '', second, ...rest] = filter.path;
  if (rest.length > 0) return fail('unknown', `"${truncate(path)}" goes through more than one relation; filters go through one belongsTo relation at most`);
  let owner = resource;
  let fieldName = first;
  if (second !== undefined) {
    const relation = resource.relationsByName.get(first);
    const key = relation?.kind === 'belongsTo' ? keyReadability(model, resource, relation, fieldsOf) : undefined;
    if (relation?.kind !== 'belongsTo' || key?.reach === 'none') {
      return fail('unknown', `"${truncate(first)}" is not a belongsTo relation of ${resource.name}; filters can go through belongsTo relations only`);
    }
    if (key?.reach === 'someRows') return fail('restricted', `cannot filter by "${truncate(path)}": ${someRowsOnly(key.owner, key.field)}`);
    owner = getResource(model, relation.target);
    fieldName = second;
  }
  const field = owner.fieldsByName.get(fieldName);
  const reach = field ? readability(fieldsOf, owner, fieldName) : 'none';
  if (!field || field.hidden || reach === 'none')
    return fail('unknown', `unknown query parameter "${truncate(path)}": "${truncate(fieldName)}" is not ${withArticle(`${owner.singular} field`)}`);
  if (reach === 'someRows') return fail('restricted', `cannot filter by "${truncate(path)}": ${someRowsOnly(owner, fieldName)}`);
  const allowed = operatorsFor(field);
  if (!isFilterOperator(filter.operator)) return fail('operator', `unknown operator "${truncate(filter.operator)}"; use one of ${allowed.join(', ')}`);
  const operator = filter.operator;
  if (!allowed.includes(operator)) {
    return fail('operator', `operator "${operator}" does not apply to "${fieldName}", ${fieldKind(field)}; use one of ${allowed.join(', ')}`);
  }
  let value: unknown;
  if (operator === 'isNull') {
    value = filter.value === true || filter.value === 'true' ? true : filter.value === false || filter.value === 'false' ? false : undefined;
    if (value === undefined) return fail('value', `"${truncate(path)}" must be true or false`);
  } else if (operator === 'in' || operator === 'notIn') {
    const items = filter.value;
    if (!Array.isArray(items) || items.length === 0 || items.length > FIXED_LIMITS.inValues) {
      return fail('value', `give 1 to ${FIXED_LIMITS.inValues} comma-separated values`);
    }
    const values: unknown[] = [];
    for (const item of items) {
      const parsed = parseFilterValue(field, item, limits.textMaxLength);
      if (!parsed.ok) return fail('value', parsed.message);
      values.push(parsed.value);
    }
    value = values;
  } else {
    const parsed = parseFilterValue(field, filter.value, limits.textMaxLength);
    if (!parsed.ok) return fail('value', parsed.message);
    value = parsed.value;
  }
  const condition = compare(field.name, operator, value);
  return second === undefined ? condition : related(first, condition);
}

/** `trail`: the relations above, for messages (`tags.posts`). */
function buildIncludes(
  env: QueryEnvironment,
  resource: Resource,
  args: readonly IncludeArg[],
  limits: Limits,
  trail: readonly string[],
  errors: FieldError[],
  fieldsOf: FieldsOf,
): readonly IncludeNode[] {
  if (args.length === 0) return NO_INCLUDES;
  const path = 'include';
  const depth = trail.length + 1;
  const nodes: IncludeNode[] = [];
  const seen = new Set<string>();
  for (const arg of args) {
    const relation = resource.relationsByName.get(arg.relation);
    // Included records show the relation's key: a key the caller cannot read makes the relation unknown to them.
    const key = relation ? keyReadability(env.model, resource, relation, fieldsOf) : undefined;
    if (!relation || key?.reach === 'none') {
      errors.push({ path, code: 'unknown', message: `"${truncate(arg.relation)}" is not ${withArticle(`${resource.singular} relation`)}` });
      continue;
    }
    if (key?.reach === 'someRows') {
      errors.push({ path, code: 'restricted', message: `cannot include "${arg.relation}": ${someRowsOnly(key.owner, key.field)}` });
      continue;
    }
    if (depth > limits.includeMaxDepth) {
      errors.push({ path, code: 'depth', message: `"${truncate([...trail, arg.relation].join('.'))}" is nested deeper than ${limits.includeMaxDepth} levels` });
      continue;
    }
    if (seen.has(arg.relation)) continue;
    seen.add(arg.relation);
    const target = getResource(env.model, relation.target);
    const toMany = relation.kind !== 'belongsTo';
    if (!toMany && (arg.filters?.length || arg.sort?.length || arg.limit !== undefined)) {
      errors.push({ path, code: 'unsupported', message: `"${arg.relation}" is a belongsTo relation: it takes fields and include only` });
    }
    nodes.push({
      relation,
      target,
      fields: buildFields(env, target, arg.fields, path, errors, fieldsOf),
      where: toMany ? buildFilters(env.model, target, arg.filters ?? [], limits, errors, fieldsOf) : TRUE,
      sort: toMany ? buildSort(env, target, arg.sort, path, errors, fieldsOf) : NO_SORT,
      limit: toMany ? checkLimit(arg.limit, limits.includeLimit, limits.pageMaxLimit, path, errors) : 1,
      include: buildIncludes(env, target, arg.include ?? [], limits, [...trail, arg.relation], errors, fieldsOf),
    });
  }
  return nodes;
}

/** Whether the caller reads a field: on every row, on some rows only (a row condition), or on none. */
type Readability = 'all' | 'someRows' | 'none';

function readability(fieldsOf: FieldsOf, resource: Resource, field: string): Readability {
  const access = fieldsOf(resource);
  if (!access) return 'all';
  if (access.unreadable.has(field)) return 'none';
  return access.conditional.has(field) ? 'someRows' : 'all';
}

/** How far the caller reads the key a relation is made of: a belongsTo's own key, a hasMany's key on its target. */
function keyReadability(model: Model, resource: Resource, relation: Relation, fieldsOf: FieldsOf): { reach: Readability; owner: Resource; field: string } {
  if (relation.kind === 'belongsTo') return { reach: readability(fieldsOf, resource, relation.foreignKey), owner: resource, field: relation.foreignKey };
  if (relation.kind === 'hasMany') {
    const target = getResource(model, relation.target);
    return { reach: readability(fieldsOf, target, relation.foreignKey), owner: target, field: relation.foreignKey };
  }
  return { reach: 'all', owner: resource, field: '' };
}

function someRowsOnly(owner: Resource, field: string): string {
  return `you may read "${field}" on some ${owner.name} only`;
}

const NO_INCLUDES: readonly IncludeNode[] = Object.freeze([]);
const NO_SORT: readonly SortKey[] = Object.freeze([]);

/**
 * The most records a read could return: the page, then under each node its limit per parent (one for a
 * belongsTo) times the records above it. Refused before any SQL when it is above the budget.
 */
function checkBudget(top: number, include: readonly IncludeNode[], limits: Limits, errors: FieldError[]): void {
  const worst = top + worstCase(top, include);
  if (worst <= limits.includeMaxRows) return;
  const path = include.length > 0 ? 'include' : 'limit';
  errors.push({
    path,
    code: 'budget',
    message:
      `this read could return up to ${worst} records (the page and every included record at worst); one read may return at most ` +
      `${limits.includeMaxRows}: ask for a smaller limit or include fewer or shallower relations`,
  });
}

function worstCase(parents: number, include: readonly IncludeNode[]): number {
  let total = 0;
  for (const node of include) {
    const rows = parents * node.limit;
    total += rows + worstCase(rows, node.include);
    if (total > Number.MAX_SAFE_INTEGER / 2) return total; // far beyond any budget; no need for the exact figure
  }
  return total;
}

/**
 * Who a cursor belongs to: the signed-in caller's kind and id, so a cursor leaked or passed on is
 * refused to anyone else (the pages behind it are read under the presenter's rules anyway, but the
 * position it carries is the issuer's). Anonymous callers all see the same rows, and share cursors.
 */
export function cursorCaller(principal: Principal): string {
  return principal.id === null ? '' : `${principal.kind}:${String(principal.id)}`;
}
