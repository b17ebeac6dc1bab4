import type { Filter, ListQuery } from '../core/query.js';
import type { BelongsToRelation, ManyToManyRelation, Model, Resource } from '../model/ir.js';
import { compileFilters, compileKeyset, compileOrderBy } from './filter.js';
import { ident, Params, qualified, type Statement } from './fragments.js';

/**
 * A predicate that narrows which rows of a resource a request may see, compiled into the same
 * statement. Access rules plug in here; without rules every row is visible.
 */
export type RowScope = (resource: Resource, alias: string, params: Params) => string | undefined;

/** Alias used for the parent key in include queries; not a valid field name, so it cannot clash. */
export const PARENT_KEY = '__parent';

/**
 * A belongsTo relation read in the parent's own statement: LEFT JOINed on its key (an access scope
 * goes into the ON clause, so a hidden target reads as null), its columns aliased `relation.field`.
 */
export interface Join {
  readonly relation: BelongsToRelation;
  readonly target: Resource;
  readonly columns: readonly string[];
}

/** The alias of a joined column; a dot cannot appear in a field name, so it cannot clash. */
export function joinedColumn(relation: string, field: string): string {
  return `${relation}.${field}`;
}

/** The extra select list and FROM clause of `joins`, with the main table aliased `t`. */
function compileJoins(resource: Resource, joins: readonly Join[], params: Params, scope: RowScope | undefined): { select: string; from: string } {
  let select = '';
  let from = '';
  joins.forEach((join, i) => {
    const alias = `j${i}`;
    const key = resource.fieldsByName.get(join.relation.foreignKey);
    if (!key) throw new Error(`relation ${resource.name}.${join.relation.name} has no key field`);
    const on = [`${alias}."id" = ${qualified('t', key.column)}`, ...scoped(scope, join.target, alias, params)];
    from += ` LEFT JOIN ${ident(join.target.table)} AS ${alias} ON ${on.join(' AND ')}`;
    for (const name of join.columns) {
      const field = join.target.fieldsByName.get(name);
      if (!field) throw new Error(`unknown field ${join.target.name}.${name}`);
      select += `, ${qualified(alias, field.column)} AS ${ident(joinedColumn(join.relation.name, name))}`;
    }
  });
  return { select, from };
}

export function selectColumns(resource: Resource, fieldNames: readonly string[], alias: string): string {
  return fieldNames
    .map((name) => {
      const field = resource.fieldsByName.get(name);
      if (!field) throw new Error(`unknown field ${resource.name}.${name}`);
      return `${qualified(alias, field.column)} AS ${ident(field.name)}`;
    })
    .join(', ');
}

const mainSelectLists = new WeakMap<Resource, WeakMap<readonly string[], string>>();

/**
 * The select list of the main table (alias `t`). Column lists that are frozen (the readable fields of
 * a resource, which most reads ask for) are compiled once and remembered.
 */
function mainSelectList(resource: Resource, columns: readonly string[]): string {
  if (!Object.isFrozen(columns)) return selectColumns(resource, columns, 't');
  let lists = mainSelectLists.get(resource);
  if (!lists) {
    lists = new WeakMap();
    mainSelectLists.set(resource, lists);
  }
  let list = lists.get(columns);
  if (list === undefined) {
    list = selectColumns(resource, columns, 't');
    lists.set(columns, list);
  }
  return list;
}

function whereClause(conditions: readonly string[]): string {
  return conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
}

function scoped(scope: RowScope | undefined, resource: Resource, alias: string, params: Params): string[] {
  const predicate = scope?.(resource, alias, params);
  return predicate ? [predicate] : [];
}

/** One page: fetches `limit + 1` rows so the caller knows whether another page follows. */
export function compileList(
  model: Model,
  resource: Resource,
  query: ListQuery,
  columns: readonly string[],
  scope?: RowScope,
  joins: readonly Join[] = [],
): Statement {
  const params = new Params();
  const conditions = [...scoped(scope, resource, 't', params), ...compileFilters(model, resource, query.filters, params)];
  if (query.after) conditions.push(compileKeyset(query.sort, query.after, params));
  const joined = compileJoins(resource, joins, params, scope);
  const limit = params.add(query.limit + 1);
  const text =
    `SELECT ${mainSelectList(resource, columns)}${joined.select} FROM ${ident(resource.table)} AS t${joined.from}` +
    `${whereClause(conditions)} ORDER BY ${compileOrderBy(query.sort)} LIMIT ${limit}`;
  return { text, values: params.values };
}

