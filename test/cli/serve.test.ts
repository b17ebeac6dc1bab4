import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { resolveSettings } from '../../src/config/settings.js';
import type { Database } from '../../src/db/database.js';
import { openPglite } from '../../src/db/pglite.js';
import { ensureSchema, SchemaMismatchError } from '../../src/migrate/ensure-schema.js';
import { startKiln } from '../../src/start.js';
import { BLOG_MODEL_PATH, blogModel } from '../helpers/blog.js';
import { BACKENDS, createTestDatabase, TEST_CURSOR_SECRET, TEST_DATABASE_URL, type TestDatabase } from '../helpers/server.js';

async function runCli(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  console.log = (...args: unknown[]) => out.push(args.join(' '));
  console.error = (...args: unknown[]) => err.push(args.join(' '));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A `tags` table made by hand that disagrees with the blog model's `tags`. */
const CONFLICTING_TAGS = 'CREATE TABLE tags (id bigint PRIMARY KEY, name integer, extra text)';

/** Tables of the model's schema, leaving out Kiln's own bookkeeping (kiln_*). */
const TABLES = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name NOT LIKE 'kiln\\_%' ORDER BY table_name`;

for (const backend of BACKENDS) {
  describe(`start-up on a database that disagrees with the model (${backend})`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    after(async () => {
      for (const fn of cleanup) await fn();
    });

    /** A database holding the conflicting table, and the environment that points `kiln serve` at it. */
    async function conflictingDatabase(): Promise<{
      db: Database;
      schema: string;
      env: Record<string, string>;
      release(): Promise<void>;
      reopen(): Promise<void>;
    }> {
      if (backend === 'postgres') {
        const test: TestDatabase = await createTestDatabase('postgres');
        cleanup.push(() => test.dispose());
        await test.db.query(CONFLICTING_TAGS);
        return {
          db: test.db,
          schema: test.schema,
          env: { DATABASE_URL: TEST_DATABASE_URL, KILN_DB_SCHEMA: test.schema, KILN_DATA_DIR: '', KILN_CURSOR_SECRET: TEST_CURSOR_SECRET },
          release: async () => {},
          reopen: async () => {},
        };
      }
      const dir = mkdtempSync(join(tmpdir(), 'kiln-serve-'));
      cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
      let db = await openPglite(dir);
      await db.query(CONFLICTING_TAGS);
      return {
        get db() {
          return db;
        },
        schema: 'public',
        env: { DATABASE_URL: '', KILN_DB_SCHEMA: '', KILN_DATA_DIR: dir },
        // PGlite allows one open instance per directory: let go of it while the CLI uses it.
        release: () => db.close(),
        reopen: async () => {
          db = await openPglite(dir);
          cleanup.push(() => db.close());
        },
      };
    }

    test('startKiln refuses with SchemaMismatchError listing every difference, and creates nothing', async () => {
      const target = await conflictingDatabase();
      const settings = { ...resolveSettings({}), host: '127.0.0.1', port: 0, dbSchema: target.schema };
      const error = await startKiln({ model: await blogModel(), settings, db: target.db }).then(
        () => assert.fail('started on a mismatching schema'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof SchemaMismatchError);
      // Columns, identity, types, nullability and constraints: the comparison `kiln migrate verify` makes.
      assert.deepEqual(error.differences, [
        'column "tags.created_at" is missing from the database',
        'column "tags.updated_at" is missing from the database',
        'column "tags.id" is not an identity column in the database',
        'column "tags.name" is integer in the database, character varying(50) in the model',
        'column "tags.name" is nullable in the database, NOT NULL in the model',
        'column "tags.extra" (text) is in the database but not in the model',
        'constraint "tags_name_key" on "tags" is missing from the database (UNIQUE (name))',
      ]);
      assert.match(error.message, /^the database does not match the model:\n {2}- column "tags\.created_at" is missing/);
      assert.match(error.message, /Kiln will not start on a schema that disagrees with the model/);
      assert.deepEqual(await target.db.query(TABLES), [{ table_name: 'tags' }], 'no other table was created');
      await target.release();
    });

    test('a second start on the schema it created passes; a relation changed by hand is refused', async () => {
      const test_ = await createTestDatabase(backend);
      cleanup.push(() => test_.dispose());
      const model = await blogModel();
      assert.deepEqual((await ensureSchema(test_.db, model, test_.schema)).created.sort(), ['comments', 'posts', 'posts_tags', 'tags', 'users']);
      assert.deepEqual((await ensureSchema(test_.db, model, test_.schema)).created, []);
      await test_.db.query('ALTER TABLE posts DROP CONSTRAINT posts_author_id_fkey');
      await test_.db.query('ALTER TABLE posts ADD CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE RESTRICT');
      await test_.db.query('DROP INDEX posts_author_id_idx');
      const error = await ensureSchema(test_.db, model, test_.schema).then(
        () => assert.fail('accepted a changed relation'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof SchemaMismatchError);
      assert.deepEqual(error.differences, [
        'constraint "posts_author_id_fkey" on "posts" is FOREIGN KEY (author_id) REFERENCES users(id) ON DELETE RESTRICT in the database, FOREIGN KEY (author_id) REFERENCES users(id) ON DELETE CASCADE in the model',
        'index "posts_author_id_idx" on "posts" is missing from the database (CREATE INDEX posts_author_id_idx ON posts USING btree (author_id))',
      ]);
    });

    test('kiln serve refuses to start, exits 1 and says why in one message', async () => {
      const target = await conflictingDatabase();
      await target.release();
      for (const argv of [
        ['serve', '--model', BLOG_MODEL_PATH],
        ['serve', '--migrate', '--model', BLOG_MODEL_PATH],
      ]) {
        const { code, out, err } = await runCli(argv, { ...target.env, HOST: '127.0.0.1', PORT: '0' });
        assert.equal(code, 1, argv.join(' '));
        assert.equal(out, '');
        assert.match(err, /^kiln serve: /);
        assert.doesNotMatch(err, /Kiln is serving|\n\s+at /, 'it never listened, and prints no stack');
      }
      const { err } = await runCli(['serve', '--migrate', '--model', BLOG_MODEL_PATH], { ...target.env, HOST: '127.0.0.1', PORT: '0' });
      assert.match(err, /table "tags" is in the database but not in the snapshot/);
      await target.reopen();
      assert.deepEqual(await target.db.query(TABLES), [{ table_name: 'tags' }], 'nothing was applied');
    });
  });
}

describe('kiln serve with invalid settings', () => {
  test('exits 1 naming every bad variable, before opening any database', async () => {
    const { code, out, err } = await runCli(['serve', '--model', BLOG_MODEL_PATH], {
      PORT: 'abc',
      KILN_LOG_LEVEL: 'loud',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.equal(
      err,
      'kiln serve: invalid configuration:\n  - PORT: "abc" is not a whole number\n  - KILN_LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent',
    );
  });

  test('a missing model file exits 1 with the path and what to do', async () => {
    const { code, err } = await runCli(['serve', '--model', 'nowhere/kiln.config.ts'], { DATABASE_URL: '', KILN_DATA_DIR: 'memory' });
    assert.equal(code, 1);
    assert.match(
      err,
      /^kiln serve: \/\S+\/nowhere\/kiln\.config\.ts: the model has 1 problem:\n {2}- \(file\): the file does not exist\n {4}fix: check the path$/,
    );
  });
});
