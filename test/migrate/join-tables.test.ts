import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { MigrateError } from '../../src/migrate/errors.js';
import { listMigrations } from '../../src/migrate/files.js';
import { migrateDown, migrateUp } from '../../src/migrate/runner.js';
import { snapshotOf } from '../../src/migrate/snapshot.js';
import { field } from '../../src/model/define.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/server.js';
import { dropAllTables, generate, model, rejection, schemaDrift, tempDir } from './helpers.js';

/**
 * Before each manyToMany had a join table of its own, `posts.editors` and `posts.watchers` → users
 * both used `posts_users`. That old state has exactly the tables of a model with `editors` alone, so
 * a first migration from that model stands for a database migrated by an older Kiln.
 */
const users = { fields: { name: field.string({ maxLength: 50 }) } };
const shared = { resources: { users, posts: { fields: { title: field.string({ maxLength: 100 }), editors: field.manyToMany('users') } } } };
const split = {
  resources: { users, posts: { fields: { title: field.string({ maxLength: 100 }), editors: field.manyToMany('users'), watchers: field.manyToMany('users') } } },
};

const summaries = (result: Awaited<ReturnType<typeof generate>>) => (result.written ? result.plan.steps.map((s) => s.summary) : []);

describe('generate: relations that shared a join table get a table each', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    tmp = tempDir();
    assert.ok((await generate(shared, tmp.dir)).written);
  });
  afterEach(() => tmp.remove());

  test('the shared table is not handed to one of them: dropping it is destructive and says why', async () => {
    const error = await rejection(() => generate(split, tmp.dir));
    assert.ok(error instanceof MigrateError);
    assert.equal(
      error.message,
      'the model change has destructive steps; nothing was written:\n' +
        '  - drop join table posts_users (manyToMany posts ↔ users): drops table posts_users and every link between posts and users; ' +
        'the new join tables posts_editors, posts_watchers start empty, because Kiln cannot tell which relation each link belonged to ' +
        '(to keep the links for one relation, set through: "posts_users" on it)\n' +
        'Review them, then run again with --allow-destructive to generate the migration (each step is marked in up.sql).',
    );
    assert.equal(listMigrations(tmp.dir).length, 1, 'nothing was written');
  });

  test('with --allow-destructive: both tables are created and the old one dropped, never renamed', async () => {
    const result = await generate(split, tmp.dir, { allowDestructive: true });
    assert.deepEqual(summaries(result), [
      'drop join table posts_users (manyToMany posts ↔ users)',
      'create join table posts_editors (manyToMany posts ↔ users)',
      'create join table posts_watchers (manyToMany posts ↔ users)',
    ]);
    assert.ok(result.written);
    assert.doesNotMatch(result.up, /RENAME/);
    assert.match(result.up, /DROP TABLE "posts_users";/);
    assert.match(result.up, /CONSTRAINT "posts_editors_users_id_fkey" FOREIGN KEY \("users_id"\) REFERENCES "users" \("id"\) ON DELETE CASCADE/);
    assert.match(result.up, /CONSTRAINT "posts_watchers_users_id_fkey" FOREIGN KEY \("users_id"\) REFERENCES "users" \("id"\) ON DELETE CASCADE/);
  });

  test('through: keeps the old table, with its links, for the relation that owned it', async () => {
    const kept = {
      resources: {
        users,
        posts: {
          fields: {
            title: field.string({ maxLength: 100 }),
            editors: field.manyToMany('users', { through: 'posts_users' }),
            watchers: field.manyToMany('users'),
          },
        },
      },
    };
    const result = await generate(kept, tmp.dir);
    assert.deepEqual(summaries(result), ['create join table posts_watchers (manyToMany posts ↔ users)']);
  });
});

describe('generate: a resource rename renames each of its join tables', () => {
  test('posts_editors and posts_watchers become articles_editors and articles_watchers', async () => {
    const tmp = tempDir();
    try {
      assert.ok((await generate(split, tmp.dir)).written);
      const renamed = {
        resources: {
          users,
          articles: {
            renamedFrom: 'posts',
            fields: { title: field.string({ maxLength: 100 }), editors: field.manyToMany('users'), watchers: field.manyToMany('users') },
          },
        },
      };
      const result = await generate(renamed, tmp.dir);
      const steps = summaries(result);
      assert.ok(steps.includes('rename join table: table posts_editors → articles_editors'), steps.join('\n'));
      assert.ok(steps.includes('rename join table: table posts_watchers → articles_watchers'), steps.join('\n'));
      assert.equal(steps.filter((s) => /^(drop|create) join table/.test(s)).length, 0, steps.join('\n'));
    } finally {
      tmp.remove();
    }
  });
});

for (const backend of BACKENDS) {
  describe(`migrating a shared join table to one table per relation (${backend})`, () => {
    let db: TestDatabase;
    let tmp: ReturnType<typeof tempDir>;
    beforeEach(async () => {
      db ??= await createTestDatabase(backend);
      tmp = tempDir();
    });
    afterEach(async () => {
      await dropAllTables(db);
      tmp.remove();
    });
    after(() => db.dispose());

    test('up creates the new tables, drops the old one and matches the snapshot; down restores it', async () => {
      assert.ok((await generate(shared, tmp.dir)).written);
      await migrateUp(db.db, tmp.dir);
      await db.db.query(`INSERT INTO "users" ("name") VALUES ('Ada'), ('Bob')`);
      await db.db.query(`INSERT INTO "posts" ("title") VALUES ('Notes')`);
      await db.db.query(`INSERT INTO "posts_users" ("posts_id", "users_id") VALUES (1, 1), (1, 2)`);
      const second = await generate(split, tmp.dir, { allowDestructive: true });
      assert.ok(second.written);
      assert.deepEqual((await migrateUp(db.db, tmp.dir)).applied, [second.name]);
      const tables = await db.db.query<{ name: string }>(`SELECT tablename AS "name" FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`);
      assert.deepEqual(
        tables.map((t) => t.name),
        ['kiln_migrations', 'posts', 'posts_editors', 'posts_watchers', 'users'],
      );
      for (const table of ['posts_editors', 'posts_watchers']) {
        assert.deepEqual(await db.db.query(`SELECT count(*)::int AS "n" FROM "${table}"`), [{ n: 0 }], `${table} starts empty`);
      }
      assert.deepEqual(await schemaDrift(db, snapshotOf(model(split))), [], 'the database is what the new model describes');
      await migrateDown(db.db, tmp.dir, 1);
      const restored = await db.db.query<{ name: string }>(`SELECT tablename AS "name" FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`);
      assert.deepEqual(
        restored.map((t) => t.name),
        ['kiln_migrations', 'posts', 'posts_users', 'users'],
      );
    });
  });
}
