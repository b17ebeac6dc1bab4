import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileModel } from '../../src/model/compile.js';
import { field } from '../../src/model/define.js';
import type { ModelProblem } from '../../src/model/problems.js';
import { columnType, modelShapes, renderCreateTable } from '../../src/sql/ddl.js';

function problemsOf(declaration: unknown): ModelProblem[] {
  const result = compileModel(declaration);
  assert.equal(result.ok, false, 'expected the model to be rejected');
  return result.ok ? [] : [...result.problems];
}

/** A model of one resource `posts` with the given fields (and resource options). */
const posts = (fields: Record<string, unknown>, options: Record<string, unknown> = {}) => ({ resources: { posts: { fields, ...options } } });

/** The one problem at `path`, asserting it has a message and a fix. */
function problemAt(declaration: unknown, path: string): ModelProblem {
  const problems = problemsOf(declaration);
  const found = problems.filter((p) => p.path === path);
  assert.equal(found.length, 1, `expected one problem at ${path}; got ${JSON.stringify(problems, null, 2)}`);
  const [problem] = found as [ModelProblem];
  assert.ok(problem.hint.length > 0, 'every problem says how to fix it');
  return problem;
}

describe('option values are checked for type and range at load', () => {
  test('a string maxLength never reaches DDL', () => {
    const p = problemAt(posts({ title: { type: 'string', maxLength: '1); DROP TABLE x; --' } }), 'resources.posts.fields.title.maxLength');
    assert.equal(p.message, 'maxLength must be a whole number from 1 to 10485760, not "1); DROP TABLE x; --"');
    assert.equal(p.hint, 'e.g. maxLength: 200');
  });

  test('DDL refuses a type modifier that is not a whole number, even if one got past the loader', () => {
    const field = { kind: 'column', name: 't', column: 't', type: 'string', maxLength: '1); DROP TABLE x; --' } as never;
    assert.throws(() => columnType(field), /not a valid type modifier/);
  });

  test('booleans must be booleans: "no" is not false', () => {
    for (const option of ['required', 'nullable', 'unique', 'index', 'readOnly', 'hidden']) {
      const p = problemAt(posts({ title: { type: 'string', nullable: true, [option]: 'no' } }), `resources.posts.fields.title.${option}`);
      assert.equal(p.message, `${option} must be true or false, not "no"`);
      assert.match(p.hint, new RegExp(`${option}: true or ${option}: false`));
    }
    assert.match(problemAt(posts({ a: field.string() }, { timestamps: 'yes' }), 'resources.posts.timestamps').message, /true or false, not "yes"/);
    assert.match(
      problemAt(posts({ a: field.string() }, { indexes: [{ fields: ['a'], unique: 1 }] }), 'resources.posts.indexes.0.unique').message,
      /true or false, not 1/,
    );
    assert.match(
      problemAt(
        { resources: { users: { fields: { n: field.string() } }, posts: { fields: { author: { type: 'belongsTo', target: 'users', index: 'no' } } } } },
        'resources.posts.fields.author.index',
      ).message,
      /true or false/,
    );
  });

  const ranges: [string, Record<string, unknown>, string, RegExp][] = [
    ['negative minLength', { type: 'string', minLength: -1 }, 'minLength', /whole number from 0 to 10485760, not -1/],
    ['fractional minLength', { type: 'string', minLength: 1.5 }, 'minLength', /whole number from 0/],
    ['zero maxLength', { type: 'string', maxLength: 0 }, 'maxLength', /whole number from 1 to 10485760, not 0/],
    ['maxLength beyond varchar', { type: 'string', maxLength: 10485761 }, 'maxLength', /from 1 to 10485760/],
    ['NaN maxLength', { type: 'text', maxLength: Number.NaN }, 'maxLength', /not NaN/],
    ['precision 0', { type: 'decimal', precision: 0 }, 'precision', /whole number from 1 to 1000, not 0/],
    ['precision beyond 1000', { type: 'decimal', precision: 1001 }, 'precision', /from 1 to 1000/],
    ['precision as a string', { type: 'decimal', precision: '10' }, 'precision', /not "10"/],
    ['negative scale', { type: 'decimal', precision: 4, scale: -1 }, 'scale', /whole number from 0/],
    ['scale above precision', { type: 'decimal', precision: 4, scale: 6 }, 'scale', /scale must be an integer from 0 to precision \(4\), not 6/],
    ['scale without precision', { type: 'decimal', scale: 2 }, 'scale', /needs precision/],
    ['infinite float min', { type: 'float', min: Number.POSITIVE_INFINITY }, 'min', /finite number, not Infinity/],
    ['string float max', { type: 'float', max: '10' }, 'max', /finite number, not "10"/],
    ['integer min beyond 32 bits', { type: 'integer', min: -2147483649 }, 'min', /from -2147483648 to 2147483647/],
    ['fractional integer max', { type: 'integer', max: 2.5 }, 'max', /whole number/],
    ['bigint max beyond exact integers', { type: 'bigint', max: 2 ** 60 }, 'max', /whole number from -9007199254740991 to 9007199254740991/],
    ['min above max', { type: 'integer', min: 5, max: 2 }, 'min', /min 5 is greater than max 2/],
    ['minLength above maxLength', { type: 'string', minLength: 5, maxLength: 2 }, 'minLength', /minLength 5 is greater than maxLength 2/],
    ['description as a number', { type: 'string', description: 5 }, 'description', /must be a string, not 5/],
    ['pattern as a list', { type: 'string', pattern: ['a'] }, 'pattern', /must be a string, not a list/],
    ['renamedFrom with a space', { type: 'string', renamedFrom: 'a b' }, 'renamedFrom', /previous name/],
    ['unknown format', { type: 'string', format: 'phone' }, 'format', /unknown format "phone"/],
    ['format as an object', { type: 'string', format: {} }, 'format', /unknown format an object/],
    ['enum values not a list', { type: 'enum', values: 'a,b' }, 'values', /non-empty list of non-empty strings/],
    ['enum values empty', { type: 'enum', values: [] }, 'values', /non-empty list/],
    ['enum value empty', { type: 'enum', values: ['a', ''] }, 'values', /non-empty strings/],
    ['enum value a number', { type: 'enum', values: ['a', 1] }, 'values', /non-empty strings/],
    ['enum values repeat', { type: 'enum', values: ['a', 'b', 'a'] }, 'values', /repeat: "a" is listed more than once/],
  ];
  for (const [name, declaration, option, message] of ranges) {
    test(name, () => {
      assert.match(problemAt(posts({ f: declaration }), `resources.posts.fields.f.${option}`).message, message);
    });
  }

  test('closed sets: onDelete and id', () => {
    const users = { fields: { n: field.string() } };
    assert.match(
      problemAt(
        { resources: { users, posts: { fields: { a: { type: 'belongsTo', target: 'users', onDelete: 'nuke' } } } } },
        'resources.posts.fields.a.onDelete',
      ).message,
      /unknown onDelete "nuke"/,
    );
    assert.match(problemAt(posts({ a: field.string() }, { id: 'serial' }), 'resources.posts.id').message, /unknown id type "serial"/);
  });

  test('names: table, path, through and index names', () => {
    assert.match(problemAt(posts({ a: field.string() }, { table: 42 }), 'resources.posts.table').message, /42 is not a valid table name/);
    assert.match(problemAt(posts({ a: field.string() }, { path: 'a/b' }), 'resources.posts.path').message, /not a valid URL segment/);
    assert.match(problemAt(posts({ a: field.string() }, { description: ['x'] }), 'resources.posts.description').message, /must be a string/);
    const index = problemAt(posts({ a: field.string() }, { indexes: [{ fields: ['a'], name: 'Bad Name"; --' }] }), 'resources.posts.indexes.0.name');
    assert.match(index.message, /not a valid index name/);
    assert.match(
      problemAt(posts({ a: field.string() }, { indexes: [{ fields: ['a'], where: 'x' }] }), 'resources.posts.indexes.0.where').message,
      /unknown index option/,
    );
    assert.match(problemAt(posts({ a: field.string() }, { indexes: ['a'] }), 'resources.posts.indexes.0').message, /must be an object/);
    const tags = { fields: { n: field.string() } };
    assert.match(
      problemAt(
        { resources: { tags, posts: { fields: { tags: { type: 'manyToMany', target: 'tags', through: 'Posts Tags' } } } } },
        'resources.posts.fields.tags.through',
      ).message,
      /not a valid table name/,
    );
  });

  test('unique and indexes name stored fields, each once', () => {
    assert.match(problemAt(posts({ a: field.string() }, { unique: [['a', 'a']] }), 'resources.posts.unique.0.1').message, /already in this list/);
    assert.match(problemAt(posts({ a: field.string() }, { unique: [[1]] }), 'resources.posts.unique.0.0').message, /1 is not a stored field/);
    assert.match(problemAt(posts({ a: field.string() }, { unique: 'a' }), 'resources.posts.unique').message, /list of field lists/);
  });

  test('default and example must fit the field', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ type: 'string', maxLength: 3, example: 'too long' }, 'example', /example "too long" does not fit a string field: longer than maxLength 3/],
      [{ type: 'string', format: 'email', example: 'not an address' }, 'example', /expected an email address/],
      [{ type: 'string', format: 'url', default: 'example.com' }, 'default', /expected an absolute URL/],
      [{ type: 'string', pattern: '^[a-z]+$', example: 'ABC' }, 'example', /does not match the pattern/],
      [{ type: 'integer', max: 10, default: 11 }, 'default', /greater than max 10/],
      [{ type: 'integer', example: 2 ** 31 }, 'example', /expected an integer from -2147483648 to 2147483647/],
      [{ type: 'float', min: 0, example: -1 }, 'example', /less than min 0/],
      [{ type: 'bigint', example: '12345678901234567890' }, 'example', /64-bit integer/],
      [{ type: 'bigint', min: 0, default: '-5' }, 'default', /less than min 0/],
      [{ type: 'decimal', precision: 4, scale: 2, default: '123.45' }, 'default', /more than 2 digits before the point/],
      [{ type: 'decimal', precision: 4, scale: 2, example: '1.234' }, 'example', /more than 2 digits after the point/],
      [{ type: 'date', default: '2025-02-30' }, 'default', /YYYY-MM-DD/],
      [{ type: 'datetime', default: '2025' }, 'default', /RFC 3339/],
      [{ type: 'datetime', example: 'now' }, 'example', /RFC 3339/],
      [{ type: 'uuid', example: 'random' }, 'example', /expected a UUID/],
      [{ type: 'enum', values: ['a'], example: 'b' }, 'example', /expected one of a/],
      [{ type: 'boolean', example: 'yes' }, 'example', /true or false/],
      [{ type: 'json', nullable: true, example: { at: new Date(0) } }, 'example', /expected JSON data/],
      [{ type: 'json', nullable: true, default: Number.NaN }, 'default', /expected JSON data/],
    ];
    for (const [declaration, role, message] of cases) {
      assert.match(problemAt(posts({ f: declaration }), `resources.posts.fields.f.${role}`).message, message, JSON.stringify(declaration));
    }
  });

  test('values that fit are accepted', () => {
    const result = compileModel(
      posts({
        a: field.string({ maxLength: 10, format: 'email', example: 'a@b.co', default: 'x@y.org' }),
        b: field.decimal({ precision: 4, scale: 2, default: '12.30', example: 1.5 }),
        c: field.bigint({ min: 0, default: '9223372036854775807', example: 5 }),
        d: field.datetime({ default: 'now', example: '2026-01-15T09:30:00Z' }),
        e: field.json({ default: { tags: ['a'], n: 1, ok: true, none: null } }),
        g: field.integer({ min: -2147483648, max: 2147483647, example: 0 }),
      }),
    );
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  });

  test('every problem of a field comes back at once, each at its own path', () => {
    const problems = problemsOf(posts({ title: { type: 'string', required: 'no', maxLength: 'x', minLength: -1, format: 'phone', unique: 1 } }));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['required', 'maxLength', 'minLength', 'format', 'unique'].map((o) => `resources.posts.fields.title.${o}`),
    );
  });
});

