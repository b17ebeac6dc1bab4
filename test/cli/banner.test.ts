import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { accessTableOf, rolesSummary, tableLines } from '../../src/access/access-table.js';
import { loadModel } from '../../src/model/load.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_CLI = "const m = await import('./src/cli/main.ts'); process.exitCode = await m.main(process.argv.slice(1));";
/** Every server started, so a failed assertion cannot leave one running (and the test runner waiting). */
const running = new Set<ChildProcess>();

/** `npm start` as the README runs it, from source, on a fresh data folder; resolves with stderr once it serves. */
async function startLikeNpmStart(dataDir: string): Promise<{ banner: string; stop(): Promise<number | null> }> {
  const args = ['serve', '--migrate', '--model', 'examples/blog/kiln.config.ts', '--seed', 'examples/blog/seed.json'];
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', RUN_CLI, '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', HOST: '127.0.0.1', PORT: '0', KILN_DATA_DIR: dataDir, KILN_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exit = once(child, 'exit').then(([code]) => {
    running.delete(child);
    return code as number | null;
  });
  for (let waited = 0; !err.includes('Press Ctrl+C to stop.'); waited += 50) {
    if (child.exitCode !== null || waited > 120_000) throw new Error(`kiln serve did not start:\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    banner: err,
    stop: () => {
      child.kill('SIGTERM');
      return exit;
    },
  };
}

/**
 * The Access entry of the blog's banner: its roles and access table, as the shared renderer prints
 * them (its exact text for a small model: test/cli/banner-access.test.ts).
 */
async function blogAccessLines(): Promise<string[]> {
  const model = await loadModel(join(ROOT, 'examples/blog/kiln.config.ts'));
  const table = accessTableOf(model);
  assert.ok(model.access && table, 'the blog declares access rules');
  return [rolesSummary(model.access), ...tableLines(table)].map((line, i) => `${i === 0 ? '  Access    ' : '            '}${line}`);
}

/** Records in the blog's seed file: every resource's list. */
const seedRecords = Object.values(JSON.parse(readFileSync(join(ROOT, 'examples/blog/seed.json'), 'utf8')) as unknown[][]).reduce(
  (n, list) => n + list.length,
  0,
);

describe('the start-up banner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-banner-'));
  after(() => {
    for (const child of running) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('says where the API, docs, OpenAPI, probes and data are, and that the seed was loaded once', async () => {
    const first = await startLikeNpmStart(join(dir, 'data'));
    const url = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(first.banner)?.[1];
    assert.ok(url, first.banner);
    const banner = first.banner.slice(first.banner.indexOf('Kiln is serving')).trimEnd().split('\n');
    assert.deepEqual(banner, [
      'Kiln is serving examples/blog/kiln.config.ts',
      `  API       ${url}/v1  (/users, /posts, /comments, /tags)`,
      `  Docs      ${url}/docs`,
      `  OpenAPI   ${url}/openapi.json`,
      `  GraphQL   ${url}/graphql  (GraphiQL: ${url}/graphiql)`,
      `  Health    ${url}/healthz  ${url}/readyz`,
      `  Database  embedded PGlite in ${join(dir, 'data')} (set DATABASE_URL for PostgreSQL)`,
      '  Schema    migrations in examples/blog/migrations',
      '  CORS      off (set KILN_CORS_ORIGINS to allow browser apps on other origins)',
      `  Auth      ${url}/v1/auth  (users sign in with email)`,
      `            tokens signed with a key kept in ${join(dir, 'data', 'auth-secret')} (set KILN_AUTH_JWT_SECRET in production); mail off, so no password reset or verification (set KILN_SMTP_URL)`,
      ...(await blogAccessLines()),
      `  Seed      loaded ${seedRecords} records from examples/blog/seed.json (the database was empty)`,
      'Press Ctrl+C to stop.',
    ]);
    for (const path of ['/v1/posts', '/docs', '/openapi.json', '/graphiql', '/graphql?query=%7B__typename%7D', '/healthz', '/readyz']) {
      assert.equal((await fetch(`${url}${path}`)).status, 200, path);
    }
    assert.equal(await first.stop(), 0);

    const second = await startLikeNpmStart(join(dir, 'data'));
    assert.match(second.banner, /\n {2}Seed {6}skipped: the database already has data\n/, 'the seed loads on the first run only');
    assert.equal(await second.stop(), 0);
  });
});
