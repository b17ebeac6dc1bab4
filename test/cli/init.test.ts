import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveSettings, SETTINGS } from '../../src/config/settings.js';
import { runCli } from '../helpers/run-cli.js';
import { BACKENDS, createTestDatabase, TEST_CURSOR_SECRET, TEST_DATABASE_URL } from '../helpers/server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TEMPLATES = join(ROOT, 'templates/init');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), 'kiln-init-'));

/** The files of a folder, recursively, as sorted relative paths; node_modules and data left out. */
function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((p) => !p.startsWith('node_modules'))
    .sort();
}

const PROJECT_FILES = [
  '.dockerignore',
  '.env.example',
  '.gitignore',
  'Dockerfile',
  'README.md',
  'compose.yaml',
  'kiln.config.ts',
  'package.json',
  'test/api.test.js',
];

/** The migration folder `kiln init` wrote, e.g. migrations/20260101120000_initial. */
function migrationOf(dir: string): string {
  const names = readdirSync(join(dir, 'migrations'));
  assert.equal(names.length, 1);
  assert.match(names[0] ?? '', /^\d{14}_initial$/);
  return `migrations/${names[0]}`;
}

after(() => rmSync(work, { recursive: true, force: true }));

describe('kiln init', () => {
  test('writes a project into a missing folder, named after it, with its first migration, and says what to run next', async () => {
    const { code, out, err } = await runCli(['init', 'My Api'], { cwd: work });
    assert.equal(err, '');
    assert.equal(code, 0);
    const dir = join(work, 'My Api');
    const migration = migrationOf(dir);
    assert.deepEqual(filesIn(dir), [...PROJECT_FILES, `${migration}/down.sql`, `${migration}/snapshot.json`, `${migration}/up.sql`].sort());
    assert.equal(
      out,
      [
        'kiln init: created the Kiln project "my-api" in My Api',
        '  package.json',
        '  kiln.config.ts',
        '  test/api.test.js',
        '  README.md',
        '  .env.example',
        '  .gitignore',
        '  Dockerfile',
        '  compose.yaml',
        '  .dockerignore',
        `  ${migration}/ (up.sql, down.sql, snapshot.json)`,
        '',
        'Next:',
        '  cd "My Api"',
        '  npm install',
        '  npm run dev      # serves the API at http://localhost:3000/v1, docs at /docs',
      ].join('\n'),
    );

    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')), {
      name: 'my-api',
      version: '0.1.0',
      private: true,
      type: 'module',
      engines: { node: '>=20.11' },
      scripts: { dev: 'kiln dev', start: 'kiln serve --migrate', test: 'kiln check && node --test' },
      dependencies: { kilnjs: `^${VERSION}` },
    });
    // Every template is written: the dot files are kept without their dot, package.json under another name.
    const written = { gitignore: '.gitignore', dockerignore: '.dockerignore', 'env.example': '.env.example', 'package.template.json': 'package.json' };
    assert.deepEqual(
      filesIn(TEMPLATES)
        .map((t) => written[t as keyof typeof written] ?? t)
        .sort(),
      PROJECT_FILES,
    );
    assert.equal(readFileSync(join(dir, 'kiln.config.ts'), 'utf8'), readFileSync(join(TEMPLATES, 'kiln.config.ts'), 'utf8'));
    assert.match(readFileSync(join(dir, 'kiln.config.ts'), 'utf8'), /^import \{ defineModel, defineResource, field \} from 'kilnjs';$/m);
    const ignored = readFileSync(join(dir, '.gitignore'), 'utf8').split('\n');
    for (const entry of ['node_modules/', '.kiln/', '.env']) assert.ok(ignored.includes(entry), entry);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    assert.ok(readme.startsWith('# my-api\n'));
    assert.match(readme, /^npm install && npm run dev /m);
    assert.match(readme, /^npm test /m);
    const up = readFileSync(join(dir, migration, 'up.sql'), 'utf8');
    assert.match(up, /CREATE TABLE "?projects"?/);
    assert.match(up, /CREATE TABLE "?tasks"?/);
  });

  test('.env.example sets only settings Kiln has, each to a value it accepts', () => {
    const known = new Set(Object.values(SETTINGS).map((s) => s.env));
    const lines = readFileSync(join(TEMPLATES, 'env.example'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    const env = Object.fromEntries(lines.map((l) => l.split('=', 2) as [string, string]));
    assert.ok(Object.keys(env).includes('DATABASE_URL'));
    assert.ok(Object.keys(env).includes('PORT'));
    assert.deepEqual(
      Object.keys(env).filter((k) => !known.has(k)),
      [],
    );
    assert.doesNotThrow(() => resolveSettings(env));
  });

  test('with no DIR it fills the current folder, keeping files it does not write', async () => {
    const dir = join(work, 'here');
    mkdirSync(join(dir, '.git'), { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    const { code, out, err } = await runCli(['init'], { cwd: dir });
    assert.equal(err, '');
    assert.equal(code, 0);
    assert.equal(out.split('\n')[0], 'kiln init: created the Kiln project "here" in .');
    assert.ok(!out.includes('  cd '), 'no cd into the folder it is in');
    assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'mine\n');
    assert.ok(existsSync(join(dir, 'kiln.config.ts')));
  });

  test('refuses when any file it would write exists, naming them, and writes nothing', async () => {
    const dir = join(work, 'taken');
    mkdirSync(join(dir, 'migrations'), { recursive: true });
    writeFileSync(join(dir, 'README.md'), 'my readme\n');
    writeFileSync(join(dir, '.gitignore'), 'dist\n');
    const { code, out, err } = await runCli(['init', 'taken'], { cwd: work });
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.equal(
      err,
      'kiln init: taken already has README.md, .gitignore, migrations/\nNothing was written. Move them away, or create the project in another folder: kiln init <DIR>',
    );
    assert.deepEqual(readdirSync(dir).sort(), ['.gitignore', 'README.md', 'migrations']);
    assert.deepEqual(readdirSync(join(dir, 'migrations')), []);
    assert.equal(readFileSync(join(dir, 'README.md'), 'utf8'), 'my readme\n');

    const single = join(work, 'single');
    mkdirSync(single);
    writeFileSync(join(single, 'package.json'), '{}');
    const one = await runCli(['init', single]);
    assert.equal(one.code, 1);
    assert.equal(
      one.err,
      `kiln init: ${single} already has package.json\nNothing was written. Move it away, or create the project in another folder: kiln init <DIR>`,
    );
    assert.deepEqual(readdirSync(single), ['package.json']);
  });

  test('a DIR that is a file, or inside one, is refused with a clear message', async () => {
    writeFileSync(join(work, 'file.txt'), 'x');
    const file = await runCli(['init', 'file.txt'], { cwd: work });
    assert.equal(file.code, 1);
    assert.equal(file.err, 'kiln init: file.txt is a file, not a folder\nGive a folder that is empty or does not exist yet: kiln init <DIR>');

    const inside = await runCli(['init', 'file.txt/sub'], { cwd: work });
    assert.equal(inside.code, 1);
    assert.equal(inside.err, `kiln init: cannot write the project in file.txt/sub: ENOTDIR: not a directory, mkdir '${join(work, 'file.txt/sub')}'`);
    assert.equal(readFileSync(join(work, 'file.txt'), 'utf8'), 'x');
  });
});

/**
 * The path of a new user, without the network: the project made by `kiln init` gets this repository
 * as its `kilnjs` (a link in node_modules, as `npm install` would make), then runs its own scripts.
 * The linked package runs from dist/, which `npm install` builds (the prepare script).
 */
describe('a project made by kiln init, with kilnjs linked to this repository', () => {
  const project = join(work, 'shop');
  const running = new Set<ChildProcess>();
  // The test runner marks its children with NODE_TEST_CONTEXT; the project's own `node --test` must not inherit it.
  const { NODE_TEST_CONTEXT: _, ...baseEnv } = process.env;

  function run(command: string, args: string[], env: Record<string, string> = {}) {
    const child = spawn(command, args, { cwd: project, env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      err += d;
    });
    const exit = once(child, 'close').then(([code]) => {
      running.delete(child);
      return code as number | null;
    });
    return { child, exit, out: () => out, err: () => err };
  }

  before(async () => {
    if (!existsSync(join(ROOT, 'dist/index.js')) || !existsSync(join(ROOT, 'dist/cli/main.js'))) {
      const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
      assert.ok(existsSync(join(ROOT, 'dist/cli/main.js')), `dist/ is missing and "npm run build" failed:\n${build.stdout}${build.stderr}`);
    }
    const { code, err } = await runCli(['init', project]);
    assert.equal(code, 0, err);
    mkdirSync(join(project, 'node_modules/.bin'), { recursive: true });
    symlinkSync(ROOT, join(project, 'node_modules/kilnjs'), 'dir');
    symlinkSync('../kilnjs/bin/kiln.js', join(project, 'node_modules/.bin/kiln'));
  });

  after(async () => {
    for (const child of running) child.kill('SIGKILL');
    await Promise.all([...running].map((child) => once(child, 'close')));
  });

  test('kiln check finds and accepts kiln.config.ts', async () => {
    const check = run('node_modules/.bin/kiln', ['check']);
    assert.equal(await check.exit, 0, check.err());
    assert.equal(check.out().split('\n')[0], 'kiln.config.ts: the model is valid (2 resources)');
  });

  test('npm test passes: the check, then the starter API tests on an in-memory database', async () => {
    const npm = run('npm', ['test'], { npm_config_update_notifier: 'false' });
    assert.equal(await npm.exit, 0, `${npm.out()}\n${npm.err()}`);
    assert.match(npm.out(), /the model is valid \(2 resources\)/);
    assert.match(npm.out(), /^# pass 2$/m);
    assert.match(npm.out(), /^# fail 0$/m);
  });

  for (const backend of BACKENDS) {
    test(`kiln serve --migrate serves the starter resources (${backend}), and SIGTERM stops it with 0`, async () => {
      const database = backend === 'postgres' ? await createTestDatabase('postgres') : undefined;
      try {
        const env = {
          DATABASE_URL: database ? TEST_DATABASE_URL : '',
          KILN_CURSOR_SECRET: database ? TEST_CURSOR_SECRET : '',
          KILN_DB_SCHEMA: database?.schema ?? 'public',
          KILN_DATA_DIR: join(work, 'shop-data'),
          HOST: '127.0.0.1',
          PORT: '0',
          KILN_LOG_LEVEL: 'warn',
        };
        const serve = run('node_modules/.bin/kiln', ['serve', '--migrate'], env);
        for (let waited = 0; !serve.err().includes('Press Ctrl+C to stop.'); waited += 50) {
          assert.ok(serve.child.exitCode === null && waited < 60_000, `kiln serve did not start:\n${serve.err()}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        const api = /API\s+(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(serve.err())?.[1];
        assert.ok(api, serve.err());
        const post = (path: string, body: unknown) =>
          fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

        const created = await post('/projects', { name: 'Launch' });
        assert.equal(created.status, 201);
        const { data: launch } = (await created.json()) as { data: { id: number } };
        const task = await post('/tasks', { title: 'Write the README', projectId: launch.id });
        assert.equal(task.status, 201);
        const list = await fetch(`${api}/projects?include=tasks`);
        assert.equal(list.status, 200);
        const { data } = (await list.json()) as { data: { name: string; tasks: { title: string; done: boolean; priority: string }[] }[] };
        assert.deepEqual(
          data.map((p) => [p.name, p.tasks.map((t) => [t.title, t.done, t.priority])]),
          [['Launch', [['Write the README', false, 'normal']]]],
        );

        serve.child.kill('SIGTERM');
        assert.equal(await serve.exit, 0, serve.err());
      } finally {
        await database?.dispose();
        rmSync(join(work, 'shop-data'), { recursive: true, force: true });
      }
    });
  }
});
