/**
 * SELECT statements of the read operations. The caller's access rule (`scope`) and filters arrive as
 * predicates and are compiled into the same statement by src/sql/predicate.ts; nothing here writes a
 * condition of its own beyond keys and keyset positions.
 */
import type { ShownWhere } from '../access/field-access.js';
import type { Predicate } from '../core/predicate.js';
import type { IncludeNode, ListQuery } from '../core/query.js';
import type { BelongsToRelation, Model, Resource } from '../model/ir.js';
import { ident, Params, qualified, type Statement } from './fragments.js';
import { compileKeyset, compileOrderBy } from './keyset.js';
import { PredicateCompiler, type ScopeOf } from './predicate.js';

/** Alias used for the parent key in include queries; not a valid field name, so it cannot clash. */
export const PARENT_KEY = '__parent';

/**
 * A belongsTo relation read in the parent's own statement: LEFT JOINed on its key (the target's access
 * rule goes into the ON clause, so a hidden target reads as null), its columns aliased `relation.field`.
 */
export interface Join {
  readonly relation: BelongsToRelation;
  readonly target: Resource;
  readonly columns: readonly string[];
}

/** Access rules of one statement: the main resource's rows, and the resolver for related resources. */
export interface Access {
  readonly rows: Predicate;
  readonly scopeOf: ScopeOf;
  /** Fields of a resource the caller reads on some rows only (field read rules); absent when there are none anywhere. */
  readonly shownOf?: (resource: Resource) => ShownWhere | undefined;
}

/**
 * The alias of the flag column that says whether a conditionally shown field holds on a row; `:`
 * cannot appear in a field name, so it cannot clash.
 */
export function shownColumn(field: string): string {
  return `__shown:${field}`;
}

/** The alias of a joined column; a dot cannot appear in a field name, so it cannot clash. */
export function joinedColumn(relation: string, field: string): string {
  return `${relation}.${field}`;
}

/**
 * The select list of `columns` under `alias`. A field of `shown` is selected only where its condition
 * holds (NULL elsewhere), followed by a flag column saying whether it holds, so the value of a row
 * that may not show it never leaves the database and the row can tell absent from null
 * (src/access/field-visibility.ts). `as` names each output column.
 */
export function selectList(
  compiler: PredicateCompiler,
  resource: Resource,
  columns: readonly string[],
  alias: string,
  shown: ShownWhere | undefined,
  as: (name: string) => string = sameName,
): string {
  if (!shown || !columns.some((name) => shown.has(name))) return selectColumns(resource, columns, alias, as);
  const items: string[] = [];
  for (const name of columns) {
    const field = resource.fieldsByName.get(name);
    if (!field) throw new Error(`unknown field ${resource.name}.${name}`);
    const column = qualified(alias, field.column);
    const condition = shown.get(name);
    if (!condition) {
      items.push(`${column} AS ${ident(as(name))}`);
      continue;
    }
    // The condition is the caller's rule, compiled like every rule (trusted); its parameters are bound once, used twice.
    const holds = compiler.trusted().compile(resource, alias, condition) ?? 'TRUE';
    items.push(`CASE WHEN ${holds} THEN ${column} END AS ${ident(as(name))}`, `(${holds}) IS TRUE AS ${ident(as(shownColumn(name)))}`);
  }
  return items.join(', ');
}

/** The output names of `selectList`'s columns: each field, and after a shown one, its flag. */
function outputNames(columns: readonly string[], shown: ShownWhere | undefined): readonly string[] {
  if (!shown) return columns;
  return columns.flatMap((name) => (shown.has(name) ? [name, shownColumn(name)] : [name]));
}

const sameName = (name: string) => name;

export function selectColumns(resource: Resource, fieldNames: readonly string[], alias: string, as: (name: string) => string = sameName): string {
  return fieldNames
    .map((name) => {
      const field = resource.fieldsByName.get(name);
      if (!field) throw new Error(`unknown field ${resource.name}.${name}`);
      return `${qualified(alias, field.column)} AS ${ident(as(field.name))}`;
    })
    .join(', ');
}

/** The conditions of the main table `t`: the access rule (trusted), then the caller's own predicate (scoped). */
function conditions(compiler: PredicateCompiler, resource: Resource, access: Access, where?: Predicate): string[] {
  const out: string[] = [];
  if (access.rows.kind !== 'true') out.push(compiler.trusted().compile(resource, 't', access.rows) as string);
  const own = where ? compiler.compile(resource, 't', where) : undefined;
  if (own) out.push(own);
  return out;
}

function whereClause(items: readonly string[]): string {
  return items.length > 0 ? ` WHERE ${items.join(' AND ')}` : '';
}

/** The extra select list and FROM clause of `joins`, with the main table aliased `t`. */
function compileJoins(compiler: PredicateCompiler, resource: Resource, joins: readonly Join[], access: Access): { select: string; from: string } {
  let select = '';
  let from = '';
  joins.forEach((join, i) => {
    const alias = `j${i}`;
    const key = resource.fieldsByName.get(join.relation.foreignKey);
    if (!key) throw new Error(`relation ${resource.name}.${join.relation.name} has no key field`);
    const scope = access.scopeOf(join.target);
    const rule = scope ? compiler.trusted().compile(join.target, alias, scope) : undefined;
    const on = [`${alias}."id" = ${qualified('t', key.column)}`, ...(rule ? [rule] : [])];
    from += ` LEFT JOIN ${ident(join.target.table)} AS ${alias} ON ${on.join(' AND ')}`;
    const shown = access.shownOf?.(join.target);
    select += `, ${selectList(compiler, join.target, join.columns, alias, shown, (name) => joinedColumn(join.relation.name, name))}`;
  });
  return { select, from };
}