describe('names are looked up as own properties only', () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
    test(`a belongsTo, hasMany or manyToMany to "${name}" is a missing resource`, () => {
      for (const type of ['belongsTo', 'hasMany', 'manyToMany']) {
        const p = problemAt(posts({ rel: { type, target: name } }), 'resources.posts.fields.rel.target');
        assert.equal(p.message, `relation to a missing resource "${name}"`);
        assert.equal(p.hint, 'use one of: posts');
      }
    });
  }

  test('an inverse named like an Object.prototype member is not found', () => {
    const model = {
      resources: {
        users: { fields: { posts: { type: 'hasMany', target: 'posts', inverse: 'constructor' } } },
        posts: { fields: { author: field.belongsTo('users') } },
      },
    };
    assert.match(problemAt(model, 'resources.users.fields.posts.inverse').message, /"posts" has no belongsTo "constructor" pointing at "users"/);
  });

  test('a renamedFrom or a belongsTo key named like a prototype member is no clash', () => {
    const result = compileModel({
      resources: {
        users: { fields: { n: field.string() } },
        posts: { fields: { title: field.string({ renamedFrom: 'toString' }), valueOf: field.belongsTo('users') } },
      },
    });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  });

  test('a resource really named "constructor" is found as itself', () => {
    const result = compileModel({
      resources: { constructor: { fields: { n: field.string() } }, posts: { fields: { maker: { type: 'belongsTo', target: 'constructor' } } } },
    });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    assert.equal(result.model.resourcesByName.get('posts')?.relationsByName.get('maker')?.target, 'constructor');
    assert.match(renderCreateTable(modelShapes(result.model)[0] as never), /CREATE TABLE "constructor"/);
  });

  test('a "__proto__" key in a JSON model is an ordinary (invalid) name, not the prototype', () => {
    const declaration = JSON.parse(
      '{"resources": {"__proto__": {"fields": {"a": {"type": "string"}}}, "posts": {"fields": {"x": {"type": "belongsTo", "target": "__proto__"}}}}}',
    );
    const paths = problemsOf(declaration).map((p) => p.path);
    assert.ok(paths.includes('resources.__proto__'), JSON.stringify(paths));
  });
});

