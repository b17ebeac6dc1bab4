import type { Queryable } from '../db/database.js';
import type { Model, Resource } from '../model/ir.js';
import { getResource } from '../model/ir.js';
import { compileFindByKeys, compileManyToManyFetch, type Join, joinedColumn, PARENT_KEY, type RowScope } from '../sql/select.js';
import type { IncludeTree, Row } from './query.js';
import { type RowShaper, readableFields } from './rows.js';

interface IncludeOptions {
  readonly perParent: number;
  readonly scope?: RowScope;
}

/**
 * Attaches included relations to `rows`: one statement per relation per level, whatever the number
 * of rows, so a page of 100 posts with author and comments costs three statements, not 201.
 */
export async function loadIncludes(
  q: Queryable,
  model: Model,
  shaper: RowShaper,
  resource: Resource,
  rows: Row[],
  include: IncludeTree,
  options: IncludeOptions,
): Promise<void> {
  if (rows.length === 0) return;
  for (const [name, below] of include) {
    const relation = resource.relationsByName.get(name);
    if (!relation) continue;
    const target = getResource(model, relation.target);
    const columns = readableFields(target);
    let children: Row[];
    if (relation.kind === 'belongsTo') {
      const keys = unique(rows.map((r) => r[relation.foreignKey]).filter((k) => k !== null && k !== undefined));
      children = keys.length === 0 ? [] : await fetch(q, shaper, target, compileFindByKeys(target, columns, 'id', keys, { scope: options.scope }));
      const byId = new Map(children.map((c) => [c.id, c]));
      for (const row of rows) row[name] = byId.get(row[relation.foreignKey]) ?? null;
      for (const child of children) delete child[PARENT_KEY];
    } else {
      const parentIds = rows.map((r) => r.id);
      const statement =
        relation.kind === 'hasMany'
          ? compileFindByKeys(target, columns, relation.foreignKey, parentIds, options)
          : compileManyToManyFetch(target, relation, columns, parentIds, options);
      children = await fetch(q, shaper, target, statement);
      const groups = new Map<unknown, Row[]>();
      for (const child of children) {
        const parent = normaliseKey(child[PARENT_KEY]);
        delete child[PARENT_KEY];
        const group = groups.get(parent);
        if (group) group.push(child);
        else groups.set(parent, [child]);
      }
      for (const row of rows) row[name] = groups.get(row.id) ?? [];
    }
    if (below.size > 0) await loadIncludes(q, model, shaper, target, children, below, options);
  }
}

/** A belongsTo include read by JOIN in the parent's statement, and what to include below it. */
export interface JoinedInclude extends Join {
  readonly below: IncludeTree;
  /** Aliases of its columns in the parent's rows, in `columns` order. */
  readonly aliases: readonly string[];
}

/**
 * Splits an include tree: belongsTo relations at the top are joined into the parent's own statement
 * (one row each at most, so the page stays one statement); the others are loaded after it.
 */
export interface PlannedIncludes {
  readonly joined: readonly JoinedInclude[];
  readonly rest: IncludeTree;
}

export function planIncludes(model: Model, resource: Resource, include: IncludeTree): PlannedIncludes {
  if (include.size === 0) return NOTHING_TO_INCLUDE;
  const joined: JoinedInclude[] = [];
  let rest: Map<string, IncludeTree> | undefined;
  for (const [name, below] of include) {
    const relation = resource.relationsByName.get(name);
    if (relation?.kind !== 'belongsTo') {
      rest ??= new Map();
      rest.set(name, below);
      continue;
    }
    const target = getResource(model, relation.target);
    const columns = readableFields(target);
    joined.push({ relation, target, columns, below, aliases: columns.map((c) => joinedColumn(name, c)) });
  }
  return { joined, rest: rest ?? NO_INCLUDES };
}

const NO_INCLUDES: IncludeTree = new Map();
const NOTHING_TO_INCLUDE: PlannedIncludes = { joined: [], rest: NO_INCLUDES };

/**
 * Moves the joined columns of each row into the related record (null when the key is null or the
 * record is out of scope). Rows pointing at the same record share one object, as loaded includes do.
 * Each row is rebuilt with its own `columns` (deleting properties would make every row slow to read).
 * Returns, per join, the distinct records, for the includes below them.
 */
export function attachJoined(shaper: RowShaper, rows: Row[], columns: readonly string[], joined: readonly JoinedInclude[]): Row[][] {
  if (joined.length === 0) return [];
  const records = joined.map(() => new Map<unknown, Row>());
  const idAliases = joined.map((join) => join.aliases[join.columns.indexOf('id')] as string);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Row;
    const out: Row = {};
    for (const column of columns) out[column] = row[column];
    for (let j = 0; j < joined.length; j++) {
      const join = joined[j] as JoinedInclude;
      const byId = records[j] as Map<unknown, Row>;
      const id = row[idAliases[j] as string];
      let record: Row | null = null;
      if (id !== null && id !== undefined) {
        record = byId.get(id) ?? null;
        if (!record) {
          record = {};
          for (let i = 0; i < join.columns.length; i++) record[join.columns[i] as string] = row[join.aliases[i] as string];
          byId.set(id, record);
        }
      }
      out[join.relation.name] = record;
    }
    rows[r] = out;
  }
  return joined.map((join, j) => shaper.shape(join.target, [...(records[j] as Map<unknown, Row>).values()]));
}

async function fetch(q: Queryable, shaper: RowShaper, target: Resource, statement: { text: string; values: unknown[] }): Promise<Row[]> {
  return shaper.shape(target, await q.query<Row>(statement.text, statement.values));
}

/** Parent keys come back as text for bigint ids; ids on rows are numbers. */
function normaliseKey(value: unknown): unknown {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
