import type { Queryable } from '../db/database.js';
import type { Model, Resource } from '../model/ir.js';
import { getResource } from '../model/ir.js';
import { compileFindByKeys, compileManyToManyFetch, PARENT_KEY, type RowScope } from '../sql/select.js';
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
