import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { identitySequenceName } from '../../src/migrate/diff.js';
import { MigrationFailedError } from '../../src/migrate/errors.js';
import { INVALID_INDEX } from '../../src/migrate/introspect.js';
import { DriftError, migrateUp } from '../../src/migrate/runner.js';
import { migrationStatus, verifyMigrations } from '../../src/migrate/status.js';
import { field } from '../../src/model/define.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/server.js';
import { dropAllTables, firstMigrationApplied, generate, model, rejection, type tempDir } from './helpers.js';

const v1 = { resources: { users: { fields: { name: field.string({ maxLength: 50 }), age: field.integer({ nullable: true }) } } } };
const indexed = { resources: { users: { fields: { name: field.string({ maxLength: 50, index: true }), age: field.integer({ nullable: true }) } } } };

for (const backend of BACKENDS) {
  describe(`what counts as drift (${backend})`, () => {
    let db: TestDatabase;
    let tmp: ReturnType<typeof tempDir>;
    let first: string;
    beforeEach(async () => {
      db ??= await createTestDatabase(backend);
      ({ tmp, first } = await firstMigrationApplied(db, v1, `INSERT INTO "users" ("name") VALUES ('Ada'), ('Bob')`));
    });
    afterEach(async () => {
      await dropAllTables(db);
      tmp.remove();
    });
    after(() => db.dispose());

    /** The next migration adds users_name_idx; its up.sql is edited to create it only if missing. */
    async function indexMigration(): Promise<string> {
      const result = await generate(indexed, tmp.dir);
      assert.ok(result.written);
      const path = join(result.folder, 'up.sql');
      writeFileSync(path, readFileSync(path, 'utf8').replace('CREATE INDEX "users_name_idx"', 'CREATE INDEX IF NOT EXISTS "users_name_idx"'));
      return result.name;
    }

    test('an index built ahead of the next migration (e.g. CONCURRENTLY, by hand) is not drift for up', async () => {
      const name = await indexMigration();
      await db.db.query(`CREATE INDEX CONCURRENTLY "users_name_idx" ON "users" ("name")`);
      const log: string[] = [];
      assert.deepEqual((await migrateUp(db.db, tmp.dir, { log: (l) => log.push(l) })).applied, [name]);
      assert.deepEqual(log, [
        `index users_name_idx was built ahead of ${name}, which creates it (its up.sql needs CREATE INDEX IF NOT EXISTS)`,
        `applied ${name}`,
      ]);
      const report = await verifyMigrations(db.db, tmp.dir, model(indexed));
      assert.deepEqual({ ok: report.ok, drift: report.drift }, { ok: true, drift: [] });
    });

    test('without IF NOT EXISTS the migration fails on the existing index, naming the statement', async () => {
      const generated = await generate(indexed, tmp.dir);
      assert.ok(generated.written);
      await db.db.query(`CREATE INDEX "users_name_idx" ON "users" ("name")`);
      const error = await rejection(() => migrateUp(db.db, tmp.dir));
      assert.ok(error instanceof MigrationFailedError);
      assert.equal(error.statement, 'CREATE INDEX "users_name_idx" ON "users" ("name")');
      assert.match(error.cause.message, /"users_name_idx" already exists/);
    });

    test('an index the next migration does not expect as it is, or one left invalid, is still drift', async () => {
      const name = await indexMigration();
      await db.db.query(`CREATE INDEX "users_name_idx" ON "users" ("name", "age")`);
      const other = await rejection(() => migrateUp(db.db, tmp.dir));
      assert.ok(other instanceof DriftError);
      assert.deepEqual(other.differences, [
        'index "users_name_idx" on "users" is in the database but not in the snapshot (CREATE INDEX users_name_idx ON users USING btree (name, age))',
      ]);
      await db.db.query(`DROP INDEX "users_name_idx"`);
      // A CREATE INDEX CONCURRENTLY that failed leaves the index marked invalid.
      await db.db.query(`CREATE INDEX "users_name_idx" ON "users" ("name")`);
      await db.db.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = '"users_name_idx"'::regclass`);
      const invalid = await rejection(() => migrateUp(db.db, tmp.dir));
      assert.ok(invalid instanceof DriftError);
      assert.match(invalid.message, new RegExp(`^the database has drifted from the snapshot of ${first}; nothing was changed:\\n`));
      assert.deepEqual(invalid.differences, [
        `index "users_name_idx" on "users" is in the database but not in the snapshot (CREATE INDEX users_name_idx ON users USING btree (name) ${INVALID_INDEX})`,
      ]);
      assert.deepEqual((await migrationStatus(db.db, tmp.dir)).pending, [name]);
    });

    test('generated sequence renames use the name PostgreSQL gives, long names included', async () => {
      for (const [table, column] of [
        ['books', 'id'],
        ['t'.repeat(61), 'id'],
        ['t'.repeat(30), 'c'.repeat(40)],
      ]) {
        await db.db.query(`CREATE TABLE "${table}" ("${column}" bigint GENERATED BY DEFAULT AS IDENTITY)`);
        const [row] = await db.db.query<{ sequence: string }>(`SELECT pg_get_serial_sequence($1, $2) AS "sequence"`, [`"${table}"`, column]);
        assert.equal(row?.sequence.replace(/^.*\./, ''), identitySequenceName(table as string, column as string));
        await db.db.query(`DROP TABLE "${table}"`);
      }
    });

    test('an identity sequence under another name is drift', async () => {
      await db.db.query(`ALTER SEQUENCE "users_id_seq" RENAME TO "people_id_seq"`);
      const report = await verifyMigrations(db.db, tmp.dir, model(v1));
      assert.deepEqual(report.drift, ['column "users.id" takes its values from sequence "people_id_seq" in the database, "users_id_seq" in the snapshot']);
    });
  });
}
