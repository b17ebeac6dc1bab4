import assert from 'node:assert/strict';
import { cpSync, readdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { MigrateError } from '../../src/migrate/errors.js';
import { isYes, terminalAsker } from '../../src/migrate/prompt.js';
import { AmbiguousRenamesError } from '../../src/migrate/renames.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { field } from '../../src/model/define.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/server.js';
import { generate, rejection, tempDir } from './helpers.js';

const v1 = {
  resources: {
    users: { fields: { name: field.string({ maxLength: 50 }) } },
    posts: { fields: { title: field.string({ maxLength: 100 }), status: field.enum(['draft', 'published'], { default: 'draft' }) } },
  },
};
const renamed = (posts: object, name = 'articles') => ({ resources: { users: v1.resources.users, [name]: posts } });
const v2 = renamed({ fields: { headline: field.string({ maxLength: 100 }), status: field.enum(['draft', 'live'], { default: 'draft' }) } });

describe('renames are never guessed', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    tmp = tempDir();
    await generate(v1, tmp.dir);
  });
  after(() => tmp.remove());

  test('without a terminal, an open pair stops generation and names the flag for each', async () => {
    const error = await rejection(() => generate(v2, tmp.dir));
    assert.ok(error instanceof AmbiguousRenamesError);
    assert.equal(
      error.message,
      'the model drops and adds names that may be renames, and Kiln will not guess:\n' +
        '  - resource posts → articles?   --rename posts=articles\n' +
        'Say which are renames with --rename (or renamedFrom: "…" in the model), or pass --no-renames if they are really a drop and an add. ' +
        'In a terminal, kiln migrate generate asks instead.',
    );
    assert.equal(readdirSync(tmp.dir).length, 1, 'nothing was written');
  });

  test('once the resource is settled, its fields and enum values are asked about too', async () => {
    const error = await rejection(() => generate(v2, tmp.dir, { renames: ['posts=articles'] }));
    assert.ok(error instanceof AmbiguousRenamesError);
    assert.deepEqual(
      error.message.split('\n').filter((l) => l.startsWith('  - ')),
      [
        '  - field articles.title → headline?   --rename articles.title=headline',
        '  - enum value articles.status "published" → "live"?   --rename articles.status:published=live',
      ],
    );
  });

  test('an injected answer function is asked each question once, in order', async () => {
    const asked: string[] = [];
    const answers = [true, false, true];
    const copy = tempDir();
    cpSync(tmp.dir, copy.dir, { recursive: true });
    const result = await generate(v2, copy.dir, {
      allowDestructive: true,
      ask: async (q) => {
        asked.push(q);
        return answers[asked.length - 1] ?? false;
      },
    });
    assert.deepEqual(asked, [
      'Was resource "posts" renamed to "articles"? (no: drop posts and create articles)',
      'articles: was field "title" renamed to "headline"? (no: drop title with its data and add headline)',
      'articles.status: was enum value "published" renamed to "live"? (no: remove "published" and add "live")',
    ]);
    assert.ok(result.written);
    assert.deepEqual(
      result.plan.steps.map((s) => s.summary),
      [
        'drop check posts_status_check (enum values change, added again below)',
        'rename resource posts → articles: table posts → articles',
        'rename primary key posts_pkey → articles_pkey',
        'drop field articles.title',
        'add field articles.headline',
        'rename enum value articles.status "published" → "live"',
        'enum articles.status: "published" → "live"',
      ],
    );
    assert.equal(result.plan.steps[3]?.destructive, 'drops column articles.title and its data');
    copy.remove();
  });

  test('--no-renames makes every pair a drop and an add, which then needs --allow-destructive', async () => {
    const error = await rejection(() => generate(v2, tmp.dir, { noRenames: true }));
    assert.ok(error instanceof MigrateError);
    assert.match(
      error.message,
      /^the model change has destructive steps; nothing was written:\n {2}- drop resource posts \(table posts\): drops table posts and every row in it\n/,
    );
    assert.match(error.message, /Review them, then run again with --allow-destructive/);
  });

  test('a --rename that matches nothing, or is malformed, is refused', async () => {
    const unknown = await rejection(() => generate(v2, tmp.dir, { renames: ['posts=stories'] }));
    assert.equal(unknown.message, '--rename posts=stories: the model has nothing that was dropped under the first name and added under the second');
    const malformed = await rejection(() => generate(v2, tmp.dir, { renames: ['posts.title'] }));
    assert.equal(malformed.message, '--rename posts.title: expected resource=newName, resource.field=newName or resource.field:oldValue=newValue');
  });

  test('the prompt only exists on a terminal, and takes y or yes', async () => {
    assert.equal(terminalAsker(Object.assign(new PassThrough(), { isTTY: false }), new PassThrough()), undefined);
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const output = new PassThrough();
    const ask = terminalAsker(input, output);
    assert.ok(ask);
    const answer = ask('Renamed?');
    input.write('yes\n');
    assert.equal(await answer, true);
    assert.equal(String(output.read()), 'Renamed? [y/N] ');
    assert.deepEqual(['y', 'Y', ' yes ', 'n', '', 'yep'].map(isYes), [true, true, true, false, false, false]);
  });
});

for (const backend of BACKENDS) {
  describe(`a rename keeps the data (${backend})`, () => {
    let db: TestDatabase;
    let tmp: ReturnType<typeof tempDir>;
    before(async () => {
      db = await createTestDatabase(backend);
      tmp = tempDir();
      await generate(v1, tmp.dir);
      await migrateUp(db.db, tmp.dir);
      await db.db.query(`INSERT INTO "posts" ("title", "status") VALUES ('Kept', 'published'), ('Draft', 'draft')`);
    });
    after(async () => {
      await db.dispose();
      tmp.remove();
    });

    test('renamedFrom in the model and --rename flags rename in place', async () => {
      const v2Hinted = renamed({
        renamedFrom: 'posts',
        fields: { headline: field.string({ maxLength: 100, renamedFrom: 'title' }), status: field.enum(['draft', 'live'], { default: 'draft' }) },
      });
      const result = await generate(v2Hinted, tmp.dir, { renames: ['articles.status:published=live'] });
      assert.ok(result.written);
      assert.equal(result.plan.steps.filter((s) => s.destructive).length, 0);
      await migrateUp(db.db, tmp.dir);
      assert.deepEqual(await db.db.query(`SELECT "headline", "status" FROM "articles" ORDER BY "id"`), [
        { headline: 'Kept', status: 'live' },
        { headline: 'Draft', status: 'draft' },
      ]);
    });
  });
}
