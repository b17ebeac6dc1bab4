import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const DOCS = resolve(import.meta.dirname, '../../docs');

/** Splits a table row into cells; `\|` is a literal bar inside a cell. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/**
 * The rows of the first table in a markdown file whose header row is exactly `header`: every line
 * after the separator up to the first line that is not a table row.
 */
export function readTable(file: string, header: readonly string[]): string[][] {
  const lines = readFileSync(resolve(DOCS, file), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trim().startsWith('|') && cells(line).join('\u0000') === header.join('\u0000'));
  if (start < 0) throw new Error(`${file} has no table with the header | ${header.join(' | ')} |`);
  if (!/^\|(\s*-+\s*\|)+$/.test(lines[start + 1]?.trim() ?? '')) throw new Error(`${file}: the table header is not followed by a separator row`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.trim().startsWith('|')) break;
    rows.push(cells(line));
  }
  return rows;
}

/** A row as it must be written, for failure messages that say what to paste. */
export function renderRow(row: readonly string[]): string {
  return `| ${row.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
}
