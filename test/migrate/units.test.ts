import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { castPlan } from '../../src/migrate/cast.js';
import { checksumOf, migrationName, slugify } from '../../src/migrate/files.js';
import { renameHints } from '../../src/migrate/rename-hints.js';
import { parseSnapshot, sameSnapshot, snapshotOf } from '../../src/migrate/snapshot.js';
import { splitStatements } from '../../src/migrate/split.js';
import { compileModel } from '../../src/model/compile.js';
import { field } from '../../src/model/define.js';
import { model } from './helpers.js';

describe('splitting a migration file into statements', () => {
  test('semicolons end statements only outside strings, names, comments and dollar quotes', () => {
    const sql = [
      '-- header comment; not a statement',
      "INSERT INTO t VALUES ('a;b', 'it''s; fine');",
      'SELECT "odd;name" FROM t; /* block; /* nested; */ still; */ SELECT 2;',
      "SELECT E'back\\'slash;';",
      'DO $body$ BEGIN PERFORM 1; END $body$;',
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;',
      '-- trailing comment only',
    ].join('\n');
    assert.deepEqual(splitStatements(sql), [
      "INSERT INTO t VALUES ('a;b', 'it''s; fine')",
      'SELECT "odd;name" FROM t',
      '/* block; /* nested; */ still; */ SELECT 2',
      "SELECT E'back\\'slash;'",
      'DO $body$ BEGIN PERFORM 1; END $body$',
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql',
    ]);
  });

  test('a file of comments has no statements; a last statement needs no semicolon', () => {
    assert.deepEqual(splitStatements('-- nothing\n/* at all */\n'), []);
    assert.deepEqual(splitStatements('SELECT 1;\nSELECT $1'), ['SELECT 1', 'SELECT $1']);
  });
});

describe('type changes', () => {
  const cases: [string, string, string][] = [
    ['integer', 'bigint', 'safe'],
    ['integer', 'numeric(12, 2)', 'safe'],
    ['integer', 'numeric(9, 2)', 'narrowing'],
    ['bigint', 'integer', 'narrowing'],
    ['numeric(10, 2)', 'numeric(12, 3)', 'safe'],
    ['numeric(10, 2)', 'numeric(10, 3)', 'narrowing'],
    ['double precision', 'integer', 'narrowing'],
    ['varchar(100)', 'varchar(200)', 'safe'],
    ['varchar(200)', 'varchar(100)', 'narrowing'],
    ['text', 'varchar(10)', 'narrowing'],
    ['uuid', 'varchar(36)', 'safe'],
    ['integer', 'text', 'safe'],
    ['text', 'integer', 'narrowing'],
    ['date', 'timestamptz(3)', 'safe'],
    ['timestamptz(3)', 'date', 'narrowing'],
    ['boolean', 'integer', 'safe'],
    ['integer', 'boolean', 'narrowing'],
    ['text', 'jsonb', 'safe'],
    ['jsonb', 'text', 'safe'],
    ['jsonb', 'integer', 'narrowing'],
    ['boolean', 'date', 'impossible'],
    ['uuid', 'bigint', 'impossible'],
    ['bigint', 'uuid', 'impossible'],
  ];
  for (const [from, to, kind] of cases) {
    test(`${from} → ${to} is ${kind}`, () => assert.equal(castPlan('c', from, to).kind, kind));
  }

  test('the USING clause converts where no assignment cast exists, and never truncates text', () => {
    assert.deepEqual(castPlan('c', 'text', 'integer'), {
      kind: 'narrowing',
      risk: 'text that is not a valid integer makes the migration fail',
      using: '"c"::integer',
    });
    assert.deepEqual(castPlan('c', 'integer', 'jsonb'), { kind: 'safe', using: 'to_jsonb("c")' });
    assert.deepEqual(castPlan('c', 'jsonb', 'text'), { kind: 'safe', using: `"c" #>> '{}'` });
    assert.deepEqual(castPlan('c', 'text', 'varchar(10)'), { kind: 'narrowing', risk: 'values longer than 10 characters make the migration fail' });
    assert.deepEqual(castPlan('c', 'boolean', 'date'), { kind: 'impossible', why: 'there is no safe conversion from boolean to date' });
  });
});

