/**
 * A DELETE that also answers what its foreign keys did to other resources: the rows `ON DELETE
 * CASCADE` removed with it (every column, for their change events: src/events/snapshot.ts) and the
 * rows `ON DELETE SET NULL` changed. PostgreSQL runs those actions itself, after the statement, and
 * tells nobody; so the same statement reads them first. Every part of one statement sees the database
 * as it was when the statement began, so the recursive query below finds exactly the rows that
 * referenced the deleted one (and those that referenced them, through further cascades):
 *
 *   WITH RECURSIVE d AS (DELETE … RETURNING t."id", to_jsonb(t)::text AS "snapshot"),
 *   gone(resource, id, snapshot) AS (
 *     SELECT 'posts', d."id"::text, d."snapshot" FROM d
 *     UNION SELECT x.* FROM gone AS g, LATERAL (SELECT 'comments', c."id"::text, to_jsonb(c)::text
 *           FROM "comments" AS c WHERE g.resource = 'posts' AND c."post_id" = g.id::bigint UNION ALL …) AS x)
 *   SELECT d."id", d."snapshot", <the cascaded rows as JSON>, <the set-null rows as JSON> FROM d
 *
 * UNION (not UNION ALL) ends the recursion even for rows that reference each other in a cycle.
 * Statements for resources nothing depends on stay the plain DELETE of write.ts.
 */
import type { BelongsToRelation, Model, Resource } from '../model/ir.js';
import { ident, qualified, type Statement } from './fragments.js';

/** A row another resource's foreign key changed when a record was deleted. */
export interface CascadedChange {
  readonly resource: string;
  readonly type: 'deleted' | 'updated';
  readonly id: string;
  /** Every column of a cascaded deletion, as JSON text. */
  readonly snapshot?: string;
}

interface Dependent {
  /** The resource whose rows hold the foreign key. */
  readonly resource: Resource;
  readonly relation: BelongsToRelation;
  /** The resource the key points at. */
  readonly target: Resource;
}

/** The foreign keys into `target` whose ON DELETE action changes rows. */
function dependentsOf(model: Model, target: Resource): Dependent[] {
  const found: Dependent[] = [];
  for (const resource of model.resources) {
    for (const relation of resource.relations) {
      if (relation.kind === 'belongsTo' && relation.target === target.name && relation.onDelete !== 'restrict') found.push({ resource, relation, target });
    }
  }
  return found;
}

/** Every cascade (and set-null) edge reachable from deleting a row of `resource`; empty when nothing depends on it. */
function reachable(model: Model, resource: Resource): { cascades: Dependent[]; nulls: Dependent[] } {
  const cascades: Dependent[] = [];
  const nulls: Dependent[] = [];
  const seen = new Set<string>();
  const visit = (target: Resource) => {
    if (seen.has(target.name)) return;
    seen.add(target.name);
    for (const dependent of dependentsOf(model, target)) {
      if (dependent.relation.onDelete === 'cascade') {
        cascades.push(dependent);
        visit(dependent.resource);
      } else nulls.push(dependent);
    }
  };
  visit(resource);
  return { cascades, nulls };
}

/** Whether deleting a row of `resource` can change rows of others (so `compileCascadingDelete` is worth its cost). */
export function hasDependents(model: Model, resource: Resource): boolean {
  return dependentsOf(model, resource).length > 0;
}

function columnOf(resource: Resource, field: string): string {
  const column = resource.fieldsByName.get(field);
  if (column?.kind !== 'column') throw new Error(`unknown column field ${resource.name}.${field}`);
  return column.column;
}

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The condition of one edge: the dependent row `c` references the gone row `g`. */
function references(edge: Dependent): string {
  return `(g.resource = ${literal(edge.target.name)} AND ${qualified('c', columnOf(edge.resource, edge.relation.foreignKey))} = g.id::${edge.target.idType})`;
}

/**
 * `plain`, the DELETE of write.ts with `RETURNING t."id", … AS "snapshot"`, wrapped so that the row
 * it answers also has `cascaded`: a JSON array of CascadedChange (null when there are none).
 */
export function compileCascadingDelete(model: Model, resource: Resource, plain: Statement): Statement {
  const { cascades, nulls } = reachable(model, resource);
  const root = `SELECT ${literal(resource.name)}::text AS resource, d."id"::text AS id, d."snapshot" FROM d`;
  // PostgreSQL allows one reference to `gone` in the recursive term: each cascading resource is a
  // branch of a LATERAL union, joined to every gone resource it references.
  const byResource = new Map<Resource, Dependent[]>();
  for (const edge of cascades) byResource.set(edge.resource, [...(byResource.get(edge.resource) ?? []), edge]);
  const branches = [...byResource].map(
    ([dependent, edges]) =>
      `SELECT ${literal(dependent.name)}::text, c."id"::text, to_jsonb(c)::text FROM ${ident(dependent.table)} AS c WHERE ${edges.map(references).join(' OR ')}`,
  );
  const gone = branches.length === 0 ? root : `${root} UNION SELECT x.* FROM gone AS g, LATERAL (${branches.join(' UNION ALL ')}) AS x`;
  const changes = [
    `SELECT g.resource, 'deleted' AS type, g.id, g."snapshot" FROM gone AS g WHERE NOT (g.resource = ${literal(resource.name)} AND g.id = d."id"::text)`,
    ...nulls.map(
      (edge) =>
        `SELECT ${literal(edge.resource.name)}, 'updated', c."id"::text, NULL FROM ${ident(edge.resource.table)} AS c JOIN gone AS g ON ${references(edge)}` +
        // A row a cascade deletes is not also announced as updated.
        ` WHERE NOT EXISTS (SELECT 1 FROM gone AS h WHERE h.resource = ${literal(edge.resource.name)} AND h.id = c."id"::text)`,
    ),
  ];
  const cascaded = `(SELECT json_agg(x) FROM (${changes.join(' UNION ')}) AS x)::text AS "cascaded"`;
  const text = `WITH RECURSIVE d AS (${plain.text}), gone(resource, id, "snapshot") AS (${gone}) SELECT d."id", d."snapshot", ${cascaded} FROM d`;
  return { text, values: plain.values };
}
