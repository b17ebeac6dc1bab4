/**
 * Keys, checks, indexes and foreign keys of a table in both snapshots. Each is matched by what it
 * does (its columns after renames, its values, its target), not by name: a match whose name changed
 * is renamed, which keeps the index instead of rebuilding it.
 */
import { type CheckShape, type ForeignKeyShape, type KeyShape, literal, renderAddForeignKey, renderCheck, renderIndex, renderUnique } from '../sql/ddl.js';
import { ident } from '../sql/fragments.js';
import { PHASES, type PlanBuilder, type TablePair } from './plan.js';

interface Matched<T> {
  readonly renamed: (readonly [T, T])[];
  readonly dropped: T[];
  readonly added: T[];
}

function match<T extends { readonly name: string }>(before: readonly T[], after: readonly T[], oldKey: (x: T) => string, newKey: (x: T) => string): Matched<T> {
  const left = [...before];
  const renamed: (readonly [T, T])[] = [];
  const added: T[] = [];
  for (const item of after) {
    const key = newKey(item);
    const candidates = left.filter((o) => oldKey(o) === key);
    const old = candidates.find((o) => o.name === item.name) ?? candidates[0];
    if (!old) {
      added.push(item);
      continue;
    }
    left.splice(left.indexOf(old), 1);
    if (old.name !== item.name) renamed.push([old, item]);
  }
  return { renamed, dropped: left, added };
}

export function diffConstraints(out: PlanBuilder, pair: TablePair, tableNames: ReadonlyMap<string, string>): void {
  const { before, after } = pair;
  const oldTable = ident(before.name);
  const table = ident(after.name);
  /** An old column under its new name; a dropped column matches nothing. */
  const col = (name: string) => pair.columns.get(name) ?? `\u0000${name}`;
  const keyOf = (k: KeyShape) => k.columns.join(',');
  const oldKeyOf = (k: KeyShape) => k.columns.map(col).join(',');
  const renameConstraint = (kind: string, a: { name: string }, b: { name: string }) =>
    out.add(PHASES.renames, {
      summary: `rename ${kind} ${a.name} → ${b.name}`,
      sql: [`ALTER TABLE ${table} RENAME CONSTRAINT ${ident(a.name)} TO ${ident(b.name)}`],
    });

  const pk = match([before.primaryKey], [after.primaryKey], oldKeyOf, keyOf);
  for (const [a, b] of pk.renamed) renameConstraint('primary key', a, b);
  for (const k of pk.dropped)
    out.add(PHASES.dropConstraints, { summary: `drop primary key ${k.name}`, sql: [`ALTER TABLE ${oldTable} DROP CONSTRAINT ${ident(k.name)}`] });
  for (const k of pk.added) {
    out.add(PHASES.addConstraints, {
      summary: `add primary key ${k.name}`,
      sql: [`ALTER TABLE ${table} ADD CONSTRAINT ${ident(k.name)} PRIMARY KEY (${k.columns.map(ident).join(', ')})`],
    });
  }

  const uniques = match(before.uniques, after.uniques, oldKeyOf, keyOf);
  for (const [a, b] of uniques.renamed) renameConstraint('unique constraint', a, b);
  for (const k of uniques.dropped) {
    out.add(PHASES.dropConstraints, { summary: `drop unique constraint ${k.name}`, sql: [`ALTER TABLE ${oldTable} DROP CONSTRAINT ${ident(k.name)}`] });
  }
  for (const k of uniques.added) {
    out.add(PHASES.addConstraints, {
      summary: `add unique constraint ${k.name} (${k.columns.join(', ')})`,
      sql: [`ALTER TABLE ${table} ADD ${renderUnique(k)}`],
      notes: ['Fails, and changes nothing, if existing rows repeat a value.'],
    });
  }

  const indexes = match(before.indexes, after.indexes, oldKeyOf, keyOf);
  for (const [a, b] of indexes.renamed) {
    out.add(PHASES.renames, { summary: `rename index ${a.name} → ${b.name}`, sql: [`ALTER INDEX ${ident(a.name)} RENAME TO ${ident(b.name)}`] });
  }
  for (const k of indexes.dropped) out.add(PHASES.dropConstraints, { summary: `drop index ${k.name}`, sql: [`DROP INDEX ${ident(k.name)}`] });
  for (const k of indexes.added)
    out.add(PHASES.addConstraints, { summary: `add index ${k.name} (${k.columns.join(', ')})`, sql: [renderIndex(after.name, k)] });

  diffForeignKeys(out, pair, tableNames, col);
  diffChecks(out, pair, col);
}

