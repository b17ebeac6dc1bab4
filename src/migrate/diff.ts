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

  for (const t of dropped) dropTable(out, t, new Set(dropped.map((d) => d.name)), created);
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

function dropTable(out: PlanBuilder, table: TableShape, droppedNames: ReadonlySet<string>, created: readonly TableShape[]): void {
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
      : `drops table ${table.name} and every link between ${table.links?.join(' and ')}${splitNote(table, created)}`,
  });
}

/**
 * When a dropped join table gives way to new ones between the same resources (two relations that
 * shared it now have a table each), say why its links are not moved and how to keep them.
 */
function splitNote(table: TableShape, created: readonly TableShape[]): string {
  const links = [...(table.links ?? [])].sort().join(',');
  const successors = created.filter((t) => t.links && [...t.links].sort().join(',') === links).map((t) => t.name);
  if (successors.length < 2) return '';
  return (
    `; the new join tables ${successors.join(', ')} start empty, because Kiln cannot tell which relation each link belonged to ` +
    `(to keep the links for one relation, set through: "${table.name}" on it)`
  );
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

/** Pairs each new table with its old self: by resource name (through renames); join tables as joinTablePairs says. */
function pairTables(before: Snapshot, after: Snapshot, renames: RenameDecisions): TablePair[] {
  const pairs: TablePair[] = [];
  const oldResourceOf = (resource: string) => renames.resources.get(resource) ?? resource;
  const pair = (old: TableShape, table: TableShape) =>
    pairs.push({ before: old, after: table, label: table.resource ?? table.name, columns: pairColumns(old, table, renames, oldResourceOf) });
  for (const table of after.tables) {
    if (table.resource === undefined) continue;
    const name = oldResourceOf(table.resource);
    const old = before.tables.find((t) => t.resource === name);
    if (old) pair(old, table);
  }
  const tableRenames = new Map(pairs.filter((p) => p.before.name !== p.after.name).map((p) => [p.after.name, p.before.name]));
  for (const [old, table] of joinTablePairs(before, after, oldResourceOf, tableRenames)) pair(old, table);
  return pairs;
}

/**
 * Which old join table each new one continues. A join table of the same name is the same table. A
 * renamed one (a resource renamed, or `through` changed) is found by the two resources it links, but
 * only when that is unambiguous: one old table and one new table link them. Otherwise only a name
 * that follows from the resource renames counts (`posts_editors` → `articles_editors`): when a
 * table two relations shared (`posts_users`, before each manyToMany had its own) is split in two,
 * its links cannot be told apart, so neither new table continues it; it is dropped (destructive)
 * and the new tables are created empty.
 */
function joinTablePairs(
  before: Snapshot,
  after: Snapshot,
  oldResourceOf: (resource: string) => string,
  tableRenames: ReadonlyMap<string, string>,
): [TableShape, TableShape][] {
  const oldJoins = before.tables.filter((t) => t.links);
  const newJoins = after.tables.filter((t) => t.links);
  const pairs: [TableShape, TableShape][] = [];
  const used = new Set<string>();
  const linksOf = (t: TableShape, map: (r: string) => string = (r) => r) => [...(t.links ?? [])].map(map).sort().join(',');
  for (const table of newJoins) {
    const old = oldJoins.find((t) => t.name === table.name);
    if (old) {
      pairs.push([old, table]);
      used.add(old.name);
    }
  }
  const unpaired = newJoins.filter((t) => !pairs.some(([, n]) => n === t));
  for (const table of unpaired) {
    const links = linksOf(table, oldResourceOf);
    const candidates = oldJoins.filter((t) => !used.has(t.name) && !after.tables.some((n) => n.name === t.name) && linksOf(t) === links);
    const rivals = unpaired.filter((t) => linksOf(t, oldResourceOf) === links);
    const renamed = renamedJoinTableName(table.name, tableRenames);
    const old = candidates.length === 1 && rivals.length === 1 ? candidates[0] : candidates.find((t) => t.name === renamed);
    if (!old) continue;
    pairs.push([old, table]);
    used.add(old.name);
  }
  return pairs;
}

/** The name a join table had before its resources' tables were renamed: their names replaced at its start, its end, or both. */
function renamedJoinTableName(name: string, tableRenames: ReadonlyMap<string, string>): string {
  let out = name;
  for (const [now, was] of tableRenames) {
    if (out.startsWith(`${now}_`)) out = `${was}${out.slice(now.length)}`;
    else if (out.endsWith(`_${now}`)) out = `${out.slice(0, -now.length)}${was}`;
  }
  return out;
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
