import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SETTINGS } from '../../src/config/settings.js';
import { readTable, renderRow } from './markdown-table.js';

const HEADER = ['setting', 'env var', 'default', 'meaning'];

type Spec = (typeof SETTINGS)[keyof typeof SETTINGS] & { min?: number; max?: number; pattern?: RegExp; oneOf?: readonly string[] };

function defaultCell(value: unknown): string {
  if (value === '' || (Array.isArray(value) && value.length === 0)) return '(empty)';
  return `\`${Array.isArray(value) ? value.join(',') : String(value)}\``;
}

/** The description, then what values the setting accepts. */
function meaningCell(s: Spec): string {
  const allowed: string[] = [];
  if (s.min !== undefined && s.max !== undefined) allowed.push(`${s.min} to ${s.max}`);
  else if (s.min !== undefined) allowed.push(`at least ${s.min}`);
  else if (s.max !== undefined) allowed.push(`at most ${s.max}`);
  if (s.oneOf) allowed.push(s.oneOf.map((v) => `\`${v}\``).join(', '));
  if (s.pattern) allowed.push(`matches \`${s.pattern.source}\``);
  return allowed.length > 0 ? `${s.description} Allowed: ${allowed.join('; ')}.` : s.description;
}

function expectedRows(): string[][] {
  return Object.entries(SETTINGS).map(([name, s]) => [`\`${name}\``, `\`${s.env}\``, defaultCell(s.default), meaningCell(s as Spec)]);
}

describe('docs/reference/configuration.md', () => {
  const rows = readTable('reference/configuration.md', HEADER);

  test('lists every setting once, in the order of SETTINGS, and no other', () => {
    const missing = expectedRows().filter((row) => !rows.some((r) => r[0] === row[0]));
    assert.deepEqual(
      rows.map((row) => row[0]),
      expectedRows().map((row) => row[0]),
      `rows to add:\n${missing.map(renderRow).join('\n')}`,
    );
  });

  test('gives each setting its environment variable, default and meaning', () => {
    for (const expected of expectedRows()) {
      const row = rows.find((r) => r[0] === expected[0]);
      assert.deepEqual(row, expected, `expected the row\n${renderRow(expected)}`);
    }
  });
});
