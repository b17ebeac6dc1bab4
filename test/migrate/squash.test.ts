import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import { openDatabase } from '../../src/db/open.js';
import { BACKENDS, createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/server.js';
import { kiln, tempDir } from './helpers.js';

/** A statement on the database the CLI uses (for PGlite, its data folder), opened and closed around it. */
async function query(env: Record<string, string>, sql: string): Promise<unknown[]> {
  const db = await openDatabase(resolveSettings(env));
  try {
    return await db.query(sql);
  } finally {
    await db.close();
  }
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });
const notes = (fields: object) => JSON.stringify({ resources: { notes: { fields } } });

for (const backend of BACKENDS) {
  describe(`kiln migrate squash (${backend})`, () => {
    let db: TestDatabase;
    let tmp: ReturnType<typeof tempDir>;
    let env: Record<string, string>;
    before(async () => {
      db = await createTestDatabase(backend);
      tmp = tempDir();
      env =
        backend === 'postgres' ? { DATABASE_URL: TEST_DATABASE_URL, KILN_DB_SCHEMA: db.schema } : { DATABASE_URL: '', KILN_DATA_DIR: join(tmp.dir, 'data') };
    });
    after(async () => {
      await db.dispose();
      tmp.remove();
    });

    test('outside a git repository it refuses and says what to do instead', async () => {
      const model = join(tmp.dir, 'nogit', 'model.json');
      const migrations = join(tmp.dir, 'nogit', 'migrations');
      execFileSync('mkdir', ['-p', join(tmp.dir, 'nogit')]);
      writeFileSync(model, notes({ title: { type: 'text' } }));
      assert.equal((await kiln(['migrate', 'generate', '--model', model])).code, 0);
      const result = await kiln(['migrate', 'squash', '--model', model], env);
      assert.equal(result.code, 1);
      assert.equal(
        result.err,
        `kiln migrate squash: ${relative(process.cwd(), migrations)} is not in a git repository, so Kiln cannot tell which migrations are not committed yet. ` +
          'kiln migrate squash merges the migration folders that are not in the last commit; without git, revert the migrations you want to merge ' +
          'with "kiln migrate down N", delete their folders and run "kiln migrate generate".\n',
      );
    });

    test('a migration not committed that is older than a committed one is refused', async () => {
      const repo = join(tmp.dir, 'mixed');
      execFileSync('mkdir', ['-p', repo]);
      git(repo, 'init', '-q');
      git(repo, 'config', 'user.email', 'test@example.com');
      git(repo, 'config', 'user.name', 'Test');
      const model = join(repo, 'model.json');
      writeFileSync(model, notes({ title: { type: 'text' } }));
      assert.equal((await kiln(['migrate', 'generate', '--model', model])).code, 0);
      writeFileSync(model, notes({ title: { type: 'text' }, pinned: { type: 'boolean', default: false } }));
      assert.equal((await kiln(['migrate', 'generate', '--model', model])).code, 0);
      const [older, newer] = readdirSync(join(repo, 'migrations'));
      git(repo, 'add', join('migrations', newer as string));
      git(repo, 'commit', '-q', '-m', 'only the newer one');
      const result = await kiln(['migrate', 'squash', '--model', model], env);
      assert.equal(result.code, 1);
      assert.equal(
        result.err,
        `kiln migrate squash: ${older} is not committed but is older than the committed ${newer}; squash merges only the migrations after the last committed one. ` +
          `Delete it and run "kiln migrate generate" again, so that its change comes after ${newer}.\n`,
      );
    });

    test('merges the migrations of a dev session not yet committed into one, keeping the data, and verify passes', async () => {
      const repo = join(tmp.dir, 'repo');
      execFileSync('mkdir', ['-p', repo]);
      git(repo, 'init', '-q');
      git(repo, 'config', 'user.email', 'test@example.com');
      git(repo, 'config', 'user.name', 'Test');
      const model = join(repo, 'model.json');
      const dir = join(repo, 'migrations');
      const m = ['--model', model];
      const shown = relative(process.cwd(), dir);

      writeFileSync(model, notes({ title: { type: 'text' } }));
      assert.equal((await kiln(['migrate', 'generate', ...m])).code, 0);
      assert.equal((await kiln(['migrate', 'up', ...m], env)).code, 0);
      const [initial] = readdirSync(dir);
      const nothingYet = await kiln(['migrate', 'squash', ...m], env);
      assert.deepEqual([nothingYet.code, nothingYet.err], [0, `kiln migrate squash: nothing to squash in ${shown}: only ${initial} is not committed\n`]);
      git(repo, 'add', '.');
      git(repo, 'commit', '-q', '-m', 'initial');

      const committed = await kiln(['migrate', 'squash', ...m], env);
      assert.deepEqual([committed.code, committed.err], [0, `kiln migrate squash: nothing to squash in ${shown}: every migration is committed\n`]);

      // A dev session: two saves, each a migration, applied, with a row in between.
      writeFileSync(model, notes({ title: { type: 'text' }, pinned: { type: 'boolean', default: false } }));
      assert.equal((await kiln(['migrate', 'generate', ...m])).code, 0);
      assert.equal((await kiln(['migrate', 'up', ...m], env)).code, 0);
      const one = await kiln(['migrate', 'squash', ...m], env);
      const [second] = readdirSync(dir).filter((n) => n !== initial);
      assert.deepEqual([one.code, one.err], [0, `kiln migrate squash: nothing to squash in ${shown}: only ${second} is not committed\n`]);
      await query(env, `INSERT INTO "notes" ("title", "pinned") VALUES ('kept', true)`);
      writeFileSync(model, notes({ title: { type: 'text' }, pinned: { type: 'boolean', default: false }, rank: { type: 'integer', default: 0 } }));
      // The last save is not applied yet (say, kiln dev was stopped first): squash applies it before merging.
      assert.equal((await kiln(['migrate', 'generate', ...m])).code, 0);
      const [, third] = readdirSync(dir).filter((n) => n !== initial);

      const squashed = await kiln(['migrate', 'squash', ...m, '--name', 'notes pinned and rank'], env);
      assert.equal(squashed.code, 0, squashed.err);
      const folders = readdirSync(dir);
      assert.equal(folders.length, 2);
      assert.equal(folders[0], initial);
      const merged = folders[1] as string;
      assert.match(merged, /^\d{14}_notes-pinned-and-rank$/);
      assert.equal(
        squashed.err,
        `kiln migrate squash: applied ${third}\n` +
          `kiln migrate squash: merged the 2 migrations not committed to git into ${shown}/${merged}/:\n` +
          `  ${second}\n  ${third}\n` +
          `The database had them applied; it now records ${merged} in their place (no table changed).\n` +
          'Review up.sql, then commit the folder.\n',
      );
      const up = readFileSync(join(dir, merged, 'up.sql'), 'utf8');
      assert.ok(up.indexOf(`-- ===== ${second} =====`) < up.indexOf(`-- ===== ${third} =====`), up);
      assert.match(up, /ADD COLUMN "pinned" boolean NOT NULL DEFAULT FALSE;[\s\S]*ADD COLUMN "rank" integer NOT NULL DEFAULT 0;/);
      const down = readFileSync(join(dir, merged, 'down.sql'), 'utf8');
      assert.ok(down.indexOf(`-- ===== ${third} =====`) < down.indexOf(`-- ===== ${second} =====`), down);

      const verify = await kiln(['migrate', 'verify', ...m], env);
      assert.equal(verify.out, 'kiln migrate verify: ok; 2 migrations applied, the database matches the last snapshot and the model\n');
      assert.deepEqual(await query(env, `SELECT "title", "pinned", "rank" FROM "notes"`), [{ title: 'kept', pinned: true, rank: 0 }]);

      // The merged migration goes down and up again like any other.
      assert.equal((await kiln(['migrate', 'down', ...m], env)).code, 0);
      assert.equal((await kiln(['migrate', 'up', ...m], env)).code, 0);
      assert.equal((await kiln(['migrate', 'verify', ...m], env)).code, 0);
    });
  });
}
