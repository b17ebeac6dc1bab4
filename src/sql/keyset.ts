/** ORDER BY and keyset positions of a sort; every key sorts NULLS LAST. */
import type { SortKey } from '../core/query.js';
import { type Params, qualified } from './fragments.js';

/**
 * Keyset condition: rows strictly after `after` in the order `sort`, on the main table `t`.
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

export function compileOrderBy(sort: readonly SortKey[], alias: string): string {
  return sort.map((k) => `${qualified(alias, k.field.column)} ${k.descending ? 'DESC' : 'ASC'} NULLS LAST`).join(', ');
}
