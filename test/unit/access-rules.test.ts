/**
 * The rule language and its checks (src/access/expression.ts, check-rules.ts): every syntax and type
 * error a model author can make is a model problem with its path, the exact message and the fix; the
 * same rules written in YAML and in TypeScript give the same IR.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MAX_CONDITION_DEPTH, MAX_CONDITION_LENGTH, parseCondition, RuleSyntaxError } from '../../src/access/expression.js';
import { compileModel } from '../../src/model/compile.js';
import type { AccessModel, Model } from '../../src/model/ir.js';
import { loadModel } from '../../src/model/load.js';

type Problem = { path: string; message: string; hint: string };

const GRAMMAR_HINT = 'fix the condition: the grammar is in docs/reference/access-rules.md';
const ROLES = { author: {}, editor: { inherits: 'author' }, admin: { everything: true } };
const POST_FIELDS = 'id, title, status, views, featured, publishedOn, authorId, createdAt, updatedAt';

/** Users are the accounts (so auth.id is a bigint), posts belong to them, comments to posts. */
function declaration(posts: { access?: unknown; fields?: Record<string, unknown> } = {}, top: Record<string, unknown> = {}) {
  return {
    roles: ROLES,
    auth: { accounts: { resource: 'users', login: 'email' } },
    ...top,
    resources: {
      users: {
        fields: {
          email: { type: 'string', format: 'email', maxLength: 254, unique: true },
          posts: { type: 'hasMany', target: 'posts', inverse: 'author' },
        },
      },
      posts: {
        fields: {
          title: { type: 'string', maxLength: 200 },
          status: { type: 'enum', values: ['draft', 'published'], default: 'draft' },
          views: { type: 'integer', default: 0 },
          featured: { type: 'boolean', default: false },
          publishedOn: { type: 'date', nullable: true },
          author: { type: 'belongsTo', target: 'users' },
          comments: { type: 'hasMany', target: 'comments' },
          ...posts.fields,
        },
        ...(posts.access !== undefined && { access: posts.access }),
      },
      comments: { fields: { body: { type: 'text' }, post: { type: 'belongsTo', target: 'posts' } } },
    },
  };
}

function problemsOf(decl: unknown): Problem[] {
  const result = compileModel(decl);
  assert.equal(result.ok, false, 'expected the model to be rejected');
  return result.ok ? [] : result.problems.map((p) => ({ ...p }));
}

function compiled(decl: unknown): Model {
  const result = compileModel(decl);
  if (!result.ok) assert.fail(`expected a valid model, got: ${JSON.stringify(result.problems, null, 2)}`);
  return result.model;
}

/** The one problem of a posts read rule. */
function readRuleProblem(rule: unknown): Problem[] {
  return problemsOf(declaration({ access: { read: rule } }));
}

const at = (path: string, message: string, hint: string): Problem[] => [{ path, message, hint }];
const READ = 'resources.posts.access.read';

