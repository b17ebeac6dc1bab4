/**
 * Errors of writes that need the write's own rows to explain: records of one bulk request that collide
 * with each other, constraint errors pinned to the bulk item that caused them, and rows that fail the
 * access rule they were checked against.
 */
import type { Resource } from '../model/ir.js';
import { CHECK_COLUMN, type RowChecks, referenceColumn } from '../sql/write.js';
import type { CompiledResource } from './compiled-model.js';
import { type FieldError, KilnError } from './errors.js';
import type { Row } from './query.js';

/**
 * Records of one request that have the same value under a unique constraint, found before any SQL:
 * PostgreSQL would only say that some value is taken, not that two items of the request collide.
 */
export function itemConflicts(resource: Resource, rows: readonly Row[]): KilnError | undefined {
  if (rows.length < 2) return undefined;
  const errors: FieldError[] = [];
  const pairs: string[] = [];
  for (const unique of resource.uniques) {
    const seen = new Map<string, number>();
    rows.forEach((row, i) => {
      const values = unique.fields.map((f) => row[f]);
      // A left-out value takes the default and NULLs never collide: PostgreSQL judges those.
      if (values.some((v) => v === undefined || v === null)) return;
      const key = JSON.stringify(values.map(String));
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, i);
        return;
      }
      pairs.push(`items ${first} and ${i} have the same ${unique.fields.join(', ')}`);
      for (const index of [first, i]) {
        for (const field of unique.fields) {
          const path = `/${index}/${field}`;
          if (!errors.some((e) => e.path === path))
            errors.push({ path, code: 'unique', message: `must be unique; another item of this request has the same value` });
        }
      }
    });
  }
  if (errors.length === 0) return undefined;
  return new KilnError('KILN_UNIQUE_VIOLATION', { detail: `${pairs.join('; ')}: each must be unique`, errors });
}

/**
 * A unique or foreign-key error of a bulk insert, pinned to the item that caused it: PostgreSQL's
 * detail names the columns and the value (`Key (name)=(x) already exists.`); the item whose values
 * read the same is the one. The detail itself never reaches the client.
 */
export function withItemPaths(mapped: unknown, raw: unknown, resource: Resource, rows: readonly Row[]): unknown {
  if (rows.length < 2 || !(mapped instanceof KilnError)) return mapped;
  if (mapped.code !== 'KILN_UNIQUE_VIOLATION' && mapped.code !== 'KILN_REFERENCE_NOT_FOUND') return mapped;
  const detail = (raw as { detail?: unknown })?.detail;
  const match = typeof detail === 'string' ? /^Key \((.+?)\)=\((.*)\) (?:already exists|is not present in table)/s.exec(detail) : null;
  if (!match) return mapped;
  const columns = (match[1] ?? '').split(', ');
  const fields = columns.map((c) => resource.fields.find((f) => f.column === c)?.name);
  if (fields.some((f) => f === undefined)) return mapped;
  const items = rows.flatMap((row, i) => ((fields as string[]).map((f) => textOf(row[f])).join(', ') === match[2] ? [i] : []));
  if (items.length === 0) return mapped;
  const errors = items.flatMap((i) => (mapped.errors ?? []).map((e) => ({ ...e, path: `/${i}${e.path}` })));
  return new KilnError(mapped.code, { detail: `item ${items.join(', ')}: ${mapped.detail}`, errors, headers: mapped.headers });
}

/** How PostgreSQL writes a value in a constraint error's detail. */
function textOf(value: unknown): string {
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return String(value);
}

/**
 * Rows a create or update produced that do not meet the caller's access rule (the write is refused
 * and its transaction rolled back), or whose belongsTo key points at a record the caller cannot see
 * (refused exactly as a missing record is). Removes the check columns from the rows.
 */
export function reportCheckFailures(r: CompiledResource, rows: Row[], checks: RowChecks, action: 'create' | 'update', bulk: boolean): void {
  const ruled = checks.rule.kind !== 'true';
  if (!ruled && checks.references.length === 0) return;
  // Said exactly as the database says a missing record (database-errors.ts): one relation, the first
  // that fails, so a key to a hidden record cannot be told from a key to no record.
  let hidden: RowChecks['references'][number] | undefined;
  const items: number[] = [];
  let forbidden = -1;
  rows.forEach((row, i) => {
    if (ruled) {
      if (row[CHECK_COLUMN] === false && forbidden < 0) forbidden = i;
      delete row[CHECK_COLUMN];
    }
    for (const ref of checks.references) {
      const column = referenceColumn(ref.relation.name);
      if (row[column] === false) {
        hidden ??= ref;
        if (ref === hidden) items.push(i);
      }
      delete row[column];
    }
  });
  if (hidden) {
    const { relation, target } = hidden;
    const errors: FieldError[] = items.map((i) => ({
      path: `${bulk ? `/${i}` : ''}/${relation.foreignKey}`,
      code: 'reference',
      message: `no such ${target.singular}`,
    }));
    const detail = `${bulk ? `item ${items.join(', ')}: ` : ''}relation "${relation.name}" points at a record that does not exist`;
    throw new KilnError('KILN_REFERENCE_NOT_FOUND', { detail, errors });
  }
  if (forbidden >= 0) {
    const which = bulk ? `item ${forbidden}: ` : '';
    const detail =
      action === 'create'
        ? `${which}you may not create this ${r.resource.name} record: it does not meet your access rule`
        : `you may not make this change: the ${r.resource.name} record would no longer meet your access rule`;
    throw new KilnError('KILN_FORBIDDEN', { detail });
  }
}
