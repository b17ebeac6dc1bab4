import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileModel } from '../../src/model/compile.js';
import { field } from '../../src/model/define.js';
import type { Model } from '../../src/model/ir.js';

function problemsOf(declaration: unknown): { path: string; message: string; hint: string }[] {
  const result = compileModel(declaration);
  assert.equal(result.ok, false, 'expected the model to be rejected');
  return result.ok ? [] : [...result.problems];
}

function compiled(declaration: unknown): Model {
  const result = compileModel(declaration);
  if (!result.ok) assert.fail(`expected a valid model, got: ${JSON.stringify(result.problems, null, 2)}`);
  return result.model;
}

const paths = (declaration: unknown) => problemsOf(declaration).map((p) => p.path);

describe('compileModel: valid models', () => {
  const model = compiled({
    resources: {
      users: { fields: { email: field.string({ format: 'email', unique: true }), bio: field.text({ nullable: true }) } },
      posts: {
        fields: {
          title: field.string({ maxLength: 200 }),
          status: field.enum(['draft', 'published'], { default: 'draft', index: true }),
          author: field.belongsTo('users', { onDelete: 'cascade' }),
          tags: field.manyToMany('tags'),
        },
        unique: [['authorId', 'title']],
        indexes: [{ fields: ['status', 'createdAt'] }],
      },
      tags: { id: 'uuid', fields: { name: field.string(), posts: field.manyToMany('posts') } },
    },
  });

  test('adds id first and timestamps last, with snake_case columns', () => {
    const posts = model.resourcesByName.get('posts');
    assert.deepEqual(
      posts?.fields.map((f) => [f.name, f.column, f.role]),
      [
        ['id', 'id', 'id'],
        ['title', 'title', 'data'],
        ['status', 'status', 'data'],
        ['authorId', 'author_id', 'foreignKey'],
        ['createdAt', 'created_at', 'createdAt'],
        ['updatedAt', 'updated_at', 'updatedAt'],
      ],
    );
  });

  test('derives required from nullability and defaults', () => {
    const users = model.resourcesByName.get('users');
    const posts = model.resourcesByName.get('posts');
    assert.equal(users?.fieldsByName.get('email')?.required, true);
    assert.equal(users?.fieldsByName.get('bio')?.required, false);
    assert.equal(posts?.fieldsByName.get('status')?.required, false);
    assert.equal(posts?.fieldsByName.get('authorId')?.required, true);
    assert.equal(posts?.fieldsByName.get('id')?.readOnly, true);
  });

  test('names constraints and indexes after the table and columns', () => {
    const posts = model.resourcesByName.get('posts');
    assert.deepEqual(posts?.uniques, [{ name: 'posts_author_id_title_key', fields: ['authorId', 'title'] }]);
    assert.deepEqual(
      posts?.indexes.map((i) => i.name),
      ['posts_status_idx', 'posts_author_id_idx', 'posts_status_created_at_idx'],
    );
    assert.equal(posts?.relationsByName.get('author')?.kind, 'belongsTo');
  });

  test('a manyToMany declared on both sides shares one join table', () => {
    assert.equal(model.joinTables.length, 1);
    assert.equal(model.joinTables[0]?.name, 'posts_tags');
    const tagsRel = model.resourcesByName.get('posts')?.relationsByName.get('tags');
    assert.deepEqual(tagsRel && { ...tagsRel }, {
      kind: 'manyToMany',
      name: 'tags',
      target: 'tags',
      joinTable: 'posts_tags',
      sourceColumn: 'posts_id',
      targetColumn: 'tags_id',
      description: undefined,
    });
    assert.equal(model.resourcesByName.get('tags')?.fieldsByName.get('id')?.type, 'uuid');
  });

  test('infers the inverse of hasMany and honours an explicit one', () => {
    const m = compiled({
      resources: {
        users: { fields: { written: field.hasMany('posts', { inverse: 'author' }), reviewed: field.hasMany('posts', { inverse: 'reviewer' }) } },
        posts: { fields: { author: field.belongsTo('users'), reviewer: field.belongsTo('users', { nullable: true, onDelete: 'setNull' }) } },
      },
    });
    const rel = m.resourcesByName.get('users')?.relationsByName.get('reviewed');
    assert.equal(rel?.kind === 'hasMany' && rel.foreignKey, 'reviewerId');
  });

  test('the model is frozen', () => {
    const users = model.resourcesByName.get('users');
    assert.throws(() => {
      (users as { name: string }).name = 'x';
    }, TypeError);
    assert.ok(Object.isFrozen(users?.fields[0]));
  });

  test('path and table are kebab-case and snake_case of the resource name', () => {
    const m = compiled({ resources: { blogPosts: { fields: { title: field.string() } } } });
    assert.equal(m.resourcesByName.get('blogPosts')?.path, 'blog-posts');
    assert.equal(m.resourcesByName.get('blogPosts')?.table, 'blog_posts');
  });
});

