/**
 * Attaches included relations to rows. One statement per include node and level, whatever the number
 * of rows, so a page of 100 posts with author and comments costs three statements, not 201. A
 * to-many node returns at most its limit per parent, and a parent with more says so in `_truncated`.
 * belongsTo relations at the top of a read are joined into its own statement instead (see planJoins).
 * Each included resource is read under its own access rule and field rules (the node's Access).
 */
import { hideUnshown } from '../access/field-visibility.js';
import type { Queryable } from '../db/database.js';
import { type Access, compileIncludeFetch, type Join, joinedColumn, PARENT_KEY } from '../sql/select.js';
import type { CompiledModel } from './compiled-model.js';
import { type IncludeNode, type Row, TRUNCATED } from './query.js';
import { shapeRows } from './rows.js';

/** The access rule of each resource a read reaches, for this request. */
export type ScopeFor = (node: IncludeNode) => Access;

export async function loadIncludes(q: Queryable, compiled: CompiledModel, rows: Row[], nodes: readonly IncludeNode[], accessFor: ScopeFor): Promise<void> {
  if (rows.length === 0) return;
  for (const node of nodes) {
    const relation = node.relation;
    const target = compiled.of(node.target);
    const columns = fetchedColumns(node);
    const access = accessFor(node);
    const shown = access.shownOf?.(node.target);
    let children: Row[];
    if (relation.kind === 'belongsTo') {
      const keys = [...new Set(rows.map((r) => r[relation.foreignKey]).filter((k) => k !== null && k !== undefined))];
      const statement = compileIncludeFetch(compiled.model, node, columns, keys, access);
      children = keys.length === 0 ? [] : shapeRows(target, await q.query<Row>(statement.text, statement.values));
      hideUnshown(children, shown);
      const byId = new Map(children.map((c) => [c.id, c]));
      for (const row of rows) row[node.relation.name] = byId.get(row[relation.foreignKey]) ?? null;
    } else {
      const statement = compileIncludeFetch(
        compiled.model,
        node,
        columns,
        rows.map((r) => r.id),
        access,
      );
      children = shapeRows(target, await q.query<Row>(statement.text, statement.values));
      hideUnshown(children, shown);
      const groups = groupByParent(children);
      for (const row of rows) {
        const group = groups.get(row.id) ?? [];
        if (group.length > node.limit) {
          group.length = node.limit;
          const cut = row[TRUNCATED] as string[] | undefined;
          if (cut) cut.push(relation.name);
          else row[TRUNCATED] = [relation.name];
        }
        row[relation.name] = group;
      }
      children = [...groups.values()].flat();
    }
    if (node.include.length > 0) await loadIncludes(q, compiled, children, node.include, accessFor);
    dropUnasked(children, node, columns);
  }
}

/** The node's fields, plus the keys its own includes need (dropped again once they are loaded). */
function fetchedColumns(node: IncludeNode): readonly string[] {
  const missing = node.include.flatMap((child) =>
    child.relation.kind === 'belongsTo' && !node.fields.includes(child.relation.foreignKey) ? [child.relation.foreignKey] : [],
  );
  if (missing.length === 0) return node.fields;
  const wanted = new Set([...node.fields, ...missing]);
  return node.target.fields.filter((f) => wanted.has(f.name)).map((f) => f.name);
}

function dropUnasked(rows: Row[], node: IncludeNode, columns: readonly string[]): void {
  if (columns === node.fields) return;
  const extra = columns.filter((c) => !node.fields.includes(c));
  for (const row of rows) for (const key of extra) delete row[key];
}

/** Children by parent key, in the order the statement returned them (the node's order). */
function groupByParent(children: Row[]): Map<unknown, Row[]> {
  const groups = new Map<unknown, Row[]>();
  for (const child of children) {
    const parent = normaliseKey(child[PARENT_KEY]);
    delete child[PARENT_KEY];
    const group = groups.get(parent);
    if (group) group.push(child);
    else groups.set(parent, [child]);
  }
  return groups;
}

/** Parent keys come back as text for bigint ids; ids on rows are numbers. */
function normaliseKey(value: unknown): unknown {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
}

/** A belongsTo include read by JOIN in the parent's statement, and what to include below it. */
export interface JoinedInclude extends Join {
  readonly node: IncludeNode;
  /** Aliases of its columns in the parent's rows, in `columns` order. */
  readonly aliases: readonly string[];
}

export interface PlannedIncludes {
  readonly joined: readonly JoinedInclude[];
  readonly rest: readonly IncludeNode[];
}

const NOTHING_TO_INCLUDE: PlannedIncludes = Object.freeze({ joined: Object.freeze([]), rest: Object.freeze([]) });

/**
 * Splits the top of an include tree: belongsTo relations are joined into the read's own statement
 * (one row each at most, so the page stays one statement); the others are loaded after it.
 */
export function planJoins(include: readonly IncludeNode[]): PlannedIncludes {
  if (include.length === 0) return NOTHING_TO_INCLUDE;
  const joined: JoinedInclude[] = [];
  const rest: IncludeNode[] = [];
  for (const node of include) {
    if (node.relation.kind !== 'belongsTo') {
      rest.push(node);
      continue;
    }
    const columns = fetchedColumns(node);
    joined.push({ relation: node.relation, target: node.target, columns, node, aliases: columns.map((c) => joinedColumn(node.relation.name, c)) });
  }
  return { joined, rest };
}

/**
 * Moves the joined columns of each row into the related record (null when the key is null or the
 * record is out of scope). Rows pointing at the same record share one object, as loaded includes do.
 * Each row is rebuilt with its own `columns` (deleting properties would make every row slow to read).
 * Returns, per join, the distinct records, for the includes below them.
 */
export function attachJoined(compiled: CompiledModel, rows: Row[], columns: readonly string[], joined: readonly JoinedInclude[]): Row[][] {
  if (joined.length === 0) return [];
  const records = joined.map(() => new Map<unknown, Row>());
  const idAliases = joined.map((join) => join.aliases[join.columns.indexOf('id')] as string);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Row;
    const out: Row = {};
    // A column is undefined only when a field the caller may not read on this row was removed (src/access/field-visibility.ts).
    for (const column of columns) if (row[column] !== undefined) out[column] = row[column];
    for (let j = 0; j < joined.length; j++) {
      const join = joined[j] as JoinedInclude;
      const byId = records[j] as Map<unknown, Row>;
      const id = row[idAliases[j] as string];
      let record: Row | null = null;
      if (id !== null && id !== undefined) {
        record = byId.get(id) ?? null;
        if (!record) {
          record = {};
          for (let i = 0; i < join.columns.length; i++) {
            const value = row[join.aliases[i] as string];
            if (value !== undefined) record[join.columns[i] as string] = value;
          }
          byId.set(id, record);
        }
      }
      out[join.relation.name] = record;
    }
    rows[r] = out;
  }
  return joined.map((join, j) => shapeRows(compiled.of(join.target), [...(records[j] as Map<unknown, Row>).values()]));
}

/** After the includes below a joined record are loaded, drop the keys fetched only for them. */
export function finishJoined(records: Row[][], joined: readonly JoinedInclude[]): void {
  joined.forEach((join, j) => {
    dropUnasked(records[j] ?? [], join.node, join.columns);
  });
}
