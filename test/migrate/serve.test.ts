import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { resolveSettings, type Settings } from '../../src/config/settings.js';
import { MigrateError, PendingMigrationsError } from '../../src/migrate/errors.js';
import { listMigrations } from '../../src/migrate/files.js';
import { generateMigration } from '../../src/migrate/generate.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { migrationStatus } from '../../src/migrate/status.js';
import { field } from '../../src/model/define.js';
import { startKiln } from '../../src/start.js';
import { BLOG_SEED_PATH, blogModel, blogModelWithRules } from '../helpers/blog.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/server.js';
import { dropAllTables, generate, model, rejection, tempDir } from './helpers.js';

const BLOG_MIGRATIONS = resolve(import.meta.dirname, '../../examples/blog/migrations');
const v1 = { resources: { notes: { fields: { text: field.text() } } } };
const v2 = { resources: { notes: { fields: { text: field.text(), pinned: field.boolean({ default: false }) } } } };

test('the committed blog migrations are up to date with the blog model', async () => {
  const copy = tempDir();
  cpSync(BLOG_MIGRATIONS, copy.dir, { recursive: true });
  const result = await generateMigration({ model: await blogModelWithRules(), dir: copy.dir });
  copy.remove();
  assert.equal(result.written, false, 'the blog model changed: run "kiln migrate generate --model examples/blog/kiln.config.ts" and commit it');
  assert.deepEqual(
    listMigrations(BLOG_MIGRATIONS).map((m) => m.name.replace(/^\d{14}_/, '')),
    ['initial', 'add-post-slug', 'accounts', 'author-posts-index'],
  );
});

for (const backend of BACKENDS) {
  describe(`startKiln with migrations, as kiln serve starts (${backend})`, () => {
    let db: TestDatabase;
    let settings: Settings;
    let tmp: ReturnType<typeof tempDir>;
    before(async () => {
      db = await createTestDatabase(backend);
      settings = { ...resolveSettings({}), host: '127.0.0.1', port: 0, logLevel: 'silent', dbSchema: db.schema };
    });
    afterEach(async () => {
      await dropAllTables(db);
      tmp?.remove();
    });
    after(() => db.dispose());

    const start = (declaration: unknown, apply = false, seedFile?: string) =>
      startKiln({ model: model(declaration), settings, db: db.db, seedFile, schema: { mode: 'migrations', dir: tmp.dir, apply } });

    test('pending migrations stop the start, each named, and nothing is created', async () => {
      tmp = tempDir();
      const one = await generate(v1, tmp.dir);
      const two = await generate(v2, tmp.dir);
      assert.ok(one.written && two.written);
      const error = await rejection(() => start(v2));
      assert.ok(error instanceof PendingMigrationsError);
      assert.equal(
        error.message,
        `2 migrations are not applied to the database:\n  - ${one.name}\n  - ${two.name}\n` +
          'Apply them with "kiln migrate up" (or start with --migrate to apply them on start-up).',
      );
      assert.deepEqual(await db.db.query(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'notes'`), []);
    });

    test('with apply (serve --migrate) they are applied, then the API serves', async () => {
      tmp = tempDir();
      await generate(v1, tmp.dir);
      await generate(v2, tmp.dir);
      const kiln = await start(v2, true);
      try {
        const res = await fetch(`${kiln.url.replace('localhost', '127.0.0.1')}/v1/notes`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'hi' }),
        });
        assert.equal(res.status, 201);
        assert.equal(((await res.json()) as any).data.pinned, false);
      } finally {
        await kiln.close({ keepDatabase: true });
      }
      assert.equal((await migrationStatus(db.db, tmp.dir)).pending.length, 0);
    });

    test('a model ahead of the last migration, or no migrations at all, stops the start', async () => {
      tmp = tempDir();
      const none = await rejection(() => start(v1, true));
      assert.equal(none.message, `there are no migrations in ${tmp.dir}: run "kiln migrate generate" to create the first one from the model`);
      await generate(v1, tmp.dir);
      const ahead = await rejection(() => start(v2, true));
      assert.ok(ahead instanceof MigrateError);
      assert.equal(
        ahead.message,
        `the model has changes that no migration in ${tmp.dir} covers: run "kiln migrate generate", review it, then "kiln migrate up"`,
      );
    });

    test('the blog example starts from its committed migration and seed', async () => {
      tmp = tempDir();
      cpSync(BLOG_MIGRATIONS, tmp.dir, { recursive: true });
      const kiln = await startKiln({
        model: await blogModel(),
        settings,
        db: db.db,
        seedFile: BLOG_SEED_PATH,
        schema: { mode: 'migrations', dir: tmp.dir, apply: true },
      });
      try {
        assert.equal(kiln.seeded, true);
        const res = await fetch(`${kiln.url.replace('localhost', '127.0.0.1')}/v1/users?sort=id&fields=id,name`);
        assert.deepEqual(((await res.json()) as any).data, [
          { id: 1, name: 'Ada Lovelace' },
          { id: 2, name: 'Alan Turing' },
          { id: 3, name: 'Grace Hopper' },
        ]);
      } finally {
        await kiln.close({ keepDatabase: true });
      }
    });

    test('a database made by the start-up schema creation is adopted as the first migration', async () => {
      tmp = tempDir();
      // A first migration of the whole blog model, as `kiln migrate generate` writes it for a project that started without.
      await generateMigration({ model: await blogModel(), dir: tmp.dir, name: 'initial' });
      const ensured = await startKiln({ model: await blogModel(), settings, db: db.db, seedFile: BLOG_SEED_PATH });
      await ensured.close({ keepDatabase: true });
      const lines: string[] = [];
      const result = await migrateUp(db.db, tmp.dir, { log: (l) => lines.push(l) });
      const [initial] = listMigrations(tmp.dir);
      assert.deepEqual(result, { applied: [], adopted: initial?.name, waited: false });
      assert.deepEqual(lines, [`adopted ${initial?.name}: the database already had its tables`]);
      assert.deepEqual(await db.db.query(`SELECT count(*)::int AS "n" FROM "posts"`), [{ n: 8 }]);
    });

    test('tables the first migration does not describe are not adopted', async () => {
      tmp = tempDir();
      await generate(v1, tmp.dir);
      await db.db.query(`CREATE TABLE "notes" ("id" bigint PRIMARY KEY, "text" varchar(10))`);
      const error = await rejection(() => migrateUp(db.db, tmp.dir));
      assert.match(
        error.message,
        /^the database has drifted from an empty schema; nothing was changed:\n {2}- table "notes" is in the database but not in the snapshot\n/,
      );
    });
  });
}
