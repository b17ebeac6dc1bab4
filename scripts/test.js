#!/usr/bin/env node
// Runs every test file under test/ with node:test (through tsx) and measures coverage with c8.
// Extra arguments narrow the files: `npm test -- test/e2e/query` runs the files whose path contains it.
//
// Coverage is collected by V8 (NODE_V8_COVERAGE) and reported by `c8 report` afterwards, rather than
// by wrapping the run in c8: a TypeScript model loaded from a CommonJS project is compiled by tsx into
// a `data:` module, whose source map c8 cannot read; those entries are dropped before reporting.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

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

/**
 * The template every in-memory PGlite of the run starts from, in test processes and in the `kiln`
 * processes they start (test/helpers/pglite-template.ts): made once here, before the test processes
 * race to make it, unless the environment names one already.
 */
function pgliteTemplate() {
  if (process.env.KILN_PGLITE_MEMORY_TEMPLATE) return process.env.KILN_PGLITE_MEMORY_TEMPLATE;
  const make = "const m = await import('./test/helpers/pglite-template.ts'); process.stdout.write(await m.makePgliteTemplate(m.defaultTemplatePath()));";
  const made = spawnSync('node', ['--import', 'tsx', '--input-type=module', '-e', make], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (made.status !== 0) {
    console.error('could not make the template of in-memory PGlite databases (test/helpers/pglite-template.ts)');
    process.exit(1);
  }
  return made.stdout;
}

// A directory of this run's own, so two runs at once (a narrowed one beside the whole suite) never mix.
const coverageDir = resolve(`coverage/tmp-${process.pid}`);
rmSync(coverageDir, { recursive: true, force: true });
mkdirSync(coverageDir, { recursive: true });

// The spec report, then the slowest files (scripts/slowest-files.js), both on stdout.
const reporters = ['spec', './scripts/slowest-files.js'].flatMap((reporter) => [`--test-reporter=${reporter}`, '--test-reporter-destination=stdout']);
const run = spawnSync('node', ['--import', 'tsx', '--test', '--test-concurrency=2', ...reporters, ...files], {
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test', NODE_V8_COVERAGE: coverageDir, KILN_PGLITE_MEMORY_TEMPLATE: pgliteTemplate() },
});

for (const name of readdirSync(coverageDir)) {
  const path = join(coverageDir, name);
  const data = JSON.parse(readFileSync(path, 'utf8'));
  const cache = data['source-map-cache'];
  if (!cache) continue;
  for (const url of Object.keys(cache)) if (!url.startsWith('file:')) delete cache[url];
  writeFileSync(path, JSON.stringify(data));
}

const threshold = filters.length === 0 ? ['--check-coverage', '--lines', '85'] : [];
const report = spawnSync(
  'npx',
  ['c8', 'report', `--temp-directory=${coverageDir}`, '--reporter=text-summary', '--reporter=lcov', '--include=src/**', ...threshold],
  { stdio: 'inherit' },
);
rmSync(coverageDir, { recursive: true, force: true });
process.exit(run.status !== 0 ? (run.status ?? 1) : (report.status ?? 1));
