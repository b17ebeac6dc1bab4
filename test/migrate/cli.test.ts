import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BACKENDS, createTestDatabase, TEST_CURSOR_SECRET, TEST_DATABASE_URL, type TestDatabase } from '../helpers/server.js';
import { kiln, tempDir } from './helpers.js';

const notes = (fields: object) => JSON.stringify({ resources: { notes: { fields } } });

describe('kiln migrate: commands and flags', () => {
  test('without a subcommand it prints the usage; an unknown one is a one-line error and the usage', async () => {
    const bare = await kiln(['migrate']);
    assert.equal(bare.code, 1);
    assert.match(bare.out, /^Usage: kiln migrate <command> \[options\]\n/);
    const unknown = await kiln(['migrate', 'sideways']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.err.split('\n')[0], 'kiln migrate: unknown command "sideways"');
    assert.match(unknown.err, /\n {2}generate {2}Write the next migration/);
  });

  test('flags are checked per subcommand', async () => {
    const port = await kiln(['migrate', 'up', '--port', '1']);
    assert.equal(port.code, 2);
    assert.equal(port.err.split('\n')[0], "kiln migrate up: Unknown option '--port'");
    const zero = await kiln(['migrate', 'down', '0']);
    assert.equal(zero.code, 2);
    assert.equal(zero.err.split('\n')[0], 'kiln migrate down: N must be a whole number of migrations, at least 1');
    const positional = await kiln(['migrate', 'status', 'extra']);
    assert.equal(positional.code, 2);
    assert.match(positional.err.split('\n')[0] ?? '', /^kiln migrate status: Unexpected argument 'extra'/);
    const help = await kiln(['migrate', 'generate', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: kiln migrate generate \[options\]\n/);
    assert.match(help.out, /--rename OLD=NEW/);
    assert.match((await kiln(['serve', '--help'])).out, /--migrate {15}apply pending migrations before serving/);
  });
});

for (const backend of BACKENDS) {
  describe(`kiln migrate from the command line (${backend})`, () => {
    let db: TestDatabase;
    let tmp: ReturnType<typeof tempDir>;
    let env: Record<string, string>;
    let modelPath: string;
    before(async () => {
      db = await createTestDatabase(backend);
      tmp = tempDir();
      modelPath = join(tmp.dir, 'model.json');
      env =
        backend === 'postgres'
          ? { DATABASE_URL: TEST_DATABASE_URL, KILN_DB_SCHEMA: db.schema, KILN_CURSOR_SECRET: TEST_CURSOR_SECRET }
          : { DATABASE_URL: '', KILN_DATA_DIR: join(tmp.dir, 'data') };
    });
    after(async () => {
      await db.dispose();
      tmp.remove();
    });

    test('generate → status → serve refuses → up → verify → change → down', async () => {
      const m = ['--model', modelPath];
      const migrations = relative(process.cwd(), join(tmp.dir, 'migrations'));
      writeFileSync(modelPath, notes({ text: { type: 'text' } }));
      const first = await kiln(['migrate', 'generate', ...m, '--name', 'create notes']);
      assert.equal(first.code, 0, first.err);
      const [name] = readdirSync(join(tmp.dir, 'migrations'));
      assert.match(name ?? '', /^\d{14}_create-notes$/);
      assert.equal(first.err.split('\n')[0], `kiln migrate generate: wrote ${migrations}/${name}/ (up.sql, down.sql, snapshot.json)`);
      assert.equal(first.err.split('\n')[1], '  create resource notes (table notes)');
      const again = await kiln(['migrate', 'generate', ...m]);
      assert.equal(again.err, `kiln migrate generate: nothing to generate; the model matches the last migration in ${migrations}\n`);

      const pending = await kiln(['migrate', 'status', ...m], env);
      assert.equal(pending.code, 0);
      assert.match(pending.out, new RegExp(`\\n {2}pending {27}${name}\\n1 pending: apply with "kiln migrate up"\\.\\n$`));
      const serve = await kiln(['serve', ...m, '--port', '0'], env);
      assert.equal(serve.code, 1);
      assert.equal(
        serve.err,
        `kiln serve: 1 migration is not applied to the database:\n  - ${name}\nApply them with "kiln migrate up" (or start with --migrate to apply them on start-up).\n`,
      );

      const up = await kiln(['migrate', 'up', ...m], env);
      assert.equal(up.code, 0, up.err);
      assert.equal(up.err, `kiln migrate up: applied ${name}\nkiln migrate up: applied 1 migration; the database is up to date\n`);
      const verify = await kiln(['migrate', 'verify', ...m], env);
      assert.equal(verify.out, 'kiln migrate verify: ok; 1 migration applied, the database matches the last snapshot and the model\n');
      assert.equal(verify.code, 0);

      writeFileSync(modelPath, notes({ body: { type: 'text', default: '' } }));
      const ungenerated = await kiln(['migrate', 'verify', ...m], env);
      assert.equal(ungenerated.code, 1);
      assert.equal(
        ungenerated.out,
        'kiln migrate verify: problems found\n' +
          '  model: drop field notes.text (no migration covers it; run "kiln migrate generate")\n' +
          '  model: add field notes.body (no migration covers it; run "kiln migrate generate")\n',
      );
      const ambiguous = await kiln(['migrate', 'generate', ...m]);
      assert.equal(ambiguous.code, 1);
      assert.match(
        ambiguous.err,
        /^kiln migrate generate: the model drops and adds names that may be renames, and Kiln will not guess:\n {2}- field notes\.text → body\?/,
      );
      const renamed = await kiln(['migrate', 'generate', ...m, '--rename', 'notes.text=body', '--name', 'rename text']);
      assert.equal(renamed.code, 0, renamed.err);
      assert.match(renamed.err, /\n {2}rename field notes\.text → body\n {2}alter field notes\.body: default none → ''\n/);
      const ahead = await kiln(['migrate', 'verify', ...m], env);
      assert.equal(ahead.code, 1);
      assert.match(ahead.out, /^kiln migrate verify: problems found\n {2}pending: \d{14}_rename-text is not applied \(run "kiln migrate up"\)\n$/);
      assert.equal((await kiln(['migrate', 'up', ...m], env)).code, 0);

      const down = await kiln(['migrate', 'down', '2', ...m], env);
      assert.equal(down.code, 0, down.err);
      assert.match(down.err, /^kiln migrate down: reverted \d{14}_rename-text\nkiln migrate down: reverted \d{14}_create-notes\n$/);
      const status = await kiln(['migrate', 'status', ...m], env);
      assert.match(status.out, /\n2 pending: apply with "kiln migrate up"\.\n$/);
    });
  });
}
