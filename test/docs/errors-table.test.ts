import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ERRORS } from '../../src/core/errors.js';
import { readTable, renderRow } from './markdown-table.js';

const HEADER = ['code', 'status', 'title', 'how to fix'];

/** The row docs/reference/errors.md must hold for each registered code, in registry order. */
function expectedRows(): string[][] {
  return Object.entries(ERRORS).map(([code, e]) => [`\`${code}\``, String(e.status), e.title, e.fix]);
}

describe('docs/reference/errors.md', () => {
  const rows = readTable('reference/errors.md', HEADER);

  test('lists every registered error code once, in registry order, and no other', () => {
    const documented = rows.map((row) => row[0]);
    const registered = expectedRows().map((row) => row[0]);
    const missing = expectedRows().filter((row) => !documented.includes(row[0]));
    assert.deepEqual(documented, registered, `rows to add:\n${missing.map(renderRow).join('\n')}`);
  });

  test('gives each code its registered status, title and fix', () => {
    for (const expected of expectedRows()) {
      const row = rows.find((r) => r[0] === expected[0]);
      assert.deepEqual(row, expected, `expected the row\n${renderRow(expected)}`);
    }
  });
});
