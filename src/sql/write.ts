import type { Row } from '../core/query.js';
import type { ColumnField, ManyToManyRelation, Resource } from '../model/ir.js';
import { ident, Params, type Statement } from './fragments.js';
import { selectColumns } from './select.js';

/** A parameter for `field`, cast where the driver would otherwise guess the wrong type. */
function placeholder(field: ColumnField, value: unknown, params: Params): string {
  // JSON goes as text: drivers turn JS arrays into PostgreSQL arrays, which jsonb would reject.
  if (field.type === 'json') return `${params.add(value === null ? null : JSON.stringify(value))}::jsonb`;
  return params.add(value);
}

function writtenFields(resource: Resource, rows: readonly Row[]): ColumnField[] {
  return resource.fields.filter((f) => rows.some((row) => row[f.name] !== undefined));
}

/**
 * INSERT of one or many rows, returning `columns`. Fields a row leaves out get the column DEFAULT, so
 * rows of a bulk insert need not carry the same keys.
 */
export function compileInsert(resource: Resource, rows: readonly Row[], columns: readonly string[]): Statement {
  const params = new Params();
  const fields = writtenFields(resource, rows);
  const table = ident(resource.table);
  const returning = selectColumns(resource, columns, table);
  if (fields.length === 0) {
    if (rows.length !== 1) throw new Error('multi-row insert of defaults only');
    return { text: `INSERT INTO ${table} DEFAULT VALUES RETURNING ${returning}`, values: [] };
  }
  const tuples = rows.map((row) => `(${fields.map((f) => (row[f.name] === undefined ? 'DEFAULT' : placeholder(f, row[f.name], params))).join(', ')})`);
  const text = `INSERT INTO ${table} (${fields.map((f) => ident(f.column)).join(', ')}) VALUES ${tuples.join(', ')} RETURNING ${returning}`;
  return { text, values: params.values };
}

/**
 * UPDATE of one row by id. With `resetMissing` (PUT), writable fields absent from `changes` go back
 * to their DEFAULT, so the stored record equals the request.
 */
export function compileUpdate(resource: Resource, id: unknown, changes: Row, columns: readonly string[], options: { resetMissing: boolean }): Statement {
  const params = new Params();
  const assignments: string[] = [];
  for (const field of resource.fields) {
    if (field.role === 'updatedAt') {
      assignments.push(`${ident(field.column)} = now()`);
    } else if (changes[field.name] !== undefined) {
      assignments.push(`${ident(field.column)} = ${placeholder(field, changes[field.name], params)}`);
    } else if (options.resetMissing && !field.readOnly && field.role !== 'id' && field.role !== 'createdAt') {
      assignments.push(`${ident(field.column)} = DEFAULT`);
    }
  }
  const table = ident(resource.table);
  if (assignments.length === 0) assignments.push(`"id" = "id"`);
  const text = `UPDATE ${table} SET ${assignments.join(', ')} WHERE "id" = ${params.add(id)} RETURNING ${selectColumns(resource, columns, table)}`;
  return { text, values: params.values };
}

export function compileDelete(resource: Resource, id: unknown): Statement {
  return { text: `DELETE FROM ${ident(resource.table)} WHERE "id" = $1 RETURNING "id"`, values: [id] };
}

/** Replaces the links of one parent in a join table: delete those not wanted, add the missing. */
export function compileSetLinks(
  relation: ManyToManyRelation,
  types: { source: Resource['idType']; target: Resource['idType'] },
  parentId: unknown,
  targetIds: readonly unknown[],
): Statement[] {
  const table = ident(relation.joinTable);
  const source = ident(relation.sourceColumn);
  const target = ident(relation.targetColumn);
  return [
    { text: `DELETE FROM ${table} WHERE ${source} = $1 AND NOT (${target} = ANY($2))`, values: [parentId, targetIds] },
    {
      text: `INSERT INTO ${table} (${source}, ${target}) SELECT $1::${types.source}, u FROM unnest($2::${types.target}[]) AS u ON CONFLICT DO NOTHING`,
      values: [parentId, targetIds],
    },
  ];
}
