/**
 * The Dockerfiles and compose files (the repository's, which serve examples/blog, and the ones
 * `kiln init` writes) cannot be built here: the test machines have no container runtime. What is
 * checked instead is everything Kiln decides in them: the commands and flags they run, the settings
 * they set, the health check (run for real against a server), the non-root user, and the wiring of
 * the database service.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { resolveSettings, SETTINGS } from '../../src/config/settings.js';
import { blogModel } from '../helpers/blog.js';
import { runCli } from '../helpers/run-cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TEMPLATES = join(ROOT, 'templates/init');
const SETTING_NAMES = new Set(Object.values(SETTINGS).map((s) => s.env));

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** A Dockerfile's instructions grouped by stage: continuation lines joined, comments dropped. */
function dockerStages(file: string): Instruction[][] {
  const lines = readFileSync(file, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Instruction[][] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stages.push([]);
    stages.at(-1)?.push({ keyword: keyword.toUpperCase(), args: args.trim() });
  }
  return stages;
}

const all = (stage: Instruction[], keyword: string) => stage.filter((i) => i.keyword === keyword).map((i) => i.args);
const one = (stage: Instruction[], keyword: string) => {
  const found = all(stage, keyword);
  assert.equal(found.length, 1, `one ${keyword} in the stage`);
  return found[0] as string;
};

/** `ENV A=1 B=2` lines as an object. */
function envOf(stage: Instruction[]): Record<string, string> {
  return Object.fromEntries(all(stage, 'ENV').flatMap((args) => args.split(/\s+/).map((pair) => pair.split('=', 2) as [string, string])));
}

/** Asserts a command line is `kiln <command> <flags>` that the CLI accepts, and returns the kiln arguments. */
async function assertKilnCommand(argv: string[], kilnBinary: string[]): Promise<string[]> {
  assert.deepEqual(argv.slice(0, kilnBinary.length), kilnBinary);
  const args = argv.slice(kilnBinary.length);
  // --help after the flags: the CLI checks every flag against the command, then prints the usage.
  const { code, out, err } = await runCli([...args, '--help']);
  assert.equal(err, '', `kiln ${args.join(' ')} is refused`);
  assert.equal(code, 0);
  assert.ok(out.startsWith(`Usage: kiln ${args[0]} `), out);
  return args;
}

const DOCKERFILES = [
  { name: 'the repository Dockerfile (examples/blog)', file: join(ROOT, 'Dockerfile'), ignore: join(ROOT, '.dockerignore'), kiln: ['node', 'bin/kiln.js'] },
  {
    name: 'the Dockerfile of kiln init',
    file: join(TEMPLATES, 'Dockerfile'),
    ignore: join(TEMPLATES, 'dockerignore'),
    kiln: ['node_modules/.bin/kiln'],
  },
];

for (const { name, file, ignore, kiln } of DOCKERFILES) {
  describe(name, () => {
    const stages = dockerStages(file);
    const runtime = stages.at(-1) ?? [];

    test('builds in a full Node image and runs in a slim one', () => {
      assert.ok(stages.length >= 2, 'multi-stage');
      assert.match(one(stages[0] ?? [], 'FROM'), /^node:20 AS \w+$/);
      assert.equal(one(runtime, 'FROM'), 'node:20-slim');
      assert.ok(
        all(runtime, 'COPY').some((c) => c.startsWith('--from=')),
        'the runtime stage copies from the build stage',
      );
    });

    test('the runtime stage runs as a user other than root', () => {
      const user = one(runtime, 'USER');
      assert.ok(!['root', '0', '0:0'].includes(user), user);
      const userAt = runtime.findIndex((i) => i.keyword === 'USER');
      assert.ok(
        runtime.slice(userAt).every((i) => i.keyword !== 'RUN'),
        'nothing runs as root after USER',
      );
    });

    test('every environment variable it sets is a Kiln setting with a valid value; the server listens on all interfaces', () => {
      const env = envOf(runtime);
      assert.deepEqual(
        Object.keys(env).filter((k) => !SETTING_NAMES.has(k)),
        [],
      );
      const settings = resolveSettings(env);
      assert.equal(settings.host, '0.0.0.0');
      assert.equal(one(runtime, 'EXPOSE'), String(settings.port));
    });

    test('CMD runs kiln serve --migrate with flags the CLI accepts, on files the image holds', async () => {
      const args = await assertKilnCommand(JSON.parse(one(runtime, 'CMD')), kiln);
      assert.deepEqual(args.slice(0, 2), ['serve', '--migrate']);
      const copied = all(runtime, 'COPY').filter((c) => !c.startsWith('--from='));
      for (const flag of ['--model', '--seed']) {
        const at = args.indexOf(flag);
        if (at === -1) continue;
        const path = args[at + 1] ?? '';
        assert.ok(existsSync(join(ROOT, path)), `${path} exists`);
        assert.ok(
          copied.some((c) => c === '. .' || path.startsWith(`${c.split(' ')[0]}/`)),
          `${path} is copied into the image`,
        );
      }
    });

    test('.dockerignore keeps out node_modules and local data, and nothing the Dockerfile copies', () => {
      const ignored = readFileSync(ignore, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'));
      for (const entry of ['node_modules', '.kiln', '.env']) assert.ok(ignored.includes(entry), entry);
      const sources = stages.flatMap((s) => all(s, 'COPY').filter((c) => !c.startsWith('--from=')));
      const copiedNames = sources.flatMap((c) => c.split(/\s+/).slice(0, -1)).map((p) => p.replace(/\*$/, '').split('/')[0]);
      assert.deepEqual(
        copiedNames.filter((p) => p !== undefined && p !== '.' && ignored.includes(p)),
        [],
      );
    });
  });
}

/** Runs `node <args>` with PORT set, without blocking this process (which serves the request). */
async function exitCode(args: string[], port: string): Promise<number | null> {
  const child = spawn(process.execPath, args, { env: { ...process.env, PORT: port }, stdio: 'ignore', timeout: 20_000 });
  const [code] = await once(child, 'exit');
  return code as number | null;
}

describe('the HEALTHCHECK of both Dockerfiles, run against a real server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(await blogModel(), 'pglite');
  });
  after(() => server?.close());

  for (const { name, file } of DOCKERFILES) {
    test(`${name}: asks /readyz on PORT; exit 0 while ready, 1 when nothing answers`, async () => {
      const healthcheck = one(dockerStages(file).at(-1) ?? [], 'HEALTHCHECK');
      const [, options = '', command = ''] = /^(.*?)\s*CMD\s+(\[.*\])$/.exec(healthcheck) ?? [];
      assert.match(options, /--interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+/);
      const [program, ...args] = JSON.parse(command) as string[];
      assert.equal(program, 'node', 'slim images have no curl');
      assert.match(args.join(' '), /\/readyz/);
      const port = new URL(server.url).port;
      assert.equal(await exitCode(args, port), 0);
      assert.equal(await exitCode(args, '1'), 1);
    });
  }
});

