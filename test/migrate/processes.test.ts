import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BLOG_MODEL_PATH, BLOG_SEED_PATH } from '../helpers/blog.js';
import { as } from '../helpers/callers.js';
import { BACKENDS, createTestDatabase, TEST_CURSOR_SECRET, TEST_DATABASE_URL, TEST_JWT_SECRET, type TestDatabase } from '../helpers/server.js';
import { tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_CLI = "const m = await import('./src/cli/main.ts'); process.exitCode = await m.main(process.argv.slice(1));";

interface Cli {
  readonly child: ChildProcess;
  stderr(): string;
  /** Resolves once stderr contains `text` (after `from` characters), or fails after a while. */
  waitFor(text: string, from?: number): Promise<void>;
  stop(): Promise<number | null>;
}

function spawnCli(args: string[], env: Record<string, string>): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', RUN_CLI, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      KILN_LOG_LEVEL: 'silent',
      KILN_AUTH_JWT_SECRET: TEST_JWT_SECRET,
      KILN_CURSOR_SECRET: TEST_CURSOR_SECRET,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  child.stdout?.resume();
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    stderr: () => err,
    async waitFor(text, from = 0) {
      for (let waited = 0; !err.slice(from).includes(text); waited += 50) {
        if (child.exitCode !== null || waited > 60_000) throw new Error(`"${text}" never appeared:\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      return exit;
    },
  };
}

const apiOf = (stderr: string) => /API\s+(http:\/\/[^\s]+\/v1)/.exec(stderr)?.[1]?.replace('localhost', '127.0.0.1') as string;
const notes = (fields: object) => JSON.stringify({ resources: { notes: { fields } } });

for (const backend of BACKENDS) {
  describe(`kiln serve --migrate and kiln dev as processes (${backend})`, () => {
    let db: TestDatabase;
    let tmp: ReturnType<typeof tempDir>;
    let env: Record<string, string>;
    before(async () => {
      db = await createTestDatabase(backend);
      tmp = tempDir();
      env = backend === 'postgres' ? { DATABASE_URL: TEST_DATABASE_URL, KILN_DB_SCHEMA: db.schema } : { DATABASE_URL: '', KILN_DATA_DIR: 'memory' };
    });
    after(async () => {
      await db.dispose();
      tmp.remove();
    });

    test('serve --migrate applies the blog migration, seeds, and serves (what npm start runs)', async () => {
      const cli = spawnCli(['serve', '--migrate', '--model', BLOG_MODEL_PATH, '--seed', BLOG_SEED_PATH], env);
      try {
        await cli.waitFor('Press Ctrl+C to stop.');
        assert.match(cli.stderr(), /^kiln serve: applied \d{14}_initial\n/);
        // The blog's rules: anyone reads the 5 published posts of the seed, an admin all 8.
        const total = async (headers: Record<string, string>) =>
          ((await (await fetch(`${apiOf(cli.stderr())}/posts?count=true&limit=1`, { headers })).json()) as any).page.total;
        assert.equal(await total({}), 5);
        assert.equal(await total(as(1, ['admin'])), 8);
      } finally {
        assert.equal(await cli.stop(), 0);
      }
      if (backend === 'postgres')
        await db.db.query('DROP TABLE "comments", "posts_tags", "posts", "tags", "users", "kiln_migrations", "kiln_idempotency_keys"');
    });

    test('dev generates and applies a migration for each model change, and keeps serving when one needs a decision', async () => {
      const model = join(tmp.dir, 'model.json');
      writeFileSync(model, notes({ text: { type: 'text' } }));
      const cli = spawnCli(['dev', '--model', model], env);
      try {
        await cli.waitFor('Watching');
        assert.match(
          cli.stderr(),
          /^kiln dev: the model changed; wrote .*\/migrations\/\d{14}_initial\/\n {2}create resource notes \(table notes\)\nkiln dev: applied \d{14}_initial\n/,
        );
        const api = apiOf(cli.stderr());
        assert.equal((await fetch(`${api}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi"}' })).status, 201);

        let mark = cli.stderr().length;
        writeFileSync(model, notes({ text: { type: 'text' }, pinned: { type: 'boolean', default: false } }));
        await cli.waitFor('model reloaded', mark);
        assert.match(
          cli.stderr().slice(mark),
          /wrote .*\/\d{14}_add-field-notes-pinned\/\n {2}add field notes\.pinned\nkiln dev: applied \d{14}_add-field-notes-pinned\n/,
        );
        const newApi = apiOf(cli.stderr().slice(mark));
        const list = (await (await fetch(`${newApi}/notes`)).json()) as any;
        assert.deepEqual(
          list.data.map((n: any) => [n.text, n.pinned]),
          [['hi', false]],
        );

        mark = cli.stderr().length;
        writeFileSync(model, notes({ pinned: { type: 'boolean', default: false } }));
        await cli.waitFor('keeping the previous server running.', mark);
        assert.match(
          cli.stderr().slice(mark),
          /kiln dev: the model change has destructive steps; nothing was written:\n {2}- drop field notes\.text: drops column notes\.text and its data\n/,
        );
        assert.equal(readdirSync(join(tmp.dir, 'migrations')).length, 2);
        assert.equal((await fetch(`${newApi}/notes`)).status, 200, 'the previous server still answers');
      } finally {
        assert.equal(await cli.stop(), 0);
      }
    });
  });
}
