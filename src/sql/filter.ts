import type { Filter, SortKey } from '../core/query.js';
import { getResource, type Model, type Resource } from '../model/ir.js';
import { escapeLike, ident, type Params, qualified } from './fragments.js';

/** `WHERE` conditions for filters on `resource` aliased `t` (ANDed together by the caller). */
export function compileFilters(model: Model, resource: Resource, filters: readonly Filter[], params: Params): string[] {
  return filters.map((filter) => {
    if (!filter.via) return condition(qualified('t', filter.field.column), filter, params);
    // Through a belongsTo: EXISTS keeps one row per parent, where a JOIN could not without DISTINCT.
    const target = getResource(model, filter.via.target);
    const key = resource.fieldsByName.get(filter.via.foreignKey);
    if (!key) throw new Error(`relation ${filter.via.name} has no key field`);
    const match = condition(qualified('r', filter.field.column), filter, params);
    return `EXISTS (SELECT 1 FROM ${ident(target.table)} AS r WHERE r."id" = ${qualified('t', key.column)} AND ${match})`;
  });
}

function condition(column: string, filter: Filter, params: Params): string {
  const { operator, value } = filter;
  switch (operator) {
    case 'eq':
      return `${column} = ${params.add(value)}`;
    case 'ne':
      return `${column} IS DISTINCT FROM ${params.add(value)}`;
    case 'gt':
      return `${column} > ${params.add(value)}`;
    case 'gte':
      return `${column} >= ${params.add(value)}`;
    case 'lt':
      return `${column} < ${params.add(value)}`;
    case 'lte':
      return `${column} <= ${params.add(value)}`;
    case 'in':
      return `${column} = ANY(${params.add(value)})`;
    case 'notIn':
      return `(${column} IS NULL OR ${column} <> ALL(${params.add(value)}))`;
    case 'ieq':
      return `lower(${column}) = lower(${params.add(value)})`;
    case 'contains':
      return `${column} LIKE ${params.add(`%${escapeLike(String(value))}%`)}`;
    case 'icontains':
      return `${column} ILIKE ${params.add(`%${escapeLike(String(value))}%`)}`;
    case 'startsWith':
      return `${column} LIKE ${params.add(`${escapeLike(String(value))}%`)}`;
    case 'istartsWith':
      return `${column} ILIKE ${params.add(`${escapeLike(String(value))}%`)}`;
    case 'endsWith':
      return `${column} LIKE ${params.add(`%${escapeLike(String(value))}`)}`;
    case 'iendsWith':
      return `${column} ILIKE ${params.add(`%${escapeLike(String(value))}`)}`;
    case 'isNull':
      return value ? `${column} IS NULL` : `${column} IS NOT NULL`;
  }
}

/**
 * Keyset condition: rows strictly after `after` in the order `sort` (every key NULLS LAST).
 * Expanded as (k1 after v1) OR (k1 = v1 AND k2 after v2) OR …, which is correct for mixed directions.
 */
export function compileKeyset(sort: readonly SortKey[], after: readonly unknown[], params: Params): string {
  const branches: string[] = [];
  const equalities: string[] = [];
  sort.forEach((key, i) => {
    const column = qualified('t', key.field.column);
    const value = after[i];
    if (value !== null && value !== undefined) {
      const placeholder = params.add(value);
      const beyond = `${column} ${key.descending ? '<' : '>'} ${placeholder}`;
      const step = key.field.nullable ? `(${beyond} OR ${column} IS NULL)` : beyond;
      branches.push([...equalities, step].join(' AND '));
      equalities.push(`${column} = ${placeholder}`);
    } else {
      // Nothing sorts after NULL on this key (NULLS LAST); only ties on it continue.
      equalities.push(`${column} IS NULL`);
    }
  });
  return branches.length === 0 ? 'FALSE' : `(${branches.map((b) => `(${b})`).join(' OR ')})`;
}

export function compileOrderBy(sort: readonly SortKey[]): string {
  return sort.map((k) => `${qualified('t', k.field.column)} ${k.descending ? 'DESC' : 'ASC'} NULLS LAST`).join(', ');
}
