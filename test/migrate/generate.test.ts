import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { MigrateError } from '../../src/migrate/errors.js';
import { IRREVERSIBLE_MARK } from '../../src/migrate/render.js';
import { field } from '../../src/model/define.js';
import { generate, rejection, tempDir } from './helpers.js';

const books = (fields: object) => ({
  resources: {
    books: {
      fields: {
        title: field.string({ maxLength: 100 }),
        genre: field.enum(['fiction', 'science'], { default: 'fiction' }),
        ...fields,
      },
    },
  },
});
const v1 = books({ inPrint: field.boolean({ default: false }), pages: field.integer({ nullable: true }) });

describe('generate refuses what it cannot do safely, and writes nothing', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    tmp = tempDir();
    assert.ok((await generate(v1, tmp.dir)).written);
  });
  afterEach(() => tmp.remove());

  const onlyTheFirstMigration = () => assert.equal(readdirSync(tmp.dir).length, 1, 'no migration folder was written');

  test('a type change without a safe conversion (boolean → date) is refused with its explanation', async () => {
    const error = await rejection(() => generate(books({ inPrint: field.date({ nullable: true }), pages: field.integer({ nullable: true }) }), tmp.dir));
    assert.ok(error instanceof MigrateError);
    assert.equal(
      error.message,
      'the model change cannot be migrated safely:\n' +
        '  - books.inPrint: cannot change the type from boolean to date: there is no safe conversion from boolean to date. Keep the type, ' +
        'or replace the field in two steps (add a new field and copy the data in a migration you edit, then drop the old one; see docs/how-to/migrations.md).',
    );
    onlyTheFirstMigration();
    const destructive = await rejection(() =>
      generate(books({ inPrint: field.date({ nullable: true }), pages: field.integer({ nullable: true }) }), tmp.dir, { allowDestructive: true }),
    );
    assert.match(destructive.message, /^the model change cannot be migrated safely:/, '--allow-destructive does not make it possible');
    onlyTheFirstMigration();
  });

  test('a required field without a default is refused, saying how to fix it', async () => {
    const v2 = books({ inPrint: field.boolean({ default: false }), pages: field.integer({ nullable: true }), isbn: field.string({ maxLength: 20 }) });
    const error = await rejection(() => generate(v2, tmp.dir));
    assert.equal(
      error.message,
      'the model change has destructive steps; nothing was written:\n' +
        '  - add field books.isbn: fails if books has rows: books.isbn is NOT NULL without a default; ' +
        'give the field a default or pass --backfill books.isbn=<SQL expression>\n' +
        'Review them, then run again with --allow-destructive to generate the migration (each step is marked in up.sql).',
    );
    onlyTheFirstMigration();
    const filled = await generate(v2, tmp.dir, { backfill: ["books.isbn='unknown'"] });
    assert.ok(filled.written);
    assert.match(filled.up, /UPDATE "books" SET "isbn" = 'unknown';\nALTER TABLE "books" ALTER COLUMN "isbn" SET NOT NULL;/);
  });

  test('a nullable field made required without a default is refused, saying how to fix it', async () => {
    const v2 = books({ inPrint: field.boolean({ default: false }), pages: field.integer() });
    const error = await rejection(() => generate(v2, tmp.dir));
    assert.equal(
      error.message,
      'the model change has destructive steps; nothing was written:\n' +
        '  - alter field books.pages: NOT NULL: fails if a row of books holds NULL in pages: ' +
        'give the field a default or pass --backfill books.pages=<SQL expression>\n' +
        'Review them, then run again with --allow-destructive to generate the migration (each step is marked in up.sql).',
    );
    onlyTheFirstMigration();
    const filled = await generate(v2, tmp.dir, { backfill: ['books.pages=0'] });
    assert.ok(filled.written);
    assert.match(filled.up, /UPDATE "books" SET "pages" = 0 WHERE "pages" IS NULL;\nALTER TABLE "books" ALTER COLUMN "pages" SET NOT NULL;/);
  });

  test('--backfill for a field that is not added or made required, or malformed, is refused', async () => {
    const v2 = books({ inPrint: field.boolean({ default: false }), pages: field.integer() });
    const unused = await rejection(() => generate(v2, tmp.dir, { backfill: ['books.pages=0', 'books.title=upper(title)', 'films.pages=1'] }));
    assert.equal(unused.message, '--backfill books.title, films.pages: no field by that name is added or becomes NOT NULL in this change');
    const malformed = await rejection(() => generate(v2, tmp.dir, { backfill: ['books.pages'] }));
    assert.equal(malformed.message, '--backfill books.pages: expected resource.field=<SQL expression>, e.g. --backfill "posts.slug=lower(title)"');
    const noField = await rejection(() => generate(v2, tmp.dir, { backfill: ['pages=0'] }));
    assert.match(noField.message, /^--backfill pages=0: expected resource\.field=<SQL expression>/);
    onlyTheFirstMigration();
  });
});

describe('down.sql keeps every step it can undo', () => {
  test('boolean → float: down.sql is marked irreversible, keeps the reversible steps, and explains the one it cannot undo', async () => {
    const tmp = tempDir();
    try {
      await generate(v1, tmp.dir);
      const v2 = books({
        title: field.string({ maxLength: 100, index: true }),
        genre: field.enum(['fiction', 'science', 'poetry'], { default: 'fiction' }),
        inPrint: field.float({ default: 0 }),
        pages: field.integer({ nullable: true }),
      });
      const result = await generate(v2, tmp.dir);
      assert.ok(result.written);
      assert.match(result.up, /ALTER TABLE "books" ALTER COLUMN "in_print" TYPE double precision USING "in_print"::integer;/);
      assert.ok(!result.up.includes(IRREVERSIBLE_MARK), 'up.sql is never marked');
      const lines = result.down.split('\n');
      assert.equal(lines[0], IRREVERSIBLE_MARK, 'the first line is the mark `kiln migrate down` looks for');
      for (const reversible of [
        'DROP INDEX "books_title_idx";',
        'ALTER TABLE "books" DROP CONSTRAINT "books_genre_check";',
        `ALTER TABLE "books" ADD CONSTRAINT "books_genre_check" CHECK ("genre" IN ('fiction', 'science'));`,
      ]) {
        assert.ok(lines.includes(reversible), `down.sql keeps ${reversible}`);
      }
      const at = lines.indexOf('-- CANNOT UNDO: alter field books.inPrint: type double precision → boolean, default 0 → FALSE');
      assert.ok(at > 0, result.down);
      assert.deepEqual(lines.slice(at + 1, at + 6), [
        '-- Kiln cannot undo this step: there is no safe conversion from double precision to boolean.',
        '-- Write the statements here, with a conversion you choose, for example:',
        '--   ALTER TABLE "books" ALTER COLUMN "in_print" DROP DEFAULT;',
        '--   ALTER TABLE "books" ALTER COLUMN "in_print" TYPE boolean USING <your conversion of "in_print">;',
        '--   ALTER TABLE "books" ALTER COLUMN "in_print" SET DEFAULT FALSE;',
      ]);
      assert.ok(lines.includes('--   CANNOT UNDO alter field books.inPrint: type double precision → boolean, default 0 → FALSE'), 'listed in the header');
      assert.equal(lines.filter((l) => !l.startsWith('--') && /in_print/.test(l)).length, 0, 'no statement touches the column');
    } finally {
      tmp.remove();
    }
  });
});
