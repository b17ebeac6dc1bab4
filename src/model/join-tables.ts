/**
 * The join table of each manyToMany relation. Each relation needs a table of its own: two relations
 * writing one table would replace each other's links (`posts.editors` and `posts.watchers` → users).
 * The two sides of one link (`posts.tags` and `tags.posts`) share theirs.
 *
 * - `through` names the table.
 * - Otherwise, when the two resources have at most one manyToMany to each other in each direction,
 *   the table is the two table names sorted and joined by `_` (`posts_tags`), as it always was, so
 *   existing models keep their tables.
 * - When a resource has several manyToMany relations to one target, each gets `<table>_<relation>`
 *   (`posts_editors`); the other side pairs with one of them only by naming that table in `through`.
 *
 * Two relations may share a table only as the two opposite sides of one link; anything else (two
 * relations of one resource, relations between other resources, or a side that could pair with
 * several) is reported with the fix.
 */

import { fieldsOf, type ModelView, ownResource } from './check-relation.js';
import type { JoinTable } from './ir.js';
import { IDENTIFIER, toSnakeCase } from './naming.js';
import { SQL_NAME } from './option-values.js';
import { isPlainObject } from './plain-data.js';
import type { ProblemList } from './problems.js';

interface Link {
  readonly resource: string;
  readonly name: string;
  readonly target: string;
  readonly through: string | undefined;
  readonly path: string;
}

export interface JoinTablePlan {
  /** `${resource}.${relation}` → join table name. */
  readonly tableOf: ReadonlyMap<string, string>;
  readonly joinTables: readonly JoinTable[];
}

export function planJoinTables(model: ModelView, tableOfResource: (resource: string) => string, problems: ProblemList): JoinTablePlan {
  const links = manyToManyLinks(model);
  const between = (from: string, to: string) => links.filter((l) => l.resource === from && l.target === to);
  const defaultTable = (l: Link) => `${tableOfResource(l.resource)}_${toSnakeCase(l.name)}`;
  const tableOf = new Map<string, string>();
  for (const link of links) {
    const name = chooseTable(link, between, defaultTable, tableOfResource, problems);
    if (name !== undefined) tableOf.set(`${link.resource}.${link.name}`, name);
  }
  const joinTables: JoinTable[] = [];
  for (const [name, sharing] of groupBy(links, (l) => tableOf.get(`${l.resource}.${l.name}`))) {
    if (!checkSharing(name, sharing, problems)) continue;
    const first = sharing[0] as Link;
    const sides = [
      { resource: first.resource, column: `${tableOfResource(first.resource)}_id` },
      { resource: first.target, column: `${tableOfResource(first.target)}_id` },
    ].sort((a, b) => a.column.localeCompare(b.column)) as [JoinTable['left'], JoinTable['right']];
    if (checkNames(name, sides, first, problems)) joinTables.push({ name, left: sides[0], right: sides[1] });
  }
  return { tableOf, joinTables };
}

function manyToManyLinks(model: ModelView): Link[] {
  const links: Link[] = [];
  for (const resource of Object.keys(model.resources)) {
    for (const [name, f] of Object.entries(fieldsOf(model, resource))) {
      // Relations whose target or through is wrong are reported by the field checks; planning runs
      // beside them, so its problems come in the same list, and skips what it cannot plan.
      if (!isPlainObject(f) || f.type !== 'manyToMany' || f.target === resource || !ownResource(model, f.target)) continue;
      if (![resource, name, f.target].every((n) => typeof n === 'string' && IDENTIFIER.test(n))) continue;
      if (f.through !== undefined && (typeof f.through !== 'string' || !SQL_NAME.test(f.through))) continue;
      const through = f.through as string | undefined;
      links.push({ resource, name, target: f.target as string, through, path: `resources.${resource}.fields.${name}` });
    }
  }
  return links;
}

function chooseTable(
  link: Link,
  between: (from: string, to: string) => Link[],
  defaultTable: (l: Link) => string,
  tableOfResource: (resource: string) => string,
  problems: ProblemList,
): string | undefined {
  if (link.through !== undefined) return link.through;
  if (between(link.resource, link.target).length > 1) return defaultTable(link);
  const others = between(link.target, link.resource);
  if (others.length > 1) {
    const tables = others.map((o) => `"${o.through ?? defaultTable(o)}"`);
    problems.add(
      link.path,
      `"${link.target}" has ${others.length} manyToMany relations to "${link.resource}" (${others.map((o) => o.name).join(', ')}), so which one this is the other side of is ambiguous`,
      `set through to the join table of the one it pairs with (${tables.join(' or ')}), or to a table of its own`,
    );
    return undefined;
  }
  return [tableOfResource(link.resource), tableOfResource(link.target)].sort().join('_');
}

/** Only the two opposite sides of one link may share a table: the first relation and one pointing back. */
function checkSharing(name: string, sharing: readonly Link[], problems: ProblemList): boolean {
  const [first] = sharing;
  if (!first) return false;
  const partner = sharing.find((l) => l.resource === first.target && l.target === first.resource);
  const offenders = sharing.filter((l) => l !== first && l !== partner);
  for (const link of offenders) {
    const at = link.through !== undefined ? `${link.path}.through` : link.path;
    const sibling = [first, partner].find((l) => l?.resource === link.resource);
    if (sibling) {
      problems.add(
        at,
        `join table "${name}" is also the table of relation ${sibling.resource}.${sibling.name}: the two relations would overwrite each other's links`,
        'give each relation a table of its own: a different through, or none (each then gets <table>_<relation>)',
      );
    } else {
      problems.add(
        at,
        `join table "${name}" is also the table of relation ${first.resource}.${first.name}, which is not the other side of this one`,
        `a join table links two resources, one relation on each side: set a different through on ${link.resource}.${link.name}`,
      );
    }
  }
  return offenders.length === 0;
}

/** The table and the constraint names derived from it must fit PostgreSQL's 63 characters, or it would cut them. */
function checkNames(name: string, sides: readonly JoinTable['left'][], link: Link, problems: ProblemList): boolean {
  const names = [name, `${name}_pkey`, ...sides.map((s) => `${name}_${s.column}_fkey`), `${name}_${sides[1]?.column}_idx`];
  const tooLong = names.find((n) => !SQL_NAME.test(n));
  if (tooLong === undefined) return true;
  problems.add(
    link.through !== undefined ? `${link.path}.through` : link.path,
    `join table "${name}" gives the name "${tooLong}", longer than the 63 characters PostgreSQL allows`,
    'set through: "…" to a shorter table name',
  );
  return false;
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K | undefined): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
