import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { openPostgres } from '../../src/db/postgres.js';
import { BLOG_MODEL_PATH } from './blog.js';
import { type CliRun, runCli } from './run-cli.js';
import { type Backend, TEST_DATABASE_URL } from './server.js';

/**
 * A database the CLI works on as a user's would: a PGlite data folder of its own, or a PostgreSQL
 * schema of its own, named by the environment of each run; the blog's migrations applied.
 */
export interface CliDatabase {
  /** The environment of every run: the database, and the cheapest argon2 costs. */
  readonly env: Record<string, string>;
  /** `kiln <args> --model <blog>` in this process. */
  run(args: string[]): Promise<CliRun>;
  dispose(): Promise<void>;
}

export async function blogCliDatabase(backend: Backend): Promise<CliDatabase> {
  const base = { KILN_PASSWORD_MEMORY_KIB: '8192', KILN_PASSWORD_TIME_COST: '1', KILN_AUTH_JWT_SECRET: '', REDIS_URL: '' };
  let env: Record<string, string>;
  let dispose: () => Promise<void>;
  if (backend === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-accounts-'));
    env = { ...base, DATABASE_URL: '', KILN_DATA_DIR: dir };
    dispose = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `kiln_test_${randomBytes(6).toString('hex')}`;
    env = { ...base, DATABASE_URL: TEST_DATABASE_URL, KILN_DB_SCHEMA: schema };
    dispose = async () => {
      const db = openPostgres({ url: TEST_DATABASE_URL, schema, poolMax: 1, connectTimeoutMs: 5000, idleTimeoutMs: 1000, statementTimeoutMs: 10000 });
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await db.close();
    };
  }
  const run = (args: string[]) => {
    const [group, sub, ...rest] = args;
    return runCli([group ?? '', sub ?? '', '--model', BLOG_MODEL_PATH, ...rest], { env });
  };
  const migrated = await runCli(['migrate', 'up', '--model', BLOG_MODEL_PATH], { env });
  if (migrated.code !== 0) throw new Error(`migrate up failed: ${migrated.err}`);
  return { env, run, dispose };
}

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_CLI = "const m = await import('./src/cli/main.ts'); process.exitCode = await m.main(process.argv.slice(1));";

/** The CLI in a child process with `input` on its standard input (what --password-stdin reads). */
export async function runCliWithInput(args: string[], env: Record<string, string>, input: string): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', RUN_CLI, '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, KILN_LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = await once(child, 'close');
  clearTimeout(timer);
  return { code: code as number, out: out.replace(/\n$/, ''), err: err.replace(/\n$/, '') };
}

/** The CLI in this process, with `input` as its standard input for the run (faster than a child; same reading code). */
export async function runCliInProcessWithInput(args: string[], env: Record<string, string>, input: string): Promise<CliRun> {
  const descriptor = Object.getOwnPropertyDescriptor(process, 'stdin');
  Object.defineProperty(process, 'stdin', { value: Readable.from(input === '' ? [] : [Buffer.from(input)]), configurable: true });
  try {
    return await runCli(args, { env });
  } finally {
    if (descriptor) Object.defineProperty(process, 'stdin', descriptor);
  }
}
