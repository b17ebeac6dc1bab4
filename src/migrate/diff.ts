/**
 * The difference between two snapshots as ordered, reviewable steps. Statements come in phases so
 * each one finds what it needs: drop what goes away (foreign keys first), rename, create tables,
 * add and alter columns, then add constraints, foreign keys and join tables.
 */
import type { ColumnShape, TableShape } from '../sql/ddl.js';
import { renderAddForeignKey, renderCreateTable, renderIndex } from '../sql/ddl.js';
import { ident } from '../sql/fragments.js';
import { diffColumns } from './diff-columns.js';
import { diffConstraints } from './diff-constraints.js';
import { type DiffOptions, PHASES, type Plan, PlanBuilder, type TablePair } from './plan.js';
import type { RenameDecisions } from './renames.js';
import type { Snapshot } from './snapshot.js';

export function diffSnapshots(before: Snapshot, after: Snapshot, options: DiffOptions): Plan {
  const out = new PlanBuilder(options);
  const pairs = pairTables(before, after, options.renames);
  const pairedBefore = new Set(pairs.map((p) => p.before.name));
  const pairedAfter = new Set(pairs.map((p) => p.after.name));
  const dropped = before.tables.filter((t) => !pairedBefore.has(t.name));
  const created = after.tables.filter((t) => !pairedAfter.has(t.name));
  /** Old table name → new, for references from foreign keys. */
  const tableNames = new Map(pairs.map((p) => [p.before.name, p.after.name]));

  for (const t of dropped) dropTable(out, t, new Set(dropped.map((d) => d.name)));
  for (const pair of pairs) {
    if (pair.before.name !== pair.after.name) {
      out.add(PHASES.renames, {
        summary: `rename ${pair.after.resource ? `resource ${pair.before.resource} → ${pair.after.resource}` : 'join table'}: table ${pair.before.name} → ${pair.after.name}`,
        sql: [`ALTER TABLE ${ident(pair.before.name)} RENAME TO ${ident(pair.after.name)}`],
      });
    }
    renameSequences(out, pair);
    diffColumns(out, pair);
    diffConstraints(out, pair, tableNames);
  }
  for (const t of created) createTable(out, t);
  return out.plan();
}

/**
 * PostgreSQL names an identity column's sequence after its table and column when it creates it, and
 * leaves it alone when either is renamed. Renaming it too keeps the database what a fresh one with
 * the new names would be (`verify` compares sequence names), and frees the old name for a new table.
 */
function renameSequences(out: PlanBuilder, pair: TablePair): void {
  for (const [oldName, newName] of pair.columns) {
    const old = pair.before.columns.find((c) => c.name === oldName);
    const neu = pair.after.columns.find((c) => c.name === newName);
    if (!old?.identity || !neu?.identity) continue;
    const from = identitySequenceName(pair.before.name, oldName);
    const to = identitySequenceName(pair.after.name, newName);
    if (from === to) continue;
    out.add(PHASES.renames, { summary: `rename identity sequence ${from} → ${to}`, sql: [`ALTER SEQUENCE ${ident(from)} RENAME TO ${ident(to)}`] });
  }
}

/**
 * The name PostgreSQL gives an identity column's sequence: `<table>_<column>_seq`, the longer of
 * table and column shortened first until it fits in 63 bytes (makeObjectName in its source). Table
 * and column names are ASCII here, so characters are bytes.
 */
export function identitySequenceName(table: string, column: string): string {
  const available = 63 - '_'.length - '_seq'.length;
  let t = table.length;
  let c = column.length;
  while (t + c > available) {
    if (t > c) t--;
    else c--;
  }
  return `${table.slice(0, t)}_${column.slice(0, c)}_seq`;
}

function dropTable(out: PlanBuilder, table: TableShape, droppedNames: ReadonlySet<string>): void {
  // A foreign key between two tables that both go would stop the first DROP TABLE.
  for (const fk of table.foreignKeys) {
    if (table.links || !droppedNames.has(fk.references) || fk.references === table.name) continue;
    out.add(PHASES.dropForeignKeys, {
      summary: `drop foreign key ${fk.name} (its table ${table.name} is dropped)`,
      sql: [`ALTER TABLE ${ident(table.name)} DROP CONSTRAINT ${ident(fk.name)}`],
    });
  }
  out.add(table.links ? PHASES.dropJoinTables : PHASES.dropTables, {
    summary: table.resource
      ? `drop resource ${table.resource} (table ${table.name})`
      : `drop join table ${table.name} (manyToMany ${table.links?.join(' ↔ ')})`,
    sql: [`DROP TABLE ${ident(table.name)}`],
    destructive: table.resource
      ? `drops table ${table.name} and every row in it`
      : `drops table ${table.name} and every link between ${table.links?.join(' and ')}`,
  });
}

function createTable(out: PlanBuilder, table: TableShape): void {
  if (table.links) {
    out.add(PHASES.createJoinTables, {
      summary: `create join table ${table.name} (manyToMany ${table.links.join(' ↔ ')})`,
      sql: [renderCreateTable(table), ...table.indexes.map((ix) => renderIndex(table.name, ix))],
    });
    return;
  }
  out.add(PHASES.createTables, { summary: `create resource ${table.resource} (table ${table.name})`, sql: [renderCreateTable({ ...table, foreignKeys: [] })] });
  for (const ix of table.indexes) out.add(PHASES.addConstraints, { summary: `add index ${ix.name}`, sql: [renderIndex(table.name, ix)] });
  for (const fk of table.foreignKeys) {
    out.add(PHASES.addForeignKeys, { summary: `add foreign key ${fk.name} → ${fk.references}`, sql: [renderAddForeignKey(table.name, fk)] });
  }
}

/** Pairs each new table with its old self: by resource name (through renames), join tables by name or by the resources they link. */
function pairTables(before: Snapshot, after: Snapshot, renames: RenameDecisions): TablePair[] {
  const pairs: TablePair[] = [];
  const used = new Set<string>();
  const oldResourceOf = (resource: string) => renames.resources.get(resource) ?? resource;
  for (const table of after.tables) {
    let old: TableShape | undefined;
    if (table.resource !== undefined) {
      const name = oldResourceOf(table.resource);
      old = before.tables.find((t) => t.resource === name);
    } else {
      const links = (table.links ?? []).map(oldResourceOf).sort().join(',');
      const sameLinks = before.tables.filter((t) => t.links && !after.tables.some((a) => a.name === t.name) && [...t.links].sort().join(',') === links);
      old = before.tables.find((t) => t.links && t.name === table.name) ?? (sameLinks.length === 1 ? sameLinks[0] : undefined);
    }
    if (!old || used.has(old.name)) continue;
    used.add(old.name);
    pairs.push({ before: old, after: table, label: table.resource ?? table.name, columns: pairColumns(old, table, renames, oldResourceOf) });
  }
  return pairs;
}

function pairColumns(before: TableShape, after: TableShape, renames: RenameDecisions, oldResourceOf: (r: string) => string): Map<string, string> {
  const out = new Map<string, string>();
  for (const column of after.columns) {
    const oldField = after.resource !== undefined ? (renames.fields.get(`${after.resource}.${column.field}`) ?? column.field) : oldResourceOf(column.field);
    const old: ColumnShape | undefined = before.columns.find((c) => c.field === oldField);
    if (old) out.set(old.name, column.name);
  }
  return out;
}
