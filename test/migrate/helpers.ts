import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { resolveSettings } from '../../src/config/settings.js';
import { openPostgres } from '../../src/db/postgres.js';
import { listMigrations } from '../../src/migrate/files.js';
import { type GenerateOptions, generateMigration } from '../../src/migrate/generate.js';
import { compareSchemas, expectedSchema, introspect } from '../../src/migrate/introspect.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { EMPTY_SNAPSHOT, type Snapshot } from '../../src/migrate/snapshot.js';
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow } from '../../src/model/load.js';
import { startKiln } from '../../src/start.js';
import { TEST_DATABASE_URL, type TestDatabase } from '../helpers/server.js';

/** A folder of its own under the system temp dir; remove it with the returned function. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-migrate-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function model(declaration: unknown): Model {
  return compileOrThrow('test', declaration);
}

let clock = Date.UTC(2025, 0, 1, 12, 0, 0);

/** generateMigration on a declaration, with a clock that moves a minute per call so names are predictable in order. */
export async function generate(declaration: unknown, dir: string, options: Partial<GenerateOptions> = {}) {
  clock += 60_000;
  return generateMigration({ model: model(declaration), declaration, dir, now: new Date(clock), ...options });
}

/**
 * A fresh migrations folder whose first migration (generated from `declaration`) is applied to `test`,
 * then `seed` run: the starting point of the suites that migrate a database holding data.
 */
export async function firstMigrationApplied(
  test: TestDatabase,
  declaration: unknown,
  seed: string,
): Promise<{ tmp: ReturnType<typeof tempDir>; first: string }> {
  const tmp = tempDir();
  const result = await generate(declaration, tmp.dir);
  assert.ok(result.written);
  await migrateUp(test.db, tmp.dir);
  await test.db.query(seed);
  return { tmp, first: result.name };
}

/** A copy of a migrations folder with only its first `count` migrations (what a checkout of an earlier commit holds). */
export function firstMigrations(dir: string, count: number): { dir: string; remove(): void } {
  const copy = tempDir();
  for (const m of listMigrations(dir).slice(0, count)) cpSync(m.dir, join(copy.dir, basename(m.dir)), { recursive: true });
  return copy;
}

/**
 * Serves `declaration` over an already migrated test database (the migrations mode `kiln serve`
 * uses). On PostgreSQL it opens a pool of its own, as a new server process would: the test's pool
 * holds prepared statements from before the migration.
 */
export async function serveOn(test: TestDatabase, declaration: unknown, dir: string) {
  const settings = { ...resolveSettings({}), host: '127.0.0.1', port: 0, logLevel: 'silent', dbSchema: test.schema };
  const db =
    test.db.kind === 'postgres'
      ? openPostgres({ url: TEST_DATABASE_URL, schema: test.schema, poolMax: 2, connectTimeoutMs: 5000, idleTimeoutMs: 1000, statementTimeoutMs: 10000 })
      : test.db;
  const kiln = await startKiln({ model: model(declaration), settings, db, schema: { mode: 'migrations', dir } }).catch(async (error) => {
    if (db !== test.db) await db.close();
    throw error;
  });
  const url = kiln.url.replace('localhost', '127.0.0.1');
  return {
    async get(path: string): Promise<any> {
      const res = await fetch(`${url}/v1${path}`);
      assert.equal(res.status, 200, `GET ${path}: ${res.status} ${await res.clone().text()}`);
      return res.json();
    },
    async send(method: string, path: string, json: unknown): Promise<any> {
      const res = await fetch(`${url}/v1${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
      assert.ok(res.status === 200 || res.status === 201, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
      return ((await res.json()) as any).data;
    },
    close: () => kiln.close({ keepDatabase: db === test.db }),
  };
}

/** The differences between the live schema and a snapshot (built in a scratch schema, rolled back). */
export async function schemaDrift(test: TestDatabase, snapshot: Snapshot = EMPTY_SNAPSHOT): Promise<string[]> {
  return test.db.transaction(async (tx) => compareSchemas(await introspect(tx), snapshot.tables.length ? await expectedSchema(tx, snapshot) : new Map()));
}

/** Runs `fn` and returns the error it throws, failing when it does not throw. */
export async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected an error');
}

/** Empties the test schema (kiln_migrations included), so the next test starts from nothing. */
export async function dropAllTables(test: TestDatabase): Promise<void> {
  const tables = await test.db.query<{ name: string }>(`SELECT tablename AS "name" FROM pg_tables WHERE schemaname = current_schema()`);
  if (tables.length > 0) await test.db.query(`DROP TABLE ${tables.map((t) => `"${t.name}"`).join(', ')} CASCADE`);
}

/** Runs the CLI in this process with extra environment variables, capturing what it prints. */
export async function kiln(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const { log, error } = console;
  let out = '';
  let err = '';
  console.log = (...a: unknown[]) => {
    out += `${a.join(' ')}\n`;
  };
  console.error = (...a: unknown[]) => {
    err += `${a.join(' ')}\n`;
  };
  Object.assign(process.env, env);
  try {
    return { code: await main(args), out, err };
  } finally {
    console.log = log;
    console.error = error;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
