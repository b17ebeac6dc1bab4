import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import { StartupError } from '../../src/config/startup-error.js';
import { loadSeed } from '../../src/core/seed.js';
import { limitsFrom } from '../../src/pipeline/context.js';
import { startKiln } from '../../src/start.js';
import { BLOG_MODEL_PATH, blogModel } from '../helpers/blog.js';
import { runCliProcess, STACK_LINE } from '../helpers/cli-process.js';
import { BACKENDS, createTestDatabase } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-seed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function seedFile(content: unknown): string {
  const path = join(dir, `seed-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

const ada = { id: 1, email: 'ada@example.com', name: 'Ada Lovelace' };

/** `kiln serve --seed FILE` on the blog model: it must exit 1 before listening, with no stack. */
async function serveWithSeed(file: string): Promise<string> {
  const run = await runCliProcess(['serve', '--migrate', '--model', BLOG_MODEL_PATH, '--seed', file]);
  assert.equal(run.code, 1, run.stderr);
  assert.doesNotMatch(run.stderr, STACK_LINE);
  assert.doesNotMatch(run.stderr, /Kiln is serving/);
  return run.stderr;
}

describe('kiln serve --seed refuses a broken seed file with one message', { concurrency: 2 }, () => {
  test('a missing file', async () => {
    const missing = join(dir, 'nowhere.json');
    assert.equal(await serveWithSeed(missing), `kiln serve: the seed file ${missing} does not exist; check the --seed path\n`);
  });

  test('a file that is not JSON: the line and column where it breaks', async () => {
    const file = seedFile('{\n  "users": [\n    { "id": 1, }\n  ]\n}\n');
    assert.equal(await serveWithSeed(file), `kiln serve: ${file}: not valid JSON at line 3, column 16: unexpected "}"; fix the file there\n`);
  });

  test('one bad value: the file, the record and the field', async () => {
    const file = seedFile({
      users: [ada],
      posts: [
        { title: 'a', authorId: 1 },
        { title: 'b', authorId: 1 },
        { title: 'c', authorId: 1, status: 'live' },
      ],
    });
    assert.equal(await serveWithSeed(file), `kiln serve: ${file}: posts[2].status: must be one of: draft, published\n`);
  });

  test('every problem at once: unknown resources and keys, bad values, a record that is not an object', async () => {
    const file = seedFile({
      users: [
        { ...ada, nickname: 'ada' },
        { ...ada, id: 'two', email: 'not an email' },
      ],
      postz: [],
      posts: [{ title: '', authorId: 1, tags: [1, 1] }, 'a post'],
      tags: { name: 'history' },
    });
    assert.equal(
      await serveWithSeed(file),
      [
        `kiln serve: ${file} has 8 problems; nothing was loaded:`,
        '  - users[0].nickname: "nickname" is not a user field',
        '  - users[1].id: must be a positive integer id',
        '  - users[1].email: must be an email address',
        '  - "postz" is not a resource of the model (its resources: users, posts, comments, tags)',
        '  - posts[0].title: must be a string of 1 to 200 characters (this one has 0)',
        '  - posts[0].tags: lists the same tag id twice (items 0 and 1)',
        '  - posts[1]: must be an object of field values',
        '  - tags: must be a list of records, e.g. "tags": [{ … }]',
        '',
      ].join('\n'),
    );
  });
});

describe('loadSeed', () => {
  const limits = limitsFrom(resolveSettings({}));

  test('lists the first 20 problems and counts the rest', async () => {
    const model = await blogModel();
    const file = seedFile({ tags: Array.from({ length: 25 }, () => ({ name: '' })) });
    assert.throws(
      () => loadSeed(file, model, limits),
      (e: unknown) => {
        assert.ok(e instanceof StartupError);
        const lines = e.message.split('\n');
        assert.equal(lines[0], `${file} has 25 problems; nothing was loaded:`);
        assert.equal(lines.length, 22);
        assert.equal(lines[20], '  - tags[19].name: must be a string of 1 to 50 characters (this one has 0)');
        assert.equal(lines[21], '  … and 5 more');
        return true;
      },
    );
  });

  test('a top level that is not an object, an empty file', async () => {
    const model = await blogModel();
    const list = seedFile([ada]);
    assert.throws(() => loadSeed(list, model, limits), {
      message: `${list}: the seed must be a JSON object of resource names to lists of records, e.g. {"users": [{"id": 1, "email": "ada@example.com"}]}`,
    });
    const empty = seedFile('\n');
    assert.throws(() => loadSeed(empty, model, limits), { message: `${empty}: the file is empty; it must hold a JSON object` });
  });
});

for (const backend of BACKENDS) {
  describe(`loading a seed (${backend})`, () => {
    async function start(seed: unknown) {
      const test_ = await createTestDatabase(backend);
      const settings = { ...resolveSettings({}), host: '127.0.0.1', port: 0, dbSchema: test_.schema, logLevel: 'silent' };
      const options = { model: await blogModel(), settings, db: test_.db, seedFile: seedFile(seed) };
      return { test_, options };
    }

    test('ids, timestamps and readOnly fields may be given, and are stored; sequences move past the ids', async () => {
      const createdAt = '2020-01-02T03:04:05.000Z';
      const { test_, options } = await start({ users: [{ ...ada, id: 7, createdAt, updatedAt: createdAt }], tags: [{ name: 'history' }] });
      const kiln = await startKiln(options);
      try {
        assert.deepEqual(kiln.seed, { status: 'loaded', records: 2 });
        assert.equal(kiln.seeded, true);
        const response = await fetch(`${kiln.url}/v1/users/7`);
        const { data: user } = (await response.json()) as { data: { createdAt: string } };
        assert.equal(user.createdAt, createdAt);
        const created = await fetch(`${kiln.url}/v1/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'alan@example.com', name: 'Alan' }),
        });
        assert.equal(((await created.json()) as { data: { id: number } }).data.id, 8);
      } finally {
        await kiln.close({ keepDatabase: true });
      }
      const again = await startKiln(options);
      assert.deepEqual(again.seed, { status: 'skipped' });
      assert.equal(again.seeded, false);
      await again.close({ keepDatabase: true });
      await test_.dispose();
    });

    test('a record the database refuses loads nothing, and names the record', async () => {
      const { test_, options } = await start({
        users: [ada],
        posts: [
          { title: 'a', authorId: 1 },
          { title: 'b', authorId: 2 },
        ],
      });
      await assert.rejects(startKiln(options), {
        name: 'StartupError',
        message: `${options.seedFile}: posts[1]: relation "author" points at a record that does not exist (records load in the order of the file: list the records it points at first); nothing was loaded`,
      });
      assert.deepEqual(await test_.db.query('SELECT count(*)::int AS n FROM users'), [{ n: 0 }]);
      assert.deepEqual(await test_.db.query('SELECT count(*)::int AS n FROM posts'), [{ n: 0 }]);
      await test_.dispose();
    });
  });
}