function diffForeignKeys(out: PlanBuilder, pair: TablePair, tableNames: ReadonlyMap<string, string>, col: (c: string) => string): void {
  const { before, after } = pair;
  const oldKey = (fk: ForeignKeyShape) => `${col(fk.column)}>${tableNames.get(fk.references) ?? fk.references}>${fk.onDelete}`;
  const newKey = (fk: ForeignKeyShape) => `${fk.column}>${fk.references}>${fk.onDelete}`;
  const fks = match(before.foreignKeys, after.foreignKeys, oldKey, newKey);
  for (const [a, b] of fks.renamed) {
    out.add(PHASES.renames, {
      summary: `rename foreign key ${a.name} → ${b.name}`,
      sql: [`ALTER TABLE ${ident(after.name)} RENAME CONSTRAINT ${ident(a.name)} TO ${ident(b.name)}`],
    });
  }
  const fieldOf = (column: string) => `${pair.label}.${after.columns.find((c) => c.name === column)?.field ?? column}`;
  for (const fk of fks.dropped) {
    const replaced = fks.added.find((n) => n.column === col(fk.column));
    out.add(PHASES.dropForeignKeys, {
      summary: replaced ? `drop foreign key ${fk.name} (it changes, added again below)` : `drop foreign key ${fk.name} → ${fk.references}`,
      sql: [`ALTER TABLE ${ident(before.name)} DROP CONSTRAINT ${ident(fk.name)}`],
    });
  }
  for (const fk of fks.added) {
    const replaced = fks.dropped.find((o) => col(o.column) === fk.column);
    const change =
      replaced && replaced.onDelete !== fk.onDelete
        ? `change onDelete of ${fieldOf(fk.column)}: ${replaced.onDelete} → ${fk.onDelete}`
        : `add foreign key ${fk.name} → ${fk.references} (on delete ${fk.onDelete})`;
    out.add(PHASES.addForeignKeys, { summary: change, sql: [renderAddForeignKey(after.name, fk)] });
  }
}

/** Enum fields: a changed value list drops the old CHECK, moves renamed values, and adds the new CHECK. */
function diffChecks(out: PlanBuilder, pair: TablePair, col: (c: string) => string): void {
  const { before, after } = pair;
  const key = (c: CheckShape) => `${c.column}:${c.values.join('\u0000')}`;
  const checks = match(before.checks, after.checks, (c) => key({ ...c, column: col(c.column) }), key);
  const table = ident(after.name);
  const fieldOf = (column: string) => `${pair.label}.${after.columns.find((c) => c.name === column)?.field ?? column}`;
  for (const [a, b] of checks.renamed) {
    out.add(PHASES.renames, {
      summary: `rename check ${a.name} → ${b.name}`,
      sql: [`ALTER TABLE ${table} RENAME CONSTRAINT ${ident(a.name)} TO ${ident(b.name)}`],
    });
  }
  for (const c of checks.dropped) {
    const still = checks.added.some((n) => n.column === col(c.column));
    out.add(PHASES.dropConstraints, {
      summary: still ? `drop check ${c.name} (enum values change, added again below)` : `drop check ${c.name} (${fieldOf(col(c.column))} is no longer an enum)`,
      sql: [`ALTER TABLE ${ident(before.name)} DROP CONSTRAINT ${ident(c.name)}`],
    });
  }
  for (const c of checks.added) {
    const where = fieldOf(c.column);
    const old = checks.dropped.find((o) => col(o.column) === c.column);
    const isNewColumn = ![...pair.columns.values()].includes(c.column);
    const renames = out.options.renames.values.get(where) ?? new Map<string, string>();
    for (const [to, from] of renames) {
      out.add(PHASES.columns, {
        summary: `rename enum value ${where} "${from}" → "${to}"`,
        sql: [`UPDATE ${table} SET ${ident(c.column)} = ${literal(to)} WHERE ${ident(c.column)} = ${literal(from)}`],
      });
    }
    const renamedFrom = new Set(renames.values());
    const removed = old ? old.values.filter((v) => !c.values.includes(v) && !renamedFrom.has(v)) : [];
    const addedValues = old ? c.values.filter((v) => !old.values.includes(v) && !renames.has(v)) : [];
    const parts = [...addedValues.map((v) => `+ "${v}"`), ...removed.map((v) => `- "${v}"`), ...[...renames].map(([to, from]) => `"${from}" → "${to}"`)];
    const summary = old
      ? `enum ${where}: ${parts.length > 0 ? parts.join(', ') : 'values reordered'}`
      : `${where} becomes an enum of ${c.values.map((v) => `"${v}"`).join(', ')}`;
    let destructive: string | undefined;
    if (removed.length > 0) {
      destructive = `removes enum values ${removed.map((v) => `"${v}"`).join(', ')} from ${where}: rows holding them make the migration fail`;
    } else if (!old && !isNewColumn) {
      destructive = `narrows ${where} to enum values: rows holding other values make the migration fail`;
    }
    out.add(PHASES.addConstraints, {
      summary,
      sql: [`ALTER TABLE ${table} ADD ${renderCheck(c)}`],
      ...(destructive ? { destructive } : {}),
      ...(removed.length > 0
        ? {
            notes: removed.map(
              (v) => `To keep such rows, move them first: UPDATE ${table} SET ${ident(c.column)} = <another value> WHERE ${ident(c.column)} = ${literal(v)};`,
            ),
          }
        : {}),
    });
  }
}