describe('compileModel: every problem is reported with its path and a fix', () => {
  test('the top level must hold resources', () => {
    assert.deepEqual(paths(null), ['resources']);
    assert.deepEqual(paths({ resources: {} }), ['resources']);
    assert.deepEqual(paths({ resources: { a: { fields: { x: field.string() } } }, extra: 1 }), ['extra']);
  });

  test('all problems of a model come back at once', () => {
    const problems = problemsOf({
      resources: {
        posts: {
          fields: {
            title: { type: 'strnig' },
            author: { type: 'belongsTo', target: 'people' },
            limit: field.integer(),
            status: field.enum(['a', 'b'], { default: 'c' }),
          },
        },
      },
    });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['resources.posts.fields.title.type', 'resources.posts.fields.author.target', 'resources.posts.fields.limit', 'resources.posts.fields.status.default'],
    );
    assert.match(problems[0]?.message ?? '', /unknown type "strnig"/);
    assert.match(problems[0]?.hint ?? '', /string, text, integer/);
    assert.match(problems[1]?.message ?? '', /missing resource "people"/);
    assert.match(problems[1]?.hint ?? '', /use one of: posts/);
    assert.match(problems[2]?.message ?? '', /reserved/);
    assert.match(problems[3]?.message ?? '', /does not fit an enum field/);
  });

  const cases: [string, unknown, string, RegExp][] = [
    ['bad resource name', { resources: { 'my-posts': { fields: { a: field.string() } } } }, 'resources.my-posts', /not a valid resource name/],
    ['missing fields', { resources: { posts: {} } }, 'resources.posts.fields', /needs a "fields" object/],
    [
      'unknown resource option',
      { resources: { posts: { fields: { a: field.string() }, primary: 'x' } } },
      'resources.posts.primary',
      /unknown resource option/,
    ],
    ['bad id type', { resources: { posts: { id: 'serial', fields: { a: field.string() } } } }, 'resources.posts.id', /unknown id type/],
    ['bad table name', { resources: { posts: { table: 'Posts!', fields: { a: field.string() } } } }, 'resources.posts.table', /not a valid table name/],
    ['bad path', { resources: { posts: { path: 'Posts', fields: { a: field.string() } } } }, 'resources.posts.path', /not a valid URL segment/],
    ['bad field name', { resources: { posts: { fields: { 'a-b': field.string() } } } }, 'resources.posts.fields.a-b', /not a valid field name/],
    ['missing type', { resources: { posts: { fields: { a: {} } } } }, 'resources.posts.fields.a.type', /needs a "type"/],
    [
      'unknown option',
      { resources: { posts: { fields: { a: { type: 'string', maxLen: 3 } } } } },
      'resources.posts.fields.a.maxLen',
      /unknown option "maxLen"/,
    ],
    ['empty enum', { resources: { posts: { fields: { a: { type: 'enum', values: [] } } } } }, 'resources.posts.fields.a.values', /non-empty list/],
    ['repeated enum', { resources: { posts: { fields: { a: field.enum(['x', 'x']) } } } }, 'resources.posts.fields.a.values', /repeat/],
    [
      'bad pattern',
      { resources: { posts: { fields: { a: field.string({ pattern: '(' }) } } } },
      'resources.posts.fields.a.pattern',
      /not a valid regular expression/,
    ],
    ['bad format', { resources: { posts: { fields: { a: { type: 'string', format: 'phone' } } } } }, 'resources.posts.fields.a.format', /unknown format/],
    [
      'min > max length',
      { resources: { posts: { fields: { a: field.string({ minLength: 5, maxLength: 2 }) } } } },
      'resources.posts.fields.a.minLength',
      /greater than maxLength/,
    ],
    ['min > max', { resources: { posts: { fields: { a: field.integer({ min: 5, max: 2 }) } } } }, 'resources.posts.fields.a.min', /greater than max/],
    ['bad precision', { resources: { posts: { fields: { a: field.decimal({ precision: 0 }) } } } }, 'resources.posts.fields.a.precision', /precision must be/],
    [
      'scale > precision',
      { resources: { posts: { fields: { a: field.decimal({ precision: 4, scale: 6 }) } } } },
      'resources.posts.fields.a.scale',
      /scale must be/,
    ],
    ['scale alone', { resources: { posts: { fields: { a: field.decimal({ scale: 2 }) } } } }, 'resources.posts.fields.a.scale', /needs precision/],
    [
      'string default too long',
      { resources: { posts: { fields: { a: field.string({ maxLength: 2, default: 'abc' }) } } } },
      'resources.posts.fields.a.default',
      /longer than maxLength/,
    ],
    [
      'integer default',
      { resources: { posts: { fields: { a: field.integer({ default: 1.5 }) } } } },
      'resources.posts.fields.a.default',
      /expected an integer/,
    ],
    ['boolean default', { resources: { posts: { fields: { a: { type: 'boolean', default: 'yes' } } } } }, 'resources.posts.fields.a.default', /true or false/],
    ['date default', { resources: { posts: { fields: { a: field.date({ default: '2020/01/01' }) } } } }, 'resources.posts.fields.a.default', /YYYY-MM-DD/],
    ['null default', { resources: { posts: { fields: { a: { type: 'string', default: null } } } } }, 'resources.posts.fields.a.default', /nullable/],
    [
      'hidden and readOnly',
      { resources: { posts: { fields: { a: field.string({ hidden: true, readOnly: true, default: '' }) } } } },
      'resources.posts.fields.a',
      /both hidden and readOnly/,
    ],
    [
      'optional without default',
      { resources: { posts: { fields: { a: field.string({ required: false }) } } } },
      'resources.posts.fields.a',
      /needs a default or nullable/,
    ],
    [
      'readOnly without default',
      { resources: { posts: { fields: { a: field.string({ readOnly: true }) } } } },
      'resources.posts.fields.a',
      /readOnly field is set by the server/,
    ],
    [
      'bad onDelete',
      { resources: { posts: { fields: { a: { type: 'belongsTo', target: 'posts', onDelete: 'nuke' } } } } },
      'resources.posts.fields.a.onDelete',
      /unknown onDelete/,
    ],
    [
      'setNull on required',
      { resources: { posts: { fields: { a: field.belongsTo('posts', { onDelete: 'setNull' }) } } } },
      'resources.posts.fields.a.onDelete',
      /needs nullable/,
    ],
    [
      'hasMany without inverse',
      { resources: { users: { fields: { posts: field.hasMany('posts') } }, posts: { fields: { t: field.string() } } } },
      'resources.users.fields.posts',
      /exactly one inverse/,
    ],
    [
      'hasMany with a wrong inverse',
      { resources: { users: { fields: { posts: field.hasMany('posts', { inverse: 'x' }) } }, posts: { fields: { a: field.belongsTo('users') } } } },
      'resources.users.fields.posts.inverse',
      /no belongsTo "x"/,
    ],
    [
      'self manyToMany',
      { resources: { users: { fields: { friends: field.manyToMany('users') } } } },
      'resources.users.fields.friends.target',
      /not supported yet/,
    ],
    [
      'belongsTo key clash',
      { resources: { posts: { fields: { author: field.belongsTo('posts', { nullable: true }), authorId: field.integer() } } } },
      'resources.posts.fields.author',
      /already declared/,
    ],
    [
      'unique on unknown field',
      { resources: { posts: { fields: { a: field.string() }, unique: [['a', 'b']] } } },
      'resources.posts.unique.0.1',
      /not a stored field/,
    ],
    [
      'index on unknown field',
      { resources: { posts: { fields: { a: field.string() }, indexes: [{ fields: ['zz'] }] } } },
      'resources.posts.indexes.0.fields.0',
      /not a stored field/,
    ],
    ['empty unique', { resources: { posts: { fields: { a: field.string() }, unique: [[]] } } }, 'resources.posts.unique.0', /non-empty list/],
  ];
  for (const [name, declaration, path, message] of cases) {
    test(name, () => {
      const problem = problemsOf(declaration).find((p) => p.path === path);
      assert.ok(problem, `no problem at ${path}; got ${JSON.stringify(problemsOf(declaration))}`);
      assert.match(problem.message, message);
      assert.ok(problem.hint.length > 0);
    });
  }

  test('two resources on one table or path', () => {
    const problems = problemsOf({
      resources: { posts: { fields: { a: field.string() } }, articles: { table: 'posts', path: 'posts', fields: { a: field.string() } } },
    });
    assert.deepEqual(
      problems.map((p) => p.message),
      ['table "posts" is also used by resource "posts"', 'path "posts" is also used by resource "posts"'],
    );
  });

  test('a resource table that is also a join table', () => {
    const problems = problemsOf({
      resources: {
        posts: { fields: { tags: field.manyToMany('tags') } },
        tags: { fields: { n: field.string() } },
        postsTags: { fields: { n: field.string() } },
      },
    });
    assert.match(problems[0]?.message ?? '', /also the join table/);
  });

  test('generated constraint names longer than PostgreSQL allows', () => {
    const long = 'a'.repeat(40);
    const problems = problemsOf({ resources: { [long]: { fields: { [`${long}b`]: field.string({ unique: true }) } } } });
    assert.match(problems[0]?.message ?? '', /longer than PostgreSQL allows/);
  });
});
