/**
 * A field readable on some rows only (a read rule that is a row condition for this caller) is decided
 * by the statement that reads it: the SQL selects the value only where the condition holds, and a
 * flag column saying whether it holds (src/sql/select.ts, selectList). Here the flag becomes the
 * answer: the field is removed from the rows whose flag is not true, so it is absent rather than
 * null, and the flag never reaches a client.
 */
import type { Row } from '../core/query.js';
import { shownColumn } from '../sql/select.js';
import type { ShownWhere } from './field-access.js';

/** `prefix`: the alias prefix of a joined relation's columns (`author.`), empty for the row's own. */
export function hideUnshown(rows: readonly Row[], shown: ShownWhere | undefined, prefix = ''): void {
  if (!shown) return;
  for (const field of shown.keys()) {
    const flag = `${prefix}${shownColumn(field)}`;
    const value = `${prefix}${field}`;
    for (const row of rows) {
      const holds = row[flag];
      // No flag: the field was not selected.
      if (holds === undefined) continue;
      if (holds !== true) delete row[value];
      delete row[flag];
    }
  }
}