const COMPOSE_FILES = [
  { name: 'the repository compose.yaml', file: join(ROOT, 'compose.yaml') },
  { name: 'the compose.yaml of kiln init', file: join(TEMPLATES, 'compose.yaml') },
];

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
  ports?: string[];
  command?: unknown;
}

for (const { name, file } of COMPOSE_FILES) {
  describe(name, () => {
    const compose = parse(readFileSync(file, 'utf8')) as { services: Record<string, Service> };
    const kiln = compose.services.kiln as Service;

    test('is YAML with a kiln service built from the Dockerfile beside it, using its CMD', () => {
      assert.ok(kiln, 'a service named kiln');
      assert.equal(kiln.build, '.');
      assert.ok(existsSync(join(file, '../Dockerfile')), 'a Dockerfile beside it');
      assert.equal(kiln.command, undefined, 'the image CMD (kiln serve --migrate) runs');
    });

    test('every environment variable of the kiln service is a Kiln setting with a valid value', () => {
      const env = kiln.environment ?? {};
      assert.deepEqual(
        Object.keys(env).filter((k) => !SETTING_NAMES.has(k)),
        [],
      );
      // The secrets come from .env: give them a value of the kind Compose would substitute.
      const substituted = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.startsWith('${') ? 'x'.repeat(48) : v]));
      assert.doesNotThrow(() => resolveSettings(substituted));
    });

    test('REDIS_URL points at a redis service with a health check, and kiln waits until it is healthy', () => {
      const url = new URL(kiln.environment?.REDIS_URL ?? '');
      assert.equal(url.protocol, 'redis:');
      assert.equal(url.port, '6379');
      const redis = compose.services[url.hostname];
      assert.ok(redis, `a service named ${url.hostname}`);
      assert.match(redis.image ?? '', /^redis:\d+$/);
      assert.deepEqual(redis.healthcheck?.test, ['CMD', 'redis-cli', 'ping']);
      assert.deepEqual(kiln.depends_on?.[url.hostname], { condition: 'service_healthy' });
    });

    test('DATABASE_URL points at a postgres:15 service with a health check, and kiln waits until it is healthy', () => {
      const url = new URL(kiln.environment?.DATABASE_URL ?? '');
      assert.equal(url.protocol, 'postgres:');
      const db = compose.services[url.hostname];
      assert.ok(db, `a service named ${url.hostname}`);
      assert.equal(db.image, 'postgres:15');
      assert.equal(db.environment?.POSTGRES_USER, url.username);
      assert.equal(db.environment?.POSTGRES_PASSWORD, url.password);
      assert.equal(db.environment?.POSTGRES_DB, url.pathname.slice(1));
      assert.equal(url.port, '5432');
      assert.deepEqual(db.healthcheck?.test, ['CMD-SHELL', `pg_isready -U ${url.username} -d ${url.pathname.slice(1)}`]);
      assert.deepEqual(kiln.depends_on?.[url.hostname], { condition: 'service_healthy' });
    });

    test('takes KILN_CURSOR_SECRET, which kiln serve requires on PostgreSQL, from .env, and refuses to start without it', () => {
      assert.match(kiln.environment?.KILN_CURSOR_SECRET ?? '', /^\$\{KILN_CURSOR_SECRET:\?.+\}$/);
    });

    test('publishes the port the image listens on', () => {
      const dockerfile = existsSync(join(file, '../Dockerfile')) ? join(file, '../Dockerfile') : join(ROOT, 'Dockerfile');
      const port = envOf(dockerStages(dockerfile).at(-1) ?? []).PORT;
      assert.deepEqual(kiln.ports, [`${port}:${port}`]);
    });
  });
}
