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
      ask: {
        confirm: async (q) => {
          asked.push(q);
          return answers[asked.length - 1] ?? false;
        },
        text: async () => assert.fail('no free-text question here'),
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
        'rename identity sequence posts_id_seq → articles_id_seq',
        'rename primary key posts_pkey → articles_pkey',
        'drop field articles.title',
        'add field articles.headline',
        'rename enum value articles.status "published" → "live"',
        'enum articles.status: "published" → "live"',
      ],
    );
    assert.equal(result.plan.steps[4]?.destructive, 'drops column articles.title and its data');
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
    const answer = ask.confirm('Renamed?');
    input.write('yes\n');
    assert.equal(await answer, true);
    assert.equal(String(output.read()), 'Renamed? [y/N] ');
    const text = ask.text('Value?');
    input.write('  lower(title) \n');
    assert.equal(await text, 'lower(title)');
    assert.equal(String(output.read()), 'Value? ');
    assert.deepEqual(['y', 'Y', ' yes ', 'n', '', 'yep'].map(isYes), [true, true, true, false, false, false]);
  });
});

describe('a renamedFrom hint that cannot apply stops generation', () => {
  const users = { fields: { name: field.string({ maxLength: 50 }) } };
  const tags = { fields: { label: field.text() } };
  const postFields = { title: field.string({ maxLength: 100 }), name: field.string({ maxLength: 100 }), author: field.belongsTo('users') };
  const base = { resources: { users, tags, posts: { fields: postFields } } };
  const withPosts = (fields: object) => ({ resources: { users, tags, posts: { fields } } });
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    tmp = tempDir();
    await generate(base, tmp.dir);
  });
  after(() => tmp.remove());

  /** The one problem line of the error, after checking the error says nothing was written. */
  async function problem(declaration: unknown, options: Parameters<typeof generate>[2] = {}): Promise<string> {
    const error = await rejection(() => generate(declaration, tmp.dir, options));
    assert.ok(error instanceof MigrateError);
    const [head, ...lines] = error.message.split('\n');
    assert.equal(head, 'a renamedFrom hint in the model cannot apply to this change; nothing was written:');
    assert.equal(lines.length, 1, error.message);
    assert.equal(readdirSync(tmp.dir).length, 1, 'nothing was written');
    return lines[0] as string;
  }

  test('onto a name the last snapshot still has: the hint is not dropped (the old field is not planned as a drop)', async () => {
    const declaration = withPosts({ title: field.string({ maxLength: 100, renamedFrom: 'name' }), author: postFields.author });
    assert.equal(
      await problem(declaration, { allowDestructive: true }),
      '  - resources.posts.fields.title.renamedFrom = "name": the last migration\'s snapshot has both "name" and "title" in posts, ' +
        'so "name" cannot take the name "title" in one migration. Remove renamedFrom to drop "name" instead, or rename in two migrations: ' +
        'first drop or rename the old "title" and generate, then rename "name" to "title"',
    );
  });

  test('from a field the last snapshot does not have', async () => {
    assert.equal(
      await problem(withPosts({ ...postFields, headline: field.text({ renamedFrom: 'titel' }) })),
      '  - resources.posts.fields.headline.renamedFrom = "titel": the last migration\'s snapshot has no field "titel" in posts ' +
        '(it has "title", "name", "author"); fix the name, or remove renamedFrom if "headline" is a new field',
    );
  });

  test('between a belongsTo relation and a plain field', async () => {
    assert.equal(
      await problem(withPosts({ title: postFields.title, name: postFields.name, authorName: field.integer({ renamedFrom: 'author' }) })),
      '  - resources.posts.fields.authorName.renamedFrom = "author": "author" was a belongsTo relation and "authorName" is a plain field: ' +
        'they are different columns, so one cannot be renamed to the other. Remove renamedFrom, and move the data in a migration you edit if it should be kept',
    );
    assert.match(
      await problem(withPosts({ title: postFields.title, author: postFields.author, writer: field.belongsTo('users', { renamedFrom: 'name' }) })),
      /^ {2}- resources\.posts\.fields\.writer\.renamedFrom = "name": "name" was a plain field and "writer" is a belongsTo relation:/,
    );
  });

  test('in a resource that is new in this change', async () => {
    const declaration = { resources: { users, posts: { fields: postFields }, labels: { fields: { text: field.text({ renamedFrom: 'label' }) } } } };
    assert.equal(
      await problem(declaration, { noRenames: true, allowDestructive: true }),
      '  - resources.labels.fields.text.renamedFrom = "label": resource "labels" is new in this migration (the last migration\'s snapshot has no ' +
        '"labels", and no rename to it was given), so its fields have no previous names; remove renamedFrom, or name the resource it was renamed from ' +
        '(renamedFrom on the resource, or --rename OLD=labels)',
    );
  });

  test('resource hints: no such resource, or onto a name still in use', async () => {
    assert.equal(
      await problem({ resources: { users, posts: { fields: postFields }, labels: { ...tags, renamedFrom: 'tag' } } }),
      '  - resources.labels.renamedFrom = "tag": the last migration\'s snapshot has no resource "tag" (it has "users", "tags", "posts"); ' +
        'fix the name, or remove renamedFrom if "labels" is a new resource',
    );
    assert.equal(
      await problem({ resources: { users: { ...users, renamedFrom: 'tags' }, posts: { fields: postFields } } }, { allowDestructive: true }),
      '  - resources.users.renamedFrom = "tags": the last migration\'s snapshot has both "tags" and "users", so "tags" cannot take the name "users" ' +
        'in one migration. Remove renamedFrom to drop "tags" instead, or rename in two migrations: first drop or rename the old "users" and generate, ' +
        'then rename "tags" to "users"',
    );
  });

  test('a hint and a flag, or two flags, that rename one name two ways are refused instead of one winning', async () => {
    const hinted = withPosts({ heading: field.string({ maxLength: 100, renamedFrom: 'title' }), author: postFields.author });
    const clash = await rejection(() => generate(hinted, tmp.dir, { renames: ['posts.name=heading'] }));
    assert.equal(
      clash.message,
      'two renames conflict: field posts.title → heading (resources.posts.fields.heading.renamedFrom) and field posts.name → heading ' +
        '(--rename posts.name=heading); only one name can become "heading". Keep the one you mean and remove the other.',
    );
    const twoWays = withPosts({ a: field.string({ maxLength: 100 }), b: field.string({ maxLength: 100 }), author: postFields.author });
    const flags = await rejection(() => generate(twoWays, tmp.dir, { renames: ['posts.title=a', 'posts.title=b'] }));
    assert.equal(
      flags.message,
      'two renames conflict: field posts.title → a (--rename posts.title=a) and field posts.title → b (--rename posts.title=b); ' +
        '"title" can become only one name. Keep the one you mean and remove the other.',
    );
    assert.equal(readdirSync(tmp.dir).length, 1, 'nothing was written');
  });

  test('a hint already carried out may stay in the model; the first migration ignores hints', async () => {
    const copy = tempDir();
    try {
      cpSync(tmp.dir, copy.dir, { recursive: true });
      const renamedPosts = {
        renamedFrom: 'posts',
        fields: { headline: field.string({ maxLength: 100, renamedFrom: 'title' }), name: postFields.name, author: postFields.author },
      };
      const renamed = await generate({ resources: { users, tags, articles: renamedPosts } }, copy.dir);
      assert.ok(renamed.written);
      const later = {
        resources: { users, tags, articles: { ...renamedPosts, fields: { ...renamedPosts.fields, slug: field.string({ maxLength: 100, nullable: true }) } } },
      };
      const next = await generate(later, copy.dir);
      assert.ok(next.written);
      assert.deepEqual(
        next.plan.steps.map((s) => s.summary),
        ['add field articles.slug'],
      );
      const fresh = tempDir();
      try {
        assert.ok((await generate(later, fresh.dir)).written, 'a first migration from a model that still carries hints');
      } finally {
        fresh.remove();
      }
    } finally {
      copy.remove();
    }
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
      // The table's identity sequence moved with it and carries on counting.
      const [row] = await db.db.query(
        `INSERT INTO "articles" ("headline") VALUES ('Next') RETURNING "id"::int AS "id", pg_get_serial_sequence('"articles"', 'id') AS "sequence"`,
      );
      assert.deepEqual({ ...row, sequence: String(row?.sequence).replace(/^.*\./, '') }, { id: 3, sequence: 'articles_id_seq' });
    });
  });
}
