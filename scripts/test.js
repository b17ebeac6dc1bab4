#!/usr/bin/env node
// Runs every test file under test/ with node:test (through tsx) and measures coverage with c8.
// Extra arguments narrow the files: `npm test -- test/e2e/query` runs the files whose path contains it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = findTests('test')
  .filter((f) => filters.length === 0 || filters.some((needle) => f.includes(needle)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const coverage = filters.length === 0 ? ['--check-coverage', '--lines', '85'] : [];
const result = spawnSync(
  'npx',
  [
    'c8',
    '--reporter=text-summary',
    '--reporter=lcov',
    '--include=src/**',
    ...coverage,
    'node',
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
