import type { Database } from '../db/database.js';
import type { Model } from '../model/ir.js';
import { columnType, createIndexes, createJoinTable, createTable, foreignKeys, INTERNAL_TABLES } from './ddl.js';
import { ident } from './fragments.js';

interface LiveColumn {
  table_name: string;
  column_name: string;
  data_type: string;
  is_nullable: 'YES' | 'NO';
  character_maximum_length: number | null;
}

export class SchemaMismatchError extends Error {
  constructor(readonly differences: readonly string[]) {
    super(
      `the database does not match the model:\n  - ${differences.join('\n  - ')}\n` +
        'Kiln will not start on a schema that disagrees with the model: change the model to match, ' +
        'or migrate the table (or drop it in development).',
    );
    this.name = 'SchemaMismatchError';
  }
}

/**
 * Creates the tables, constraints and indexes the model needs and that are missing, in one
 * transaction. Existing tables are compared with the model and never altered: a difference stops
 * start-up with the list of differences.
 */
export async function ensureSchema(db: Database, model: Model, schema: string): Promise<{ created: string[] }> {
  if (db.kind === 'postgres') await db.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
  const live = await db.query<LiveColumn>(
    `SELECT table_name, column_name, data_type, is_nullable, character_maximum_length
       FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
  );
  const tables = new Map<string, LiveColumn[]>();
  for (const col of live) tables.set(col.table_name, [...(tables.get(col.table_name) ?? []), col]);

  const differences = model.resources.flatMap((r) => {
    const columns = tables.get(r.table);
    return columns ? compareTable(r.table, r.fields, columns) : [];
  });
  if (differences.length > 0) throw new SchemaMismatchError(differences);

  const missing = model.resources.filter((r) => !tables.has(r.table));
  const statements = [
    ...missing.map(createTable),
    ...missing.flatMap((r) => foreignKeys(model, r)),
    ...model.resources.flatMap(createIndexes),
    ...model.joinTables.filter((jt) => !tables.has(jt.name)).flatMap((jt) => createJoinTable(model, jt)),
    ...Object.values(INTERNAL_TABLES),
  ];
  await db.transaction(async (tx) => {
    for (const statement of statements) await tx.query(statement);
  });
  return { created: [...missing.map((r) => r.table), ...model.joinTables.filter((jt) => !tables.has(jt.name)).map((jt) => jt.name)] };
}

function compareTable(table: string, fields: Model['resources'][number]['fields'], columns: LiveColumn[]): string[] {
  const out: string[] = [];
  const byName = new Map(columns.map((c) => [c.column_name, c]));
  for (const field of fields) {
    const col = byName.get(field.column);
    if (!col) {
      out.push(`table "${table}" has no column "${field.column}" (field "${field.name}")`);
      continue;
    }
    const expected = columnType(field);
    if (col.data_type !== expected.dataType) {
      out.push(`column "${table}.${field.column}" is ${col.data_type}, the model says ${expected.sql}`);
    } else if (field.type === 'string' && (field.maxLength ?? null) !== col.character_maximum_length) {
      out.push(`column "${table}.${field.column}" has length ${col.character_maximum_length ?? 'unlimited'}, the model says ${field.maxLength ?? 'unlimited'}`);
    }
    const nullable = col.is_nullable === 'YES';
    if (field.role !== 'id' && nullable !== field.nullable) {
      out.push(`column "${table}.${field.column}" is ${nullable ? 'nullable' : 'NOT NULL'}, the model says ${field.nullable ? 'nullable' : 'NOT NULL'}`);
    }
  }
  const known = new Set(fields.map((f) => f.column));
  for (const col of columns) {
    if (!known.has(col.column_name)) out.push(`table "${table}" has a column "${col.column_name}" the model does not declare`);
  }
  return out;
}