/** One page: fetches `limit + 1` rows so the caller knows whether another page follows. */
/**
 * The columns a read returns with their select list under alias `t` (compiled once per resource for
 * its readable fields, see CompiledResource.readableSelect).
 */
export interface Projection {
  readonly columns: readonly string[];
  readonly list: string;
}

export function projection(resource: Resource, columns: readonly string[]): Projection {
  return { columns, list: selectColumns(resource, columns, 't') };
}

/** The select list of the main table `t`: the projection compiled once, unless a field of it is shown on some rows only. */
function ownList(compiler: PredicateCompiler, resource: Resource, select: Projection, access: Access): string {
  const shown = access.shownOf?.(resource);
  return shown ? selectList(compiler, resource, select.columns, 't', shown) : select.list;
}

/** `after`: the sort values of the row the page starts after (a decoded or resolved cursor). */
export function compileList(
  model: Model,
  resource: Resource,
  query: ListQuery,
  select: Projection,
  access: Access,
  joins: readonly Join[],
  after?: readonly unknown[],
): Statement {
  const compiler = new PredicateCompiler(model, new Params(), access.scopeOf);
  const where = conditions(compiler, resource, access, query.where);
  if (after) where.push(compileKeyset(query.sort, after, compiler.params));
  const joined = compileJoins(compiler, resource, joins, access);
  const limit = compiler.params.add(query.limit + 1);
  const text =
    `SELECT ${ownList(compiler, resource, select, access)}${joined.select} FROM ${ident(resource.table)} AS t${joined.from}` +
    `${whereClause(where)} ORDER BY ${compileOrderBy(query.sort, 't')} LIMIT ${limit}`;
  return { text, values: compiler.params.values };
}

export function compileCount(model: Model, resource: Resource, where: Predicate, access: Access): Statement {
  const compiler = new PredicateCompiler(model, new Params(), access.scopeOf);
  const text = `SELECT count(*)::int8 AS "total" FROM ${ident(resource.table)} AS t${whereClause(conditions(compiler, resource, access, where))}`;
  return { text, values: compiler.params.values };
}

/** One record by id under the access rule; with `lock`, FOR UPDATE of that record only (joined rows are not locked). */
export function compileFindById(
  model: Model,
  resource: Resource,
  select: Projection,
  id: unknown,
  access: Access,
  options: { lock?: boolean; joins?: readonly Join[] } = {},
): Statement {
  const compiler = new PredicateCompiler(model, new Params(), access.scopeOf);
  const where = [`t."id" = ${compiler.params.add(id)}`, ...conditions(compiler, resource, access)];
  const joined = compileJoins(compiler, resource, options.joins ?? [], access);
  const lock = options.lock ? (joined.from ? ' FOR UPDATE OF t' : ' FOR UPDATE') : '';
  const text = `SELECT ${ownList(compiler, resource, select, access)}${joined.select} FROM ${ident(resource.table)} AS t${joined.from}${whereClause(where)}${lock}`;
  return { text, values: compiler.params.values };
}

/**
 * The rows an include node adds under many parents at once, each tagged with its parent's key: one
 * statement for a whole level, whatever the number of parents. To-many relations fetch `limit + 1`
 * rows per parent in the node's order, so the caller can tell a parent whose list was cut.
 */
export function compileIncludeFetch(model: Model, node: IncludeNode, columns: readonly string[], parentKeys: readonly unknown[], access: Access): Statement {
  const compiler = new PredicateCompiler(model, new Params(), access.scopeOf);
  const target = node.target;
  const rule = access.rows.kind === 'true' ? undefined : compiler.trusted().compile(target, 't', access.rows);
  const shown = access.shownOf?.(target);
  const list = selectList(compiler, target, columns, 't', shown);
  const relation = node.relation;
  if (relation.kind === 'belongsTo') {
    const where = [`t."id" = ANY(${compiler.params.add(parentKeys)})`, ...(rule ? [rule] : [])];
    return { text: `SELECT ${list} FROM ${ident(target.table)} AS t${whereClause(where)}`, values: compiler.params.values };
  }
  let from: string;
  let parent: string;
  if (relation.kind === 'hasMany') {
    const key = target.fieldsByName.get(relation.foreignKey);
    if (!key) throw new Error(`relation ${relation.name} has no key field`);
    parent = qualified('t', key.column);
    from = `${ident(target.table)} AS t`;
  } else {
    parent = qualified('l', relation.sourceColumn);
    from = `${ident(relation.joinTable)} AS l JOIN ${ident(target.table)} AS t ON t."id" = ${qualified('l', relation.targetColumn)}`;
  }
  const where = [`${parent} = ANY(${compiler.params.add(parentKeys)})`, ...(rule ? [rule] : [])];
  // The node's own filters are the caller's: relations they go through are scoped like any filter.
  const own = compiler.compile(target, 't', node.where);
  if (own) where.push(own);
  const rank = `row_number() OVER (PARTITION BY ${parent} ORDER BY ${compileOrderBy(node.sort, 't')}) AS "__rank"`;
  const inner = `SELECT ${list}, ${parent} AS ${ident(PARENT_KEY)}, ${rank} FROM ${from}${whereClause(where)}`;
  const outer = [...outputNames(columns, shown), PARENT_KEY].map((c) => `s.${ident(c)}`).join(', ');
  const text = `SELECT ${outer} FROM (${inner}) AS s WHERE s."__rank" <= ${compiler.params.add(node.limit + 1)} ORDER BY s."__rank"`;
  return { text, values: compiler.params.values };
}