describe('the declaration is read once, as plain data', () => {
  test('a getter is read once: the checks and the build see the same value', () => {
    let reads = 0;
    const title = {
      type: 'string',
      get maxLength() {
        reads += 1;
        return reads === 1 ? 100 : '1); DROP TABLE x; --';
      },
    };
    const result = compileModel(posts({ title }));
    assert.ok(result.ok);
    assert.equal(reads, 1);
    assert.equal(result.model.resourcesByName.get('posts')?.fieldsByName.get('title')?.maxLength, 100);
  });

  test('compiling neither freezes nor shares the objects of the declaration', () => {
    const values = ['draft', 'published'];
    const meta = { a: [1] };
    const declaration = posts({ status: field.enum(values, { default: 'draft' }), meta: field.json({ default: meta }) }, { unique: [['status']] });
    const result = compileModel(declaration);
    assert.ok(result.ok);
    assert.equal(Object.isFrozen(values), false);
    assert.equal(Object.isFrozen(meta.a), false);
    values.push('archived');
    meta.a.push(2);
    const post = result.model.resourcesByName.get('posts');
    assert.deepEqual(post?.fieldsByName.get('status')?.values, ['draft', 'published']);
    assert.deepEqual(post?.fieldsByName.get('meta')?.default, { a: [1] });
  });

  test('a circular declaration is a problem, not a stack overflow', () => {
    const meta: Record<string, unknown> = {};
    meta.self = meta;
    assert.match(problemAt(posts({ meta: { type: 'json', default: meta } }), 'resources.posts.fields.meta.default.self').message, /refers to itself/);
  });

  test('a getter that throws is reported where it stands', () => {
    const title = {
      type: 'string',
      get maxLength(): number {
        throw new Error('boom');
      },
    };
    assert.match(problemAt(posts({ title }), 'resources.posts.fields.title.maxLength').message, /cannot be read: boom/);
  });

  test('a Map where an object belongs is refused', () => {
    assert.match(
      problemAt({ resources: { posts: { fields: new Map([['a', { type: 'string' }]]) } } }, 'resources.posts.fields').message,
      /needs a "fields" object/,
    );
  });
});
