/**
 * INSERT, UPDATE, DELETE and link writes. The caller's access rule enters through the same predicate
 * compiler as reads: UPDATE and DELETE only touch rows it allows, new and changed rows are checked
 * against it in RETURNING (like PostgreSQL's WITH CHECK), and link writes only reach target records
 * the caller can see.
 */
import type { ShownWhere } from '../access/field-access.js';
import { type Predicate, TRUE } from '../core/predicate.js';
import type { Row } from '../core/query.js';
import type { BelongsToRelation, ColumnField, ManyToManyRelation, Model, Resource } from '../model/ir.js';
import { ident, Params, qualified, type Statement } from './fragments.js';
import { PredicateCompiler } from './predicate.js';
import { selectList } from './select.js';

/** The name of the RETURNING column that holds whether a new or changed row meets the access rule. */
export const CHECK_COLUMN = '__check';

/**
 * What a write must check on the rows it produces, inside its transaction: the access rule itself,
 * and, per belongsTo whose target the caller may not see in full, that the key points at a visible row
 * (so a reference to a hidden record is refused exactly like one to a missing record).
 */
export interface RowChecks {
  readonly rule: Predicate;
  readonly references: readonly { readonly relation: BelongsToRelation; readonly target: Resource; readonly visible: Predicate }[];
}

export const NO_CHECKS: RowChecks = Object.freeze({ rule: TRUE, references: Object.freeze([]) });

export function referenceColumn(relation: string): string {
  return `__ref_${relation}`;
}

/** A parameter for `field`, cast where the driver would otherwise guess the wrong type. */
function placeholder(field: ColumnField, value: unknown, params: Params): string {
  // JSON goes as text: drivers turn JS arrays into PostgreSQL arrays, which jsonb would reject.
  if (field.type === 'json') return `${params.add(value === null ? null : JSON.stringify(value))}::jsonb`;
  return params.add(value);
}

function writtenFields(resource: Resource, rows: readonly Row[]): ColumnField[] {
  return resource.fields.filter((f) => rows.some((row) => row[f.name] !== undefined));
}

/** Parameters one row of an insert of `rows` takes: the written fields, so a chunk of rows stays under PostgreSQL's limit. */
export function parametersPerRow(resource: Resource, rows: readonly Row[]): number {
  return Math.max(1, writtenFields(resource, rows).length);
}

/** `RETURNING` list: the columns (those of `shown` only where the caller may read them), then the check columns when there is anything to check. */
function returning(model: Model, compiler: PredicateCompiler, resource: Resource, columns: readonly string[], checks: RowChecks, shown?: ShownWhere): string {
  let list = selectList(compiler, resource, columns, 't', shown);
  const rule = compiler.compile(resource, 't', checks.rule);
  if (rule) list += `, (${rule}) AS ${ident(CHECK_COLUMN)}`;
  for (const ref of checks.references) {
    const key = resource.fieldsByName.get(ref.relation.foreignKey);
    if (!key) throw new Error(`relation ${resource.name}.${ref.relation.name} has no key field`);
    const visible = new PredicateCompiler(model, compiler.params).compile(ref.target, 'r', ref.visible) ?? 'TRUE';
    const fk = qualified('t', key.column);
    list += `, (${fk} IS NULL OR EXISTS (SELECT 1 FROM ${ident(ref.target.table)} AS r WHERE r."id" = ${fk} AND ${visible})) AS ${ident(referenceColumn(ref.relation.name))}`;
  }
  return list;
}

/**
 * INSERT of one or many rows, returning `columns` (and the checks). Fields a row leaves out get the
 * column DEFAULT, so rows of a bulk insert need not carry the same keys.
 */
export function compileInsert(
  model: Model,
  resource: Resource,
  rows: readonly Row[],
  columns: readonly string[],
  checks: RowChecks = NO_CHECKS,
  shown?: ShownWhere,
): Statement {
  const compiler = new PredicateCompiler(model, new Params());
  const params = compiler.params;
  const fields = writtenFields(resource, rows);
  const table = `${ident(resource.table)} AS t`;
  if (fields.length === 0) {
    if (rows.length !== 1) throw new Error('multi-row insert of defaults only');
    return { text: `INSERT INTO ${table} DEFAULT VALUES RETURNING ${returning(model, compiler, resource, columns, checks, shown)}`, values: params.values };
  }
  const tuples = rows.map((row) => `(${fields.map((f) => (row[f.name] === undefined ? 'DEFAULT' : placeholder(f, row[f.name], params))).join(', ')})`);
  const text =
    `INSERT INTO ${table} (${fields.map((f) => ident(f.column)).join(', ')}) VALUES ${tuples.join(', ')}` +
    ` RETURNING ${returning(model, compiler, resource, columns, checks, shown)}`;
  return { text, values: params.values };
}

/**
 * UPDATE of one row by id, among the rows `scope` allows. With `resetMissing` (PUT), writable fields
 * absent from `changes` go back to their DEFAULT, so the stored record equals the request; fields in
 * `keep` (those the caller may not write) keep their value. `shown`: see returning.
 */
