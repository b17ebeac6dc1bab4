import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../src/db/database.js';
import { openPostgres } from '../../src/db/postgres.js';
import { migrateUp, type UpResult } from '../../src/migrate/runner.js';
import { withMigrationLock } from '../../src/migrate/session.js';
import { migrationStatus } from '../../src/migrate/status.js';
import { field } from '../../src/model/define.js';
import { BACKENDS, createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/server.js';
import { dropAllTables, generate, tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_UP = resolve(import.meta.dirname, 'fixtures/run-up.ts');
const versions = [
  { resources: { notes: { fields: { text: field.text() } } } },
  { resources: { notes: { fields: { text: field.text(), pinned: field.boolean({ default: false }) } } } },
  { resources: { notes: { fields: { text: field.text(), pinned: field.boolean({ default: false }) } }, tags: { fields: { name: field.string() } } } },
];

/** Sessions of this schema waiting for the migration lock (session.ts: key 1263095, hashtext of the schema). */
async function waitingForLock(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS "n" FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = 1263095
        AND objid = ((hashtext(current_schema())::bigint + 4294967296) % 4294967296)::oid`,
  );
  return row?.n ?? 0;
}

function runUpProcess(schema: string, dir: string): Promise<UpResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', RUN_UP, TEST_DATABASE_URL, schema, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  return once(child, 'exit').then(([code]) => {
    assert.equal(code, 0, err);
    return JSON.parse(out) as UpResult;
  });
}

/** Exactly one run applied every migration; the other applied none. */
function assertOneApplied(results: UpResult[], names: string[]): void {
  const sorted = [...results].sort((a, b) => a.applied.length - b.applied.length);
  assert.deepEqual(
    sorted.map((r) => r.applied),
    [[], names],
  );
}

for (const backend of BACKENDS) {
  describe(`two migrate up runs at once (${backend})`, () => {
    let db: TestDatabase;
    let tmp: ReturnType<typeof tempDir>;
    let names: string[];
    before(async () => {
      db = await createTestDatabase(backend);
      tmp = tempDir();
      names = [];
      for (const v of versions) {
        const r = await generate(v, tmp.dir);
        if (r.written) names.push(r.name);
      }
    });
    after(async () => {
      await db.dispose();
      tmp.remove();
    });

    test('in one process: exactly one applies, the other then finds nothing pending', async () => {
      const other: Database =
        backend === 'postgres'
          ? openPostgres({ url: TEST_DATABASE_URL, schema: db.schema, poolMax: 2, connectTimeoutMs: 5000, idleTimeoutMs: 1000, statementTimeoutMs: 10000 })
          : db.db;
      try {
        assertOneApplied(await Promise.all([migrateUp(db.db, tmp.dir), migrateUp(other, tmp.dir)]), names);
        assert.deepEqual((await migrationStatus(db.db, tmp.dir)).pending, []);
      } finally {
        if (other !== db.db) await other.close();
        await dropAllTables(db);
      }
    });

    if (backend === 'postgres') {
      test('in two processes started while the lock is held: both wait, exactly one applies', async () => {
        let runs: Promise<UpResult>[] = [];
        await withMigrationLock(db.db, async () => {
          runs = [runUpProcess(db.schema, tmp.dir), runUpProcess(db.schema, tmp.dir)];
          for (let tries = 0; (await waitingForLock(db.db)) < 2; tries++) {
            assert.ok(tries < 600, 'both processes reach the lock');
            await new Promise((r) => setTimeout(r, 50));
          }
        });
        const results = await Promise.all(runs);
        assertOneApplied(results, names);
        assert.deepEqual(
          results.map((r) => r.waited),
          [true, true],
        );
        assert.deepEqual(await db.db.query(`SELECT count(*)::int AS "n" FROM "kiln_migrations"`), [{ n: names.length }]);
      });
    }
  });
}
