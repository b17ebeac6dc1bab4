import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MigrationFailedError } from '../../src/migrate/errors.js';
import { generateMigration } from '../../src/migrate/generate.js';
import { migrateDown, migrateUp } from '../../src/migrate/runner.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/server.js';
import { CASES, type Case } from './fixtures/cases.js';
import { dropAllTables, model, rejection, schemaDrift, tempDir } from './helpers.js';

const SNAPSHOTS = join(import.meta.dirname, 'snapshots');
const FIRST = new Date('2025-01-01T00:00:00Z');
const SECOND = new Date('2025-01-02T00:00:00Z');

/** Generates `before` then `after` into a fresh folder and returns the folder and the second migration. */
async function generateCase(c: Case) {
  const tmp = tempDir();
  const first = await generateMigration({ model: model(c.before), declaration: c.before, dir: tmp.dir, now: FIRST, name: 'before' });
  const change = await generateMigration({ model: model(c.after), declaration: c.after, dir: tmp.dir, now: SECOND, name: c.name, ...c.options });
  assert.ok(first.written && change.written, `${c.name}: both migrations are written`);
  return { tmp, change };
}

/** Compares with the committed file; KILN_UPDATE_SNAPSHOTS=1 rewrites it instead (review the diff before committing). */
function expectSnapshot(file: string, actual: string): void {
  const path = join(SNAPSHOTS, file);
  if (process.env.KILN_UPDATE_SNAPSHOTS === '1') writeFileSync(path, actual);
  assert.ok(existsSync(path), `${file} is missing; run with KILN_UPDATE_SNAPSHOTS=1 and review it`);
  assert.equal(actual, readFileSync(path, 'utf8'), `${file} differs from the committed snapshot (KILN_UPDATE_SNAPSHOTS=1 rewrites it)`);
}

const GENERATED = CASES.filter((c) => !c.nothingToGenerate);

describe('generated SQL for each kind of change matches the committed snapshots', () => {
  for (const c of CASES.filter((c) => c.nothingToGenerate)) {
    test(`${c.name}: nothing to generate, nothing written`, async () => {
      const tmp = tempDir();
      try {
        assert.ok((await generateMigration({ model: model(c.before), declaration: c.before, dir: tmp.dir, now: FIRST })).written);
        const change = await generateMigration({ model: model(c.after), declaration: c.after, dir: tmp.dir, now: SECOND, name: c.name });
        assert.deepEqual(change, { written: false });
        assert.equal(readdirSync(tmp.dir).length, 1, 'only the first migration');
        assert.equal(existsSync(join(SNAPSHOTS, `${c.name}.up.sql`)), false, 'no snapshot files for a change without SQL');
      } finally {
        tmp.remove();
      }
    });
  }
  for (const c of GENERATED) {
    test(c.name, async () => {
      const { tmp, change } = await generateCase(c);
      tmp.remove();
      assert.ok(change.written);
      expectSnapshot(`${c.name}.up.sql`, change.up);
      expectSnapshot(`${c.name}.down.sql`, change.down);
    });
  }
});

for (const backend of BACKENDS) {
  describe(`each snapshot applies and reverts with a row in every table (${backend})`, () => {
    let db: TestDatabase;
    before(async () => {
      db = await createTestDatabase(backend);
    });
    after(() => db.dispose());

    for (const c of GENERATED) {
      test(c.name, async () => {
        const { tmp } = await generateCase(c);
        try {
          const [first, second] = (await migrateUp(db.db, tmp.dir)).applied;
          assert.ok(first && second);
          await migrateDown(db.db, tmp.dir, 1);
          await db.db.query(`INSERT INTO "authors" ("name") VALUES ('Ada')`);
          await db.db.query(`INSERT INTO "books" ("title", "author_id") VALUES ('Notes', 1)`);
          assert.deepEqual((await migrateUp(db.db, tmp.dir)).applied, [second], 'up on a populated table');
          if (c.downNeedsEmptyTable) {
            const error = await rejection(() => migrateDown(db.db, tmp.dir, 1));
            assert.ok(error instanceof MigrationFailedError, String(error));
            assert.match(error.cause.message, /contains null values/);
            await db.db.query('DELETE FROM "books"');
          }
          await migrateDown(db.db, tmp.dir, 1);
          await migrateDown(db.db, tmp.dir, 1);
          assert.deepEqual(await schemaDrift(db), [], 'back to an empty schema');
        } finally {
          await dropAllTables(db);
          tmp.remove();
        }
      });
    }
  });
}