describe('migration folders and snapshots', () => {
  test('names sort in generation order, even within one second', () => {
    const now = new Date('2025-03-04T05:06:07.890Z');
    assert.equal(migrationName(now, 'Add post slug!', []), '20250304050607_add-post-slug');
    assert.equal(migrationName(now, 'next', ['20250304050607_add-post-slug']), '20250304050608_next');
    assert.equal(migrationName(now, 'x', ['20250304235959_later']), '20250305000000_x');
    assert.equal(slugify('alter field users.passwordHash: etc'), 'alter-field-users-password-hash-etc');
    assert.equal(slugify('!!!'), 'migration');
  });

  test('checksums ignore line endings and cover the snapshot', () => {
    assert.equal(checksumOf('a\r\nb', '{}'), checksumOf('a\nb', '{}'));
    assert.notEqual(checksumOf('a', '{}'), checksumOf('a', '{ }'));
    assert.match(checksumOf('a', '{}'), /^sha256:[0-9a-f]{64}$/);
  });

  test('a snapshot file is checked before it is trusted', () => {
    assert.throws(() => parseSnapshot('{', 'x/snapshot.json'), /^SnapshotError: x\/snapshot\.json: is not valid JSON/);
    assert.throws(() => parseSnapshot('{"format":2,"tables":[]}', 'x'), { message: 'x: is not a Kiln model snapshot (format 1)' });
    assert.throws(() => parseSnapshot('{"format":1,"tables":[{"name":"t"}]}', 'x'), {
      message: 'x: tables[0] is missing name, columns, primaryKey, checks, uniques, indexes or foreignKeys',
    });
  });

  test('moving fields or resources around changes no snapshot', () => {
    const a = model({ resources: { a: { fields: { x: field.integer(), y: field.text() } }, b: { fields: { z: field.text() } } } });
    const b = model({ resources: { b: { fields: { z: field.text() } }, a: { fields: { y: field.text(), x: field.integer() } } } });
    assert.equal(sameSnapshot(snapshotOf(a), snapshotOf(b)), true);
  });
});

describe('renamedFrom in the model', () => {
  test('hints come from resources, fields and belongsTo relations (their key field)', () => {
    const hints = renameHints({
      resources: {
        articles: {
          renamedFrom: 'posts',
          fields: { headline: { type: 'string', renamedFrom: 'title' }, writer: { type: 'belongsTo', renamedFrom: 'author' } },
        },
      },
    });
    assert.deepEqual([...hints.resources], [['articles', { path: 'resources.articles.renamedFrom', declared: 'posts', from: 'posts' }]]);
    assert.deepEqual(
      [...hints.fields],
      [
        ['articles.headline', { path: 'resources.articles.fields.headline.renamedFrom', declared: 'title', from: 'title' }],
        ['articles.writerId', { path: 'resources.articles.fields.writer.renamedFrom', declared: 'author', from: 'authorId' }],
      ],
    );
  });

  test('the model compiler checks renamedFrom', () => {
    const result = compileModel({
      resources: {
        posts: { renamedFrom: 'posts', fields: { title: { type: 'string', renamedFrom: 'body' }, body: { type: 'text', renamedFrom: 'a b' } } },
      },
    });
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.problems.map((p) => [p.path, p.message]), [
      ['resources.posts.renamedFrom', '"posts" is still a name in this model, so it cannot be the previous name'],
      ['resources.posts.fields.title.renamedFrom', '"body" is still a name in this model, so it cannot be the previous name'],
      ['resources.posts.fields.body.renamedFrom', 'renamedFrom must be the previous name (letters and digits, starting with a letter), not "a b"'],
    ]);
  });
});
