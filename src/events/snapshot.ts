/**
 * How a subscriber learns of a deletion it may see. The row is gone when the event arrives, so its
 * subscribers cannot read it again; the deleting instance took a copy of every column in the DELETE
 * itself (`RETURNING to_jsonb(t)`), and each subscriber runs its ordinary list statement (its read
 * rule, its filters, `id eq`) with the table shadowed by that one row:
 *
 *   WITH "posts" AS (SELECT * FROM jsonb_populate_record(NULL::"posts", $n::jsonb)) SELECT … FROM "posts" AS t WHERE …
 *
 * A common table expression takes precedence over a table of the same name, and `NULL::"posts"` is
 * the table's row type, so the copy has the real columns with their real types: the rule is decided
 * by the same SQL as any read of the subscriber's, on the row as it was. Rules that look at other
 * tables (a comment's post) see them as they are now.
 */
import type { Queryable } from '../db/database.js';
import { ident } from '../sql/fragments.js';

/** `db`, with `table` seen as the one row of `snapshot` by every statement run through it. */
export function shadowedBy(db: Queryable, table: string, snapshot: string): Queryable {
  const name = ident(table);
  return {
    query<R>(text: string, values: readonly unknown[] = []): Promise<R[]> {
      const row = `$${values.length + 1}::jsonb`;
      return db.query<R>(`WITH ${name} AS (SELECT * FROM jsonb_populate_record(NULL::${name}, ${row})) ${text}`, [...values, snapshot]);
    },
  };
}