export function compileUpdate(
  model: Model,
  resource: Resource,
  id: unknown,
  changes: Row,
  columns: readonly string[],
  options: { resetMissing: boolean; scope: Predicate; checks: RowChecks; keep?: ReadonlySet<string>; shown?: ShownWhere },
): Statement {
  const compiler = new PredicateCompiler(model, new Params());
  const params = compiler.params;
  const assignments: string[] = [];
  for (const field of resource.fields) {
    if (field.role === 'updatedAt') {
      assignments.push(`${ident(field.column)} = now()`);
    } else if (changes[field.name] !== undefined) {
      assignments.push(`${ident(field.column)} = ${placeholder(field, changes[field.name], params)}`);
    } else if (options.resetMissing && !field.readOnly && field.role !== 'id' && field.role !== 'createdAt' && !options.keep?.has(field.name)) {
      assignments.push(`${ident(field.column)} = DEFAULT`);
    }
  }
  if (assignments.length === 0) assignments.push(`"id" = "id"`);
  const where = [`t."id" = ${params.add(id)}`];
  const rule = compiler.compile(resource, 't', options.scope);
  if (rule) where.push(rule);
  const text =
    `UPDATE ${ident(resource.table)} AS t SET ${assignments.join(', ')} WHERE ${where.join(' AND ')}` +
    ` RETURNING ${returning(model, compiler, resource, columns, options.checks, options.shown)}`;
  return { text, values: params.values };
}

/**
 * DELETE of one row by id, among the rows `scope` allows. `snapshot`: also return the row as it was,
 * every column as JSON text, for the subscribers of change events to check (src/events/snapshot.ts).
 */
export function compileDelete(model: Model, resource: Resource, id: unknown, scope: Predicate, snapshot = false): Statement {
  const compiler = new PredicateCompiler(model, new Params());
  const where = [`t."id" = ${compiler.params.add(id)}`];
  const rule = compiler.compile(resource, 't', scope);
  if (rule) where.push(rule);
  const text = `DELETE FROM ${ident(resource.table)} AS t WHERE ${where.join(' AND ')} RETURNING t."id"${snapshot ? ', to_jsonb(t)::text AS "snapshot"' : ''}`;
  return { text, values: compiler.params.values };
}

/** The id types of both sides of a link, for the casts of array parameters. */
export interface LinkTypes {
  readonly source: Resource['idType'];
  readonly target: Resource['idType'];
}

/**
 * Removes the links of one parent that are not in `keep`. Links to target records the caller cannot
 * see are left alone: a caller can only unlink what it can read.
 */
export function compileUnlinkOthers(
  model: Model,
  relation: ManyToManyRelation,
  target: Resource,
  types: LinkTypes,
  parentId: unknown,
  keep: readonly unknown[],
  visible: Predicate,
): Statement {
  const compiler = new PredicateCompiler(model, new Params());
  const where = [
    `${qualified('l', relation.sourceColumn)} = ${compiler.params.add(parentId)}`,
    `NOT (${qualified('l', relation.targetColumn)} = ANY(${compiler.params.add(keep)}::${types.target}[]))`,
  ];
  const rule = compiler.compile(target, 'r', visible);
  if (rule) where.push(`EXISTS (SELECT 1 FROM ${ident(target.table)} AS r WHERE r."id" = ${qualified('l', relation.targetColumn)} AND ${rule})`);
  return { text: `DELETE FROM ${ident(relation.joinTable)} AS l WHERE ${where.join(' AND ')}`, values: compiler.params.values };
}

/**
 * Adds links for many (parent, target) pairs in one statement, only to target records that exist and
 * that the caller can see, and returns the ids of those targets: a requested id missing from the
 * answer does not exist for this caller (the caller reports it as such, without saying which).
 */
export function compileLink(
  model: Model,
  relation: ManyToManyRelation,
  target: Resource,
  types: LinkTypes,
  pairs: { readonly parents: readonly unknown[]; readonly targets: readonly unknown[] },
  visible: Predicate,
): Statement {
  const compiler = new PredicateCompiler(model, new Params());
  const parents = compiler.params.add(pairs.parents);
  const targets = compiler.params.add(pairs.targets);
  const rule = compiler.compile(target, 'r', visible);
  const text =
    `WITH wanted AS (SELECT r."id" FROM ${ident(target.table)} AS r WHERE r."id" = ANY(${targets}::${types.target}[])${rule ? ` AND ${rule}` : ''}),` +
    ` added AS (INSERT INTO ${ident(relation.joinTable)} (${ident(relation.sourceColumn)}, ${ident(relation.targetColumn)})` +
    ` SELECT u.p, u.x FROM unnest(${parents}::${types.source}[], ${targets}::${types.target}[]) AS u(p, x) JOIN wanted AS w ON w."id" = u.x ON CONFLICT DO NOTHING)` +
    ` SELECT w."id"::text AS "id" FROM wanted AS w`;
  return { text, values: compiler.params.values };
}