describe('rule syntax: every mistake is reported with where it is', () => {
  const cases: [string, string][] = [
    ['title ==', 'the condition ends too early: a field, auth.id, auth.roles or a value is missing (at character 9 of "title ==")'],
    ['title = 5', 'unexpected character "=" (compare with ==) (at character 7 of "title = 5")'],
    ["title == 'a' & featured", 'unexpected character "&" (write && or ||) (at character 14 of "title == \'a\' & featured")'],
    ['title == @', 'unexpected character "@" (at character 10 of "title == @")'],
    ["status == 'draft' featured", 'unexpected "featured": join conditions with && or || (at character 19 of "status == \'draft\' featured")'],
    ['(featured', 'expected a ")" to close the "(", found the end of the condition (at character 10 of "(featured")'],
    ["title == 'abc", 'a string is not closed (at character 10 of "title == \'abc")'],
    ['auth.name == 1', 'auth has only id and roles, not "name" (at character 6 of "auth.name == 1")'],
    ['auth == 1', 'expected "." after auth: auth.id or auth.roles, found "==" (at character 6 of "auth == 1")'],
    ['exists featured', 'expected a "(" after exists: exists(relation, condition), found "featured" (at character 8 of "exists featured")'],
    ['exists(true)', 'expected a relation name after "exists(", found "true" (at character 8 of "exists(true)")'],
    ['exists(comments, true', 'expected a ")" to close exists(…), found the end of the condition (at character 22 of "exists(comments, true")'],
    ['views in []', 'a list must hold at least one value (at character 10 of "views in []")'],
    ['views in [1, views]', 'a list holds only values (strings, numbers, true, false) (at character 10 of "views in [1, views]")'],
    ['views in [1, 2', 'expected a "]" to close the list, found the end of the condition (at character 15 of "views in [1, 2")'],
    ['author. == 1', 'expected a field or relation name after ".", found "==" (at character 9 of "author. == 1")'],
    ['has == 1', '"has" cannot start an operand (at character 1 of "has == 1")'],
    ['title == )', 'expected a field, auth.id, auth.roles or a value, found ")" (at character 10 of "title == )")'],
  ];
  for (const [rule, message] of cases) {
    test(rule, () => assert.deepEqual(readRuleProblem(rule), at(READ, message, GRAMMAR_HINT)));
  }

  test('parseCondition gives the zero-based offset of the problem', () => {
    const error = (() => {
      try {
        parseCondition("status == 'draft' featured");
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof RuleSyntaxError);
    assert.equal(error.at, 18);
    assert.equal(error.message, 'unexpected "featured": join conditions with && or ||');
  });

  test(`parentheses and ! nest at most ${MAX_CONDITION_DEPTH} deep; a path goes through at most ${MAX_CONDITION_DEPTH - 1} relations`, () => {
    const parens = (n: number) => `${'('.repeat(n)}featured${')'.repeat(n)}`;
    assert.doesNotThrow(() => parseCondition(parens(MAX_CONDITION_DEPTH)));
    assert.throws(() => parseCondition(parens(MAX_CONDITION_DEPTH + 1)), { message: `the condition nests deeper than ${MAX_CONDITION_DEPTH} levels` });
    assert.doesNotThrow(() => parseCondition(`${'!'.repeat(MAX_CONDITION_DEPTH)}featured`));
    assert.deepEqual(
      readRuleProblem(`${'!'.repeat(MAX_CONDITION_DEPTH + 1)}featured`),
      at(
        READ,
        `the condition nests deeper than ${MAX_CONDITION_DEPTH} levels (at character ${MAX_CONDITION_DEPTH + 1} of "${'!'.repeat(MAX_CONDITION_DEPTH + 1)}featured")`,
        GRAMMAR_HINT,
      ),
    );
    const path = (n: number) => `${Array.from({ length: n }, () => 'a').join('.')} == 1`;
    assert.doesNotThrow(() => parseCondition(path(MAX_CONDITION_DEPTH)));
    assert.throws(() => parseCondition(path(MAX_CONDITION_DEPTH + 1)), { message: `a path goes through at most ${MAX_CONDITION_DEPTH - 1} relations` });
  });

  test(`a condition longer than ${MAX_CONDITION_LENGTH} characters is refused before it is read`, () => {
    const long = `title == '${'x'.repeat(MAX_CONDITION_LENGTH)}'`;
    const [problem] = readRuleProblem(long);
    assert.equal(problem?.message, `the condition is longer than ${MAX_CONDITION_LENGTH} characters (at character 1 of ${JSON.stringify(long)})`);
  });
});

describe('rule types: checked against the model', () => {
  const cases: [string, string, string][] = [
    ['ghost == 1', 'posts has no field "ghost"', `use one of ${POST_FIELDS}`],
    ["editor.email == 'a@example.com'", 'posts has no relation "editor"', 'use one of author'],
    ['author.nickname == 1', 'users has no field "nickname"', 'use one of id, email, passwordHash, roles, verified, disabled, createdAt, updatedAt'],
    ['author == 1', 'author is a relation, not a field', 'name its key, authorId, or a field of it: author.<field>'],
    ["comments.body == 'x'", 'comments is a hasMany relation: a path goes only through belongsTo relations', 'write exists(comments, …) to test its records'],
    ['exists(ghosts)', 'posts has no relation "ghosts"', 'use one of comments'],
    [
      'exists(author)',
      'exists() goes through a hasMany or manyToMany relation; author is a belongsTo',
      'name its fields directly instead: author.<field> == …',
    ],
    ["exists(comments, ghost == 'x')", 'comments has no field "ghost"', 'use one of id, body, postId, createdAt, updatedAt'],
    ["views == 'ten'", "views is an integer field: the text 'ten' is not an integer", 'compare views with a number, e.g. 10'],
    ['views == 1.5', 'views is an integer field: 1.5 is not an integer', 'compare views with a number, e.g. 10'],
    ['title == 5', 'title is a string field: 5 is not text', "compare title with text in quotes, e.g. 'draft'"],
    ["featured == 'yes'", "featured is a boolean field: the text 'yes' is not true or false", 'compare featured with true or false'],
    [
      "publishedOn > '31/01/2026'",
      "publishedOn is a date field: the text '31/01/2026' is not a date (YYYY-MM-DD)",
      "compare publishedOn with a date, e.g. '2026-01-31'",
    ],
    [
      "status == 'archived'",
      'status is an enum field: "archived" is not one of its values (draft, published)',
      "compare status with one of 'draft', 'published'",
    ],
    [
      "status in ['draft', 'gone']",
      'status is an enum field: "gone" is not one of its values (draft, published)',
      "compare status with one of 'draft', 'published'",
    ],
    ["status > 'draft'", 'status is an enum field: it has no order for ">"', 'compare it with == or !='],
    ['title == status', 'title is compared with another field, status', 'compare a field with a value or auth.id: two fields cannot be compared in a rule'],
    ["title has 'editor'", '"has" applies only to auth.roles, not title', "write auth.roles has 'editor'"],
    ['auth.roles has editor', 'auth.roles has takes a role name in quotes, not editor', "write auth.roles has 'editor'"],
    ["auth.roles has 'ghost'", 'unknown role "ghost"', 'declare it under roles, or use one of anonymous, authenticated, author, editor, admin'],
    ["auth.roles == 'editor'", 'auth.roles is compared with "has"', "write auth.roles has 'editor'"],
    ['title', 'title is a string field, not a condition', 'compare it: title == …'],
    ['auth.id', 'auth.id alone is not a condition', "compare it with something, e.g. authorId == auth.id, or auth.roles has 'editor'"],
    ['auth.id == 5', 'auth.id == 5 compares no field of the record', 'compare a field with a value or auth.id, e.g. authorId == auth.id'],
    [
      'title == auth.id',
      'title is a string field; auth.id is the bigint id of a users record',
      'compare auth.id with the id or a key of users, e.g. authorId == auth.id',
    ],
    ['authorId > auth.id', 'auth.id is compared only with == or !=', 'write authorId == auth.id'],
    ['title == null', 'title is never null', 'drop the comparison, or make the field nullable'],
    ['publishedOn > null', 'null is compared only with == or !=', 'write publishedOn == null'],
    ["status == ['draft']", 'a list goes with "in", not "=="', 'write status in [ … ]'],
    ["status in 'draft'", '"in" takes a list of values or auth.roles', "write status in ['a', 'b']"],
    ["author.passwordHash == 'x'", 'author.passwordHash is a hidden field', 'a rule may not depend on a field nobody can read: use another field'],
    ['author.roles == 1', 'author.roles is a json field, which a rule cannot compare', 'compare a scalar field'],
  ];
  for (const [rule, message, hint] of cases) {
    test(rule, () => assert.deepEqual(readRuleProblem(rule), at(READ, message, hint)));
  }

  test('every problem of a condition is reported, not just the first', () => {
    assert.deepEqual(readRuleProblem("ghost == 1 || views == 'ten'"), [
      { path: READ, message: 'posts has no field "ghost"', hint: `use one of ${POST_FIELDS}` },
      { path: READ, message: "views is an integer field: the text 'ten' is not an integer", hint: 'compare views with a number, e.g. 10' },
    ]);
  });

  test('auth.id on either side, `in auth.roles` for has, and a bare boolean field', () => {
    const model = compiled(
      declaration({
        access: { read: "auth.id == authorId && 'editor' in auth.roles && featured && auth.id != null", update: 'publishedOn != null' },
      }),
    );
    const rules = model.access?.resources.get('posts')?.operations;
    assert.deepEqual(rules?.read, {
      kind: 'condition',
      source: "auth.id == authorId && 'editor' in auth.roles && featured && auth.id != null",
      condition: {
        kind: 'and',
        items: [
          { kind: 'field', through: [], field: 'authorId', operator: 'eq', value: { kind: 'authId' } },
          { kind: 'role', role: 'editor' },
          { kind: 'field', through: [], field: 'featured', operator: 'eq', value: { kind: 'literal', value: true } },
          { kind: 'signedIn' },
        ],
      },
    });
    assert.deepEqual(rules?.update, {
      kind: 'condition',
      source: 'publishedOn != null',
      condition: { kind: 'field', through: [], field: 'publishedOn', operator: 'isNull', value: { kind: 'literal', value: false } },
    });
  });
});

describe('roles and rule values', () => {
  test('an unknown role in a list rule or in inherits', () => {
    assert.deepEqual(
      readRuleProblem(['editor', 'ghost']),
      at(READ, 'unknown role "ghost"', 'declare it under roles, or use one of anonymous, authenticated, author, editor, admin'),
    );
    assert.deepEqual(
      problemsOf(declaration({ access: { read: 'public' } }, { roles: { editor: { inherits: 'ghost' } } })),
      at('roles.editor.inherits', 'unknown role "ghost"', 'declare it under roles, or use one of anonymous, authenticated, editor'),
    );
  });

  test('a cycle of inheritance is reported on every role in it', () => {
    const roles = { a: { inherits: 'b' }, b: { inherits: ['a'] }, c: { inherits: 'c' }, d: { inherits: 'a' } };
    assert.deepEqual(problemsOf(declaration({ access: { read: 'public' } }, { roles })), [
      { path: 'roles.a.inherits', message: 'the role a inherits itself', hint: 'remove the cycle from inherits' },
      { path: 'roles.b.inherits', message: 'the role b inherits itself', hint: 'remove the cycle from inherits' },
      { path: 'roles.c.inherits', message: 'the role c inherits itself', hint: 'remove the cycle from inherits' },
    ]);
  });

  test('the built-in roles cannot be declared', () => {
    assert.deepEqual(problemsOf(declaration({ access: { read: 'public' } }, { roles: { anonymous: {}, authenticated: { everything: true } } })), [
      { path: 'roles.anonymous', message: '"anonymous" is a built-in role', hint: 'drop it: every caller is either anonymous or authenticated already' },
      {
        path: 'roles.authenticated',
        message: '"authenticated" is a built-in role',
        hint: 'drop it: every caller is either anonymous or authenticated already',
      },
    ]);
  });

  test('role declarations: names, options and their values', () => {
    const roles = { Editor: {}, ['a'.repeat(64)]: {}, x: 'y', z: { inherits: 5, everything: 'yes', description: 3, colour: 'red' } };
    assert.deepEqual(problemsOf(declaration({ access: { read: 'public' } }, { roles })), [
      { path: 'roles.Editor', message: '"Editor" is not a valid role name', hint: 'use lower case letters, digits, _ and -, starting with a letter' },
      {
        path: `roles.${'a'.repeat(64)}`,
        message: `"${'a'.repeat(64)}" is not a valid role name`,
        hint: 'use lower case letters, digits, _ and -, starting with a letter',
      },
      { path: 'roles.x', message: 'a role is declared with an object', hint: 'e.g. editor: { inherits: author }' },
      { path: 'roles.z.colour', message: 'unknown role option "colour"', hint: 'a role takes inherits, everything, description' },
      { path: 'roles.z.inherits', message: 'inherits must be a role name or a list of role names', hint: 'e.g. inherits: author' },
      { path: 'roles.z.everything', message: 'everything must be true or false', hint: 'everything: true grants every operation, row and field' },
      { path: 'roles.z.description', message: 'description must be text', hint: 'write a sentence' },
    ]);
    assert.deepEqual(
      problemsOf(declaration({ access: { read: 'public' } }, { roles: ['editor'] })),
      at('roles', 'roles must be an object of role names', 'e.g. roles: { editor: {}, admin: { everything: true } }'),
    );
  });

  test('a rule that is no rule: a number, an empty or mixed list, empty text', () => {
    const notARule = [
      'a rule is public, authenticated, a list of roles or a condition',
      'e.g. public, authenticated, [editor], or "authorId == auth.id" (docs/reference/access-rules.md)',
    ] as const;
    assert.deepEqual(problemsOf(declaration({ access: { read: 5, list: [], create: '  ', update: ['editor', 3] } })), [
      { path: 'resources.posts.access.read', message: notARule[0], hint: notARule[1] },
      { path: 'resources.posts.access.list', message: 'a list rule holds role names', hint: 'e.g. [editor, admin]' },
      { path: 'resources.posts.access.create', message: notARule[0], hint: notARule[1] },
      { path: 'resources.posts.access.update', message: 'a list rule holds role names', hint: 'e.g. [editor, admin]' },
    ]);
    assert.deepEqual(
      problemsOf(declaration({ access: 'public' })),
      at(
        'resources.posts.access',
        'access must be an object of operations',
        'e.g. access: { read: public, create: authenticated, update: "authorId == auth.id" }',
      ),
    );
  });

  test('an unknown operation', () => {
    assert.deepEqual(
      problemsOf(declaration({ access: { read: 'public', publish: [] } })),
      at('resources.posts.access.publish', 'unknown operation "publish"', 'access takes list, read, create, update, delete'),
    );
  });

  test('a field write rule decides by the caller only: naming the record is refused', () => {
    const refused = at(
      'resources.posts.fields.summary.write',
      'a field write rule decides by the caller only (auth.id, auth.roles), not by the record',
      "use roles or auth.roles has '…' here, and put conditions on the record in the resource's update rule",
    );
    for (const write of ["status == 'draft'", 'featured', 'exists(comments)', 'authorId == auth.id']) {
      assert.deepEqual(problemsOf(declaration({ fields: { summary: { type: 'text', write } } })), refused, write);
    }
    const model = compiled(
      declaration({ fields: { summary: { type: 'text', read: 'authorId == auth.id', write: "auth.roles has 'editor' || auth.id == null" } } }),
    );
    assert.deepEqual(model.access?.resources.get('posts')?.fields.get('summary')?.write, {
      kind: 'condition',
      source: "auth.roles has 'editor' || auth.id == null",
      condition: {
        kind: 'or',
        items: [
          { kind: 'role', role: 'editor' },
          { kind: 'not', item: { kind: 'signedIn' } },
        ],
      },
    });
  });

  test('a belongsTo field rule is the rule of its key field', () => {
    const model = compiled(declaration({ fields: { editor: { type: 'belongsTo', target: 'users', nullable: true, read: ['editor'] } } }));
    assert.deepEqual([...(model.access?.resources.get('posts')?.fields ?? [])], [['editorId', { read: { kind: 'roles', roles: ['editor'] } }]]);
  });

  test('signup roles must be declared once the model declares roles; built-in ones never', () => {
    const signup = (roles: string[], top: Record<string, unknown> = {}) =>
      declaration({ access: { read: 'public' } }, { auth: { accounts: { resource: 'users', login: 'email', signup: { roles } } }, ...top });
    assert.deepEqual(
      problemsOf(signup(['author', 'reader'])),
      at('auth.accounts.signup.roles', 'unknown role "reader"', 'declare it under roles, or use one of author, editor, admin'),
    );
    assert.deepEqual(
      problemsOf(signup(['authenticated'], { roles: undefined })),
      at(
        'auth.accounts.signup.roles',
        '"authenticated" is a role Kiln gives by itself',
        'remove it: every caller is either anonymous or authenticated already',
      ),
    );
    assert.deepEqual(compiled(signup(['author'])).auth?.accounts?.signup.roles, ['author']);
    assert.deepEqual(compiled(signup(['reader'], { roles: undefined })).auth?.accounts?.signup.roles, ['reader'], 'no roles declared: any role may be given');
  });

  test('list falls back to read; a model without any rule has no access IR (open)', () => {
    const model = compiled(declaration({ access: { read: 'public', create: 'authenticated' } }));
    assert.deepEqual(model.access?.resources.get('posts')?.operations, {
      read: { kind: 'public' },
      list: { kind: 'public' },
      create: { kind: 'authenticated' },
    });
    assert.deepEqual(model.access?.resources.get('users')?.operations, {});
    assert.equal(compiled(declaration({}, { roles: undefined })).access, undefined);
  });
});

/** The access IR as plain data: FrozenMaps keep their entries private, where deepEqual would not look. */
function plain(access: AccessModel | undefined): unknown {
  if (!access) return undefined;
  return {
    roles: [...access.roles],
    resources: [...access.resources].map(([name, rules]) => [name, { operations: rules.operations, fields: [...rules.fields] }]),
  };
}

describe('the same rules in YAML and TypeScript give the same IR', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-access-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const yaml = `
roles:
  author: {}
  editor: { inherits: author, description: Publishes anyone's post }
  admin: { everything: true }
auth:
  accounts: { resource: users, login: email, signup: { roles: [author] } }
resources:
  users:
    access: { read: public, update: "id == auth.id" }
    fields:
      email: { type: string, format: email, maxLength: 254, unique: true, read: "id == auth.id || auth.roles has 'editor'", write: [admin] }
      posts: { type: hasMany, target: posts }
  posts:
    access:
      read: "status == 'published' || authorId == auth.id || auth.roles has 'editor'"
      create: authenticated
      update: "authorId == auth.id || auth.roles has 'editor'"
      delete: [editor, admin]
    fields:
      title: { type: string, maxLength: 200 }
      status: { type: enum, values: [draft, published], default: draft, write: "auth.roles has 'editor'" }
      author: { type: belongsTo, target: users, default: auth.id }
      comments: { type: hasMany, target: comments }
  comments:
    access:
      list: public
      read: "post.status == 'published' || exists(post)"
    fields:
      body: { type: text }
      post: { type: belongsTo, target: posts }
`;

  const typescript = {
    roles: { author: {}, editor: { inherits: 'author', description: "Publishes anyone's post" }, admin: { everything: true } },
    auth: { accounts: { resource: 'users', login: 'email', signup: { roles: ['author'] } } },
    resources: {
      users: {
        access: { read: 'public', update: 'id == auth.id' },
        fields: {
          email: { type: 'string', format: 'email', maxLength: 254, unique: true, read: "id == auth.id || auth.roles has 'editor'", write: ['admin'] },
          posts: { type: 'hasMany', target: 'posts' },
        },
      },
      posts: {
        access: {
          read: "status == 'published' || authorId == auth.id || auth.roles has 'editor'",
          create: 'authenticated',
          update: "authorId == auth.id || auth.roles has 'editor'",
          delete: ['editor', 'admin'],
        },
        fields: {
          title: { type: 'string', maxLength: 200 },
          status: { type: 'enum', values: ['draft', 'published'], default: 'draft', write: "auth.roles has 'editor'" },
          author: { type: 'belongsTo', target: 'users', default: 'auth.id' },
          comments: { type: 'hasMany', target: 'comments' },
        },
      },
      comments: {
        access: { list: 'public', read: "post.status == 'published' || post.authorId == auth.id" },
        fields: { body: { type: 'text' }, post: { type: 'belongsTo', target: 'posts' } },
      },
    },
  };

  test('deepEqual of model.access, and the author key set from the caller in both', async () => {
    const file = join(dir, 'kiln.yaml');
    // The YAML above has one deliberate mistake first, to show a YAML rule is checked like any other.
    writeFileSync(file, yaml);
    const error = await loadModel(file).catch((e: unknown) => e);
    assert.deepEqual((error as { problems: unknown }).problems, [
      {
        path: 'resources.comments.access.read',
        message: 'exists() goes through a hasMany or manyToMany relation; post is a belongsTo',
        hint: 'name its fields directly instead: post.<field> == …',
      },
    ]);
    writeFileSync(file, yaml.replace('exists(post)', 'post.authorId == auth.id'));
    const fromYaml = await loadModel(file);
    const fromTypescript = compiled(typescript);
    assert.deepEqual(plain(fromYaml.access), plain(fromTypescript.access));
    assert.notDeepEqual(plain(fromYaml.access), plain(compiled({ ...typescript, roles: { ...typescript.roles, author: { description: 'Writes' } } }).access));
    const author = (m: Model) => m.resourcesByName.get('posts')?.fieldsByName.get('authorId');
    assert.deepEqual(author(fromYaml), author(fromTypescript));
    assert.equal(author(fromYaml)?.fromCaller, 'id');
    assert.equal(author(fromYaml)?.readOnly, true);
    assert.equal(author(fromYaml)?.required, false);
  });
});
