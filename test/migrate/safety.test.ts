import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { MigrateError, MigrationFailedError } from '../../src/migrate/errors.js';
import { listMigrations } from '../../src/migrate/files.js';
import { introspect } from '../../src/migrate/introspect.js';
import { DriftError, migrateDown, migrateUp } from '../../src/migrate/runner.js';
import { migrationStatus, verifyMigrations } from '../../src/migrate/status.js';
import { field } from '../../src/model/define.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/server.js';
import { dropAllTables, firstMigrationApplied, generate, model, rejection, schemaDrift, type tempDir } from './helpers.js';

const v1 = { resources: { users: { fields: { name: field.string({ maxLength: 50 }) } } } };
const v2 = { resources: { users: { fields: { name: field.string({ maxLength: 50, unique: true }), age: field.integer({ default: 0 }) } } } };

for (const backend of BACKENDS) {
  describe(`migrations are applied safely (${backend})`, () => {
    let db: TestDatabase;
    let tmp: ReturnType<typeof tempDir>;
    let first: string;
    beforeEach(async () => {
      db ??= await createTestDatabase(backend);
      ({ tmp, first } = await firstMigrationApplied(db, v1, `INSERT INTO "users" ("name") VALUES ('Ada'), ('Bob'), ('Ada')`));
    });
    afterEach(async () => {
      await dropAllTables(db);
      tmp.remove();
    });
    after(() => db.dispose());

    test('a migration that fails halfway leaves the database exactly as before, naming the migration and the statement', async () => {
      const second = await generate(v2, tmp.dir);
      assert.ok(second.written);
      const schemaBefore = await db.db.transaction((tx) => introspect(tx));
      const error = await rejection(() => migrateUp(db.db, tmp.dir));
      assert.ok(error instanceof MigrationFailedError);
      assert.equal(error.migration, second.name);
      assert.equal(error.statement, 'ALTER TABLE "users" ADD CONSTRAINT "users_name_key" UNIQUE ("name")');
      assert.match(error.message, new RegExp(`^migration ${second.name} failed and was rolled back; the database is as it was before it\\.\\n`));
      assert.match(error.cause.message, /could not create unique index "users_name_key"/);
      assert.deepEqual(await db.db.transaction((tx) => introspect(tx)), schemaBefore, 'the column added before the failing statement is gone');
      assert.deepEqual(await db.db.query(`SELECT "id", "name" FROM "users" ORDER BY "id"`), [
        { id: '1', name: 'Ada' },
        { id: '2', name: 'Bob' },
        { id: '3', name: 'Ada' },
      ]);
      assert.deepEqual((await migrationStatus(db.db, tmp.dir)).pending, [second.name]);
      await db.db.query(`UPDATE "users" SET "name" = 'Ann' WHERE "id" = 3`);
      assert.deepEqual((await migrateUp(db.db, tmp.dir)).applied, [second.name]);
    });

    test('an applied migration whose file was edited is refused by up, down and verify', async () => {
      appendFileSync(join(listMigrations(tmp.dir)[0]?.dir as string, 'up.sql'), '\n-- an afterthought\n');
      const expected = new RegExp(
        `^the migration history does not match the migrations directory:\\n {2}- ${first} was edited after it was applied \\(checksum sha256:`,
      );
      assert.match((await rejection(() => migrateUp(db.db, tmp.dir))).message, expected);
      assert.match((await rejection(() => migrateDown(db.db, tmp.dir))).message, expected);
      const report = await verifyMigrations(db.db, tmp.dir, model(v1));
      assert.equal(report.ok, false);
      assert.match(report.problems[0] ?? '', new RegExp(`^${first} was edited after it was applied`));
    });

    test('a CRLF checkout of the same files is not an edit', async () => {
      const path = join(listMigrations(tmp.dir)[0]?.dir as string, 'up.sql');
      writeFileSync(path, readFileSync(path, 'utf8').replace(/\n/g, '\r\n'));
      assert.deepEqual((await migrateUp(db.db, tmp.dir)).applied, []);
    });

    test('drift: verify reports a column added by hand precisely, and up refuses to run', async () => {
      await db.db.query(`ALTER TABLE "users" ADD COLUMN "nickname" text`);
      await db.db.query(`CREATE INDEX "users_name_idx" ON "users" ("name")`);
      const report = await verifyMigrations(db.db, tmp.dir, model(v1));
      assert.equal(report.ok, false);
      assert.deepEqual(report.drift, [
        'column "users.nickname" (text) is in the database but not in the snapshot',
        'index "users_name_idx" on "users" is in the database but not in the snapshot (CREATE INDEX users_name_idx ON users USING btree (name))',
      ]);
      await generate(v2, tmp.dir);
      const error = await rejection(() => migrateUp(db.db, tmp.dir));
      assert.ok(error instanceof DriftError);
      assert.match(error.message, new RegExp(`^the database has drifted from the snapshot of ${first}; nothing was changed:\\n {2}- column "users.nickname"`));
      assert.equal((await migrationStatus(db.db, tmp.dir)).pending.length, 1, 'the second migration was not applied');
    });

    test('a type changed by hand is drift too', async () => {
      await db.db.query(`ALTER TABLE "users" ALTER COLUMN "name" TYPE varchar(80)`);
      const report = await verifyMigrations(db.db, tmp.dir, model(v1));
      assert.deepEqual(report.drift, ['column "users.name" is character varying(80) in the database, character varying(50) in the snapshot']);
    });

    test('verify is clean on a migrated database, and names ungenerated model changes', async () => {
      const clean = await verifyMigrations(db.db, tmp.dir, model(v1));
      assert.deepEqual(
        { ok: clean.ok, drift: clean.drift, pending: clean.pending, modelAhead: clean.modelAhead },
        { ok: true, drift: [], pending: [], modelAhead: false },
      );
      const ahead = await verifyMigrations(db.db, tmp.dir, model(v2));
      assert.deepEqual(
        { ok: ahead.ok, modelAhead: ahead.modelAhead, modelChanges: ahead.modelChanges },
        { ok: false, modelAhead: true, modelChanges: ['add field users.age', 'add unique constraint users_name_key (name)'] },
      );
      assert.deepEqual(clean.modelChanges, []);
    });

    test('an applied migration missing from the folder is refused', async () => {
      const folder = listMigrations(tmp.dir)[0]?.dir as string;
      renameSync(folder, `${folder}-moved`);
      const error = await rejection(() => migrateUp(db.db, tmp.dir));
      assert.match(error.message, new RegExp(`- ${first} was applied but its folder is missing from the migrations directory`));
    });

    test('an edited up.sql that does not produce its snapshot is rolled back', async () => {
      const second = await generate(v2, tmp.dir);
      assert.ok(second.written);
      await db.db.query(`UPDATE "users" SET "name" = 'Ann' WHERE "id" = 3`);
      const path = join(second.folder, 'up.sql');
      writeFileSync(path, readFileSync(path, 'utf8').replace('DEFAULT 0', 'DEFAULT 5'));
      const error = await rejection(() => migrateUp(db.db, tmp.dir));
      assert.ok(error instanceof MigrateError);
      assert.equal(
        error.message.split('\n').slice(0, 2).join('\n'),
        `migration ${second.name} leaves the database different from its snapshot.json, so it was rolled back:\n` +
          '  - column "users.age" has default 5 in the database, 0 in the snapshot',
      );
      assert.deepEqual((await migrationStatus(db.db, tmp.dir)).pending, [second.name]);
    });

    test('removing an enum value that rows still hold fails in up, leaving the database as before and naming the statement', async () => {
      const roles = (values: string[]) => ({
        resources: { users: { fields: { name: field.string({ maxLength: 50 }), role: field.enum(values, { default: 'member' }) } } },
      });
      await generate(roles(['admin', 'member', 'guest']), tmp.dir);
      await migrateUp(db.db, tmp.dir);
      await db.db.query(`UPDATE "users" SET "role" = 'guest' WHERE "id" = 2`);
      const removal = await generate(roles(['admin', 'member']), tmp.dir, { allowDestructive: true });
      assert.ok(removal.written);
      const schemaBefore = await db.db.transaction((tx) => introspect(tx));
      const error = await rejection(() => migrateUp(db.db, tmp.dir));
      assert.ok(error instanceof MigrationFailedError);
      assert.equal(error.migration, removal.name);
      assert.equal(error.statement, `ALTER TABLE "users" ADD CONSTRAINT "users_role_check" CHECK ("role" IN ('admin', 'member'))`);
      assert.match(
        error.message,
        new RegExp(
          `^migration ${removal.name} failed and was rolled back; the database is as it was before it\\.\\n {2}statement: ALTER TABLE "users" ADD CONSTRAINT "users_role_check"`,
        ),
      );
      assert.match(error.cause.message, /is violated by some row/);
      assert.deepEqual(await db.db.transaction((tx) => introspect(tx)), schemaBefore, 'the dropped CHECK is back');
      assert.deepEqual(await db.db.query(`SELECT "id", "role" FROM "users" ORDER BY "id"`), [
        { id: '1', role: 'member' },
        { id: '2', role: 'guest' },
        { id: '3', role: 'member' },
      ]);
      assert.deepEqual((await migrationStatus(db.db, tmp.dir)).pending, [removal.name]);
    });

    test('a pending migration older than the last applied one is refused, saying how to fix it', async () => {
      const second = await generate(v2, tmp.dir);
      assert.ok(second.written);
      await db.db.query(`UPDATE "users" SET "name" = 'Ann' WHERE "id" = 3`);
      await migrateUp(db.db, tmp.dir);
      // A migration made on a branch before `second`, merged after `second` was applied.
      const branch = await generate({ resources: { users: { fields: { ...v2.resources.users.fields, bio: field.text({ nullable: true }) } } } }, tmp.dir);
      assert.ok(branch.written);
      const older = `${Number(first.slice(0, 14)) + 30}_from-a-branch`;
      renameSync(branch.folder, join(tmp.dir, older));
      const expected =
        'the migration history does not match the migrations directory:\n' +
        `  - ${older} is older than the last applied migration ${second.name} but was never applied (merged from an older branch?): ` +
        `delete its folder and run "kiln migrate generate" again, so that the change comes after ${second.name} (carry over any edits made to its up.sql)\n`;
      const error = await rejection(() => migrateUp(db.db, tmp.dir));
      assert.ok(error instanceof MigrateError);
      assert.equal(error.message.slice(0, expected.length), expected);
      assert.equal((await db.db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'bio'`)).length, 0);
      assert.deepEqual((await migrationStatus(db.db, tmp.dir)).pending, [older]);
    });

    test('a down.sql with a step Kiln cannot undo is refused until a person writes it, then reverts', async () => {
      const flag = (inPrint: object, name: object = { maxLength: 50 }) => ({
        resources: { users: { fields: { name: field.string(name), inPrint } } },
      });
      const before = await generate(flag(field.boolean({ default: false })), tmp.dir);
      assert.ok(before.written);
      await migrateUp(db.db, tmp.dir);
      await db.db.query(`UPDATE "users" SET "in_print" = true WHERE "id" = 2`);
      const change = await generate(flag(field.float({ default: 0 }), { maxLength: 50, index: true }), tmp.dir);
      assert.ok(change.written);
      await migrateUp(db.db, tmp.dir);
      const error = await rejection(() => migrateDown(db.db, tmp.dir));
      assert.equal(error.message, `migration ${change.name} cannot be reverted: its down.sql is marked kiln:irreversible (it says why); nothing was reverted`);
      // What a person does: write the statements in place of the comment, then delete the mark.
      const path = join(change.folder, 'down.sql');
      const written = readFileSync(path, 'utf8')
        .split('\n')
        .slice(1)
        .map((line) => (line.startsWith('--   ALTER TABLE') ? line.slice(5).replace('<your conversion of "in_print">', '"in_print" <> 0') : line))
        .join('\n');
      writeFileSync(path, written);
      assert.deepEqual(await migrateDown(db.db, tmp.dir), { reverted: [change.name] });
      assert.deepEqual(await schemaDrift(db, listMigrations(tmp.dir).find((m) => m.name === before.name)?.snapshot), [], 'back to the earlier schema');
      assert.deepEqual(await db.db.query(`SELECT "id", "in_print" FROM "users" ORDER BY "id"`), [
        { id: '1', in_print: false },
        { id: '2', in_print: true },
        { id: '3', in_print: false },
      ]);
    });

    test('down refuses a migration whose down.sql is marked irreversible, and reverts otherwise', async () => {
      const second = await generate(v2, tmp.dir);
      assert.ok(second.written);
      await db.db.query(`UPDATE "users" SET "name" = 'Ann' WHERE "id" = 3`);
      await migrateUp(db.db, tmp.dir);
      const path = join(second.folder, 'down.sql');
      const down = readFileSync(path, 'utf8');
      writeFileSync(path, `-- kiln:irreversible\n${down}`);
      const error = await rejection(() => migrateDown(db.db, tmp.dir));
      assert.equal(error.message, `migration ${second.name} cannot be reverted: its down.sql is marked kiln:irreversible (it says why); nothing was reverted`);
      writeFileSync(path, down);
      assert.deepEqual(await migrateDown(db.db, tmp.dir, 1), { reverted: [second.name] });
      const more = await rejection(() => migrateDown(db.db, tmp.dir, 2));
      assert.equal(more.message, 'cannot revert 2 migrations: 1 is applied');
    });
  });
}
