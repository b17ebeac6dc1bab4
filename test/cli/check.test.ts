import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { accessTableOf, roleLines, tableLines } from '../../src/access/access-table.js';
import { main } from '../../src/cli/main.js';
import { loadModel } from '../../src/model/load.js';
import { BLOG_MODEL_PATH } from '../helpers/blog.js';

async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...args: unknown[]) => out.push(args.join(' '));
  console.error = (...args: unknown[]) => err.push(args.join(' '));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** The lines of the section that starts with the line `title`, up to the blank line that ends it. */
function sectionOf(out: string, title: string): string[] {
  const lines = out.split('\n');
  const start = lines.indexOf(title);
  assert.ok(start >= 0, `no section "${title}" in:\n${out}`);
  const end = lines.indexOf('', start);
  return lines.slice(start, end < 0 ? undefined : end);
}

const dir = mkdtempSync(join(tmpdir(), 'kiln-check-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('kiln check', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prints every resource of the blog model with its table, routes, fields and relations', async () => {
    const { code, out, err } = await runCli(['check', '--model', BLOG_MODEL_PATH]);
    assert.equal(code, 0);
    assert.equal(err, '');
    const lines = out.split('\n');
    assert.equal(lines[0], `${BLOG_MODEL_PATH}: the model is valid (4 resources)`);
    const posts = out.slice(out.indexOf('posts  (table posts)')).split('\n\n')[0]?.split('\n');
    assert.deepEqual(posts, [
      'posts  (table posts)',
      '  routes: GET /v1/posts, POST /v1/posts, POST /v1/posts/bulk, GET|PATCH|PUT|DELETE /v1/posts/:id',
      '  id             bigint  readOnly',
      '  title          string  required',
      '  slug           string  nullable, unique, readOnly',
      '  body           text  default ""',
      '  status         enum(draft|published)  default "draft", write [editor]',
      '  authorId       bigint  readOnly, default auth.id',
      '  createdAt      datetime  readOnly',
      '  updatedAt      datetime  readOnly',
      '  author         belongsTo → users',
      '  comments       hasMany → comments',
      '  tags           manyToMany → tags',
      '  hooks: beforeCreate',
    ]);
    assert.deepEqual(out.slice(out.indexOf('custom routes')).trimEnd().split('\n'), ['custom routes', '  POST /v1/posts/:id/publish  Publish a post']);
    assert.deepEqual(
      out
        .slice(out.indexOf('\nauth\n') + 1, out.indexOf('custom routes'))
        .trimEnd()
        .split('\n'),
      ['auth', '  accounts   users (login email); signup open (also sets name); verification optional; passwords 10–128 characters'],
    );
    // The example's access table, as the shared renderer prints it (its exact text: the tests below).
    const blog = await loadModel(BLOG_MODEL_PATH);
    const table = accessTableOf(blog);
    assert.ok(blog.access && table, 'the blog declares rules');
    assert.deepEqual(sectionOf(out, 'access'), [
      'access',
      '  roles',
      ...roleLines(blog.access).map((l) => `    ${l}`),
      ...tableLines(table).map((l) => `  ${l}`),
    ]);
    for (const name of ['users  (table users)', 'comments  (table comments)', 'tags  (table tags)']) assert.ok(lines.includes(name), name);
    assert.ok(lines.includes('  email          string  required, unique, read id == auth.id, write [admin]'));
    assert.ok(lines.includes('  passwordHash   string  nullable, readOnly, hidden'));
  });

  test('a model with rules: its roles, then the access table (resource.operation × role, and the rule)', async () => {
    const path = file(
      'rules.yaml',
      `auth:
  accounts: { resource: users, login: email }
roles:
  author: {}
  editor: { inherits: author, description: Publishes anyone's post }
  admin: { everything: true }
resources:
  users:
    access: { read: authenticated }
    fields:
      email: { type: string, format: email, unique: true, read: "id == auth.id", write: [admin] }
  posts:
    access:
      read: "status == 'published' || authorId == auth.id || auth.roles has 'editor'"
      create: authenticated
      update: "authorId == auth.id || auth.roles has 'editor'"
      delete: [admin]
    fields:
      title: { type: string }
      status: { type: enum, values: [draft, published], default: draft }
      author: { type: belongsTo, target: users, default: auth.id }
`,
    );
    const { code, out, err } = await runCli(['check', '--model', path]);
    assert.equal(code, 0);
    assert.equal(err, '');
    const lines = out.split('\n');
    assert.ok(lines.includes('  email          string  required, unique, read id == auth.id, write [admin]'), out);
    assert.ok(lines.includes('  authorId       bigint  readOnly, default auth.id'), out);
    assert.deepEqual(sectionOf(out, 'access'), [
      'access',
      '  roles',
      '    author',
      "    editor  inherits author; Publishes anyone's post",
      '    admin   everything (every operation, every row, every field)',
      '  operation     anonymous  authenticated  author  editor  admin  rule',
      '  users.list    —          all            all     all     all    authenticated',
      '  users.read    —          all            all     all     all    authenticated',
      '  users.create  —          —              —       —       all    (no rule)',
      '  users.update  —          —              —       —       all    (no rule)',
      '  users.delete  —          —              —       —       all    (no rule)',
      "  posts.list    rows       rows           rows    all     all    status == 'published' || authorId == auth.id || auth.roles has 'editor'",
      "  posts.read    rows       rows           rows    all     all    status == 'published' || authorId == auth.id || auth.roles has 'editor'",
      '  posts.create  —          all            all     all     all    authenticated',
      "  posts.update  —          rows           rows    all     all    authorId == auth.id || auth.roles has 'editor'",
      '  posts.delete  —          —              —       —       all    [admin]',
      '  all: every record · rows: the records its rule matches · —: refused · (no rule): refused to all but roles granted everything',
    ]);
    assert.ok(out.indexOf('\naccess\n') < out.indexOf('\nauth\n'), 'the access table comes before auth');
  });

  test('a create that takes a required field from the caller is refused to anonymous callers whatever its rule', async () => {
    const path = file(
      'stamps.yaml',
      `auth:
  accounts: { resource: users, login: email }
resources:
  users:
    fields:
      email: { type: string, format: email, unique: true }
  stamps:
    access: { create: public, read: public }
    fields:
      author: { type: belongsTo, target: users, default: auth.id }
`,
    );
    const { code, out } = await runCli(['check', '--model', path]);
    assert.equal(code, 0);
    const section = sectionOf(out, 'access');
    assert.deepEqual(section.slice(0, 3), ['access', '  roles', '    no roles declared: only the built-in anonymous and authenticated']);
    assert.ok(section.includes('  stamps.create  —          all            public'), section.join('\n'));
    assert.ok(section.includes('  stamps.read    all        all            public'), section.join('\n'));
  });

  test('a model without rules says, in its access section, that everything is open to everyone and where rules are explained', async () => {
    const path = file('open.yaml', 'resources:\n  notes: { fields: { title: { type: string } } }\n');
    const { code, out } = await runCli(['check', '--model', path]);
    assert.equal(code, 0);
    assert.deepEqual(sectionOf(out, 'access'), [
      'access',
      '  OPEN: the model declares no access rules, so anyone, anonymous callers included, may list, read, create, update and delete every resource',
      '  declare roles and rules to limit it: see docs/reference/access-rules.md',
    ]);
  });

  test('routes follow KILN_API_PREFIX', async () => {
    const saved = process.env.KILN_API_PREFIX;
    process.env.KILN_API_PREFIX = '/v3';
    try {
      const { code, out } = await runCli(['check', '--model', BLOG_MODEL_PATH]);
      assert.equal(code, 0);
      assert.match(out, /\n {2}routes: GET \/v3\/tags, POST \/v3\/tags, POST \/v3\/tags\/bulk, GET\|PATCH\|PUT\|DELETE \/v3\/tags\/:id\n/);
    } finally {
      if (saved === undefined) delete process.env.KILN_API_PREFIX;
      else process.env.KILN_API_PREFIX = saved;
    }
  });

  test('a model with several problems exits 1 and lists every one with its path and a fix', async () => {
    const path = file(
      'bad.yaml',
      `resources:
  posts:
    fields:
      title: { type: string, maxLength: 10, default: 42 }
      score: { type: number }
      author: { type: belongsTo, target: people }
      limit: { type: integer }
      status: { type: enum, values: [draft, live], default: archived }
      views: { type: integer, minimum: 0 }
  Bad-Name:
    fields: {}
`,
    );
    const { code, out, err } = await runCli(['check', '--model', path]);
    assert.equal(code, 1);
    assert.equal(out, '');
    const [head, ...rest] = err.split('\n');
    assert.equal(head, `kiln check: ${path}: the model has 7 problems:`);
    const problems: [string, string][] = [];
    for (let i = 0; i < rest.length; i += 2) {
      const what = /^ {2}- (\S+): (.+)$/.exec(rest[i] ?? '');
      const fix = /^ {4}fix: (.+)$/.exec(rest[i + 1] ?? '');
      assert.ok(what && fix, `problem line then fix line: ${rest[i]} / ${rest[i + 1]}`);
      problems.push([what[1] as string, fix[1] as string]);
    }
    assert.deepEqual(
      problems.map(([p]) => p),
      [
        'resources.posts.fields.title.default',
        'resources.posts.fields.score.type',
        'resources.posts.fields.author.target',
        'resources.posts.fields.limit',
        'resources.posts.fields.status.default',
        'resources.posts.fields.views.minimum',
        'resources.Bad-Name',
      ],
    );
    assert.match(err, /title\.default: default 42 does not fit a string field: expected a string\n {4}fix: change the default or the type/);
    assert.match(err, /score\.type: unknown type "number"\n {4}fix: use one of: string, text, integer,/);
    assert.match(err, /author\.target: relation to a missing resource "people"\n {4}fix: use one of: posts, Bad-Name/);
    assert.match(err, /fields\.limit: "limit" is a reserved name\n {4}fix: rename it; reserved: id, createdAt, updatedAt, sort, limit/);
    assert.match(err, /status\.default: default "archived" does not fit an enum field: expected one of draft, live/);
    assert.match(err, /views\.minimum: unknown option "minimum" for an integer field\n {4}fix: use one of: type, required,/);
    assert.doesNotMatch(err, /\n\s+at /, 'no stack trace');
  });

  test('a field that repeats the key a belongsTo adds is reported', async () => {
    const path = file(
      'dup.yaml',
      `resources:
  users: { fields: { name: { type: string } } }
  posts:
    fields:
      author: { type: belongsTo, target: users }
      authorId: { type: integer }
`,
    );
    const { code, err } = await runCli(['check', '--model', path]);
    assert.equal(code, 1);
    assert.equal(
      err,
      `kiln check: ${path}: the model has 1 problem:\n  - resources.posts.fields.author: the key field "authorId" this relation adds is already declared\n    fix: remove the declared "authorId" field; belongsTo adds it`,
    );
  });

  test('a key written twice in YAML or JSON is reported at its path, never silently replaced', async () => {
    const yaml = file('dupkeys.yaml', 'resources:\n  posts: { fields: { a: { type: string } } }\n  posts: { fields: {} }\n');
    const json = file(
      'dupkeys.json',
      '{"resources": {"posts": {"fields": {\n  "title": {"type": "string"},\n  "title": {"type": "integer"},\n  "body": {"type": "text", "type": "string"}\n}}}}',
    );
    const fix = 'keep one entry of each name: the later one would silently replace the earlier';
    const yamlRun = await runCli(['check', '--model', yaml]);
    assert.equal(yamlRun.code, 1);
    assert.equal(yamlRun.err, `kiln check: ${yaml}: the model has 1 problem:\n  - resources.posts: written twice (again on line 3)\n    fix: ${fix}`);
    const jsonRun = await runCli(['check', '--model', json]);
    assert.equal(jsonRun.code, 1);
    assert.equal(
      jsonRun.err,
      `kiln check: ${json}: the model has 2 problems:\n` +
        `  - resources.posts.fields.title: written twice (again on line 3)\n    fix: ${fix}\n` +
        `  - resources.posts.fields.body.type: written twice (again on line 4)\n    fix: ${fix}`,
    );
  });

  test('an unreadable or missing file exits 1 with one clear message', async () => {
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.ts'), /the model has 1 problem:\n {2}- \(file\): the file does not exist\n {4}fix: check the path$/],
      [file('broken.yaml', 'resources:\n  posts: [\n'), /the model has 1 problem:\n {2}- \(file\): cannot be read: .+\n {4}fix: fix the syntax error$/],
      [file('broken.json', '{"resources": '), /the model has 1 problem:\n {2}- \(file\): cannot be read: .*JSON.*\n {4}fix: fix the syntax error$/],
      [file('model.txt', 'resources: {}'), /- \(file\): unknown file type "\.txt"\n {4}fix: use \.ts, \.js, \.yaml, \.yml or \.json$/],
      [file('empty.json', '{"resources": {}}'), /- resources: no resources are declared\n {4}fix: declare at least one resource$/],
    ];
    for (const [path, expected] of cases) {
      const { code, err } = await runCli(['check', '--model', path]);
      assert.equal(code, 1, path);
      assert.ok(err.startsWith(`kiln check: ${path}: `), err);
      assert.match(err, expected);
    }
  });
});