export function compileCount(model: Model, resource: Resource, filters: readonly Filter[], scope?: RowScope): Statement {
  const params = new Params();
  const conditions = [...scoped(scope, resource, 't', params), ...compileFilters(model, resource, filters, params)];
  return { text: `SELECT count(*)::int8 AS "total" FROM ${ident(resource.table)} AS t${whereClause(conditions)}`, values: params.values };
}

/** One record by id; with `lock`, FOR UPDATE of that record only (joined rows are not locked). */
export function compileFindById(
  resource: Resource,
  columns: readonly string[],
  id: unknown,
  options: { lock?: boolean; scope?: RowScope; joins?: readonly Join[] } = {},
): Statement {
  const params = new Params();
  const conditions = [`t."id" = ${params.add(id)}`, ...scoped(options.scope, resource, 't', params)];
  const joined = compileJoins(resource, options.joins ?? [], params, options.scope);
  const lock = options.lock ? (joined.from ? ' FOR UPDATE OF t' : ' FOR UPDATE') : '';
  const text = `SELECT ${mainSelectList(resource, columns)}${joined.select} FROM ${ident(resource.table)} AS t${joined.from}${whereClause(conditions)}${lock}`;
  return { text, values: params.values };
}

/**
 * Rows of `resource` whose `keyField` is one of `keys`: one statement for all parents of a page.
 * With `perParent`, at most that many rows per key value (hasMany includes stay bounded).
 */
export function compileFindByKeys(
  resource: Resource,
  columns: readonly string[],
  keyField: string,
  keys: readonly unknown[],
  options: { perParent?: number; scope?: RowScope } = {},
): Statement {
  const params = new Params();
  const key = resource.fieldsByName.get(keyField);
  if (!key) throw new Error(`unknown field ${resource.name}.${keyField}`);
  const conditions = [`${qualified('t', key.column)} = ANY(${params.add(keys)})`, ...scoped(options.scope, resource, 't', params)];
  const select = `${selectColumns(resource, columns, 't')}, ${qualified('t', key.column)} AS ${ident(PARENT_KEY)}`;
  if (options.perParent === undefined) {
    return { text: `SELECT ${select} FROM ${ident(resource.table)} AS t${whereClause(conditions)} ORDER BY t."id"`, values: params.values };
  }
  const rank = `row_number() OVER (PARTITION BY ${qualified('t', key.column)} ORDER BY t."id") AS "__rank"`;
  const inner = `SELECT ${select}, ${rank} FROM ${ident(resource.table)} AS t${whereClause(conditions)}`;
  const outer = [...columns, PARENT_KEY].map((c) => `s.${ident(c)}`).join(', ');
  const text = `SELECT ${outer} FROM (${inner}) AS s WHERE s."__rank" <= ${params.add(options.perParent)} ORDER BY s."id"`;
  return { text, values: params.values };
}

/** Targets of a manyToMany relation for many parents at once, each row tagged with its parent key. */
export function compileManyToManyFetch(
  target: Resource,
  relation: ManyToManyRelation,
  columns: readonly string[],
  parentIds: readonly unknown[],
  options: { perParent: number; scope?: RowScope },
): Statement {
  const params = new Params();
  const parent = qualified('j', relation.sourceColumn);
  const conditions = [`${parent} = ANY(${params.add(parentIds)})`, ...scoped(options.scope, target, 't', params)];
  const rank = `row_number() OVER (PARTITION BY ${parent} ORDER BY t."id") AS "__rank"`;
  const inner = `SELECT ${selectColumns(target, columns, 't')}, ${parent} AS ${ident(PARENT_KEY)}, ${rank} FROM ${ident(relation.joinTable)} AS j JOIN ${ident(target.table)} AS t ON t."id" = ${qualified('j', relation.targetColumn)}${whereClause(conditions)}`;
  const outer = [...columns, PARENT_KEY].map((c) => `s.${ident(c)}`).join(', ');
  return { text: `SELECT ${outer} FROM (${inner}) AS s WHERE s."__rank" <= ${params.add(options.perParent)} ORDER BY s."id"`, values: params.values };
}
