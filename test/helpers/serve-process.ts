import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { BLOG_MODEL_PATH } from './blog.js';
import { TEST_CURSOR_SECRET, TEST_JWT_SECRET } from './server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_CLI = "const m = await import('./src/cli/main.ts'); process.exitCode = await m.main(process.argv.slice(1));";

export interface ServeProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>`, read from the banner. */
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** The exit code, once the process has exited and its output has been read to its end. */
  readonly exit: Promise<number | null>;
}

/**
 * Runs `kiln serve --migrate` on the blog model (and `args`) in a child process, with `env` over a local
 * default (embedded in-memory database, a free port on 127.0.0.1), and waits for its banner.
 */
export async function spawnServe(env: Record<string, string>, args: readonly string[] = []): Promise<ServeProcess> {
  const cli = ['serve', '--migrate', '--model', BLOG_MODEL_PATH, ...args];
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', RUN_CLI, '--', ...cli], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: '',
      HOST: '127.0.0.1',
      PORT: '0',
      KILN_DATA_DIR: 'memory',
      KILN_LOG_LEVEL: 'info',
      KILN_AUTH_JWT_SECRET: TEST_JWT_SECRET,
      KILN_CURSOR_SECRET: TEST_CURSOR_SECRET,
      // As startTestServer: on a machine busy with other suites, statements of a loaded test can wait
      // 20 ms for a connection, which is what this bound sheds; the load-shedding suite turns it on.
      KILN_SHED_POOL_WAIT_MS: '0',
      // As startTestServer: a suite is one caller sending more than a minute's default budget.
      KILN_RATE_LIMIT: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  // 'close' rather than 'exit': it comes after stdout has been read to its end. But a process the
  // child started (tsx's esbuild service) may hold the pipes a moment longer: once the child itself
  // has exited, its output is waited for at most 2 s, so a straggler cannot hang a suite.
  const exit = Promise.race([
    once(child, 'close').then(([code]) => code as number | null),
    once(child, 'exit').then(async ([code]) => {
      await new Promise((r) => setTimeout(r, 2000));
      return code as number | null;
    }),
  ]);
  for (let waited = 0; !err.includes('Press Ctrl+C to stop.'); waited += 50) {
    if (child.exitCode !== null || waited > 120_000) throw new Error(`kiln serve did not start:\n${err}\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(err)?.[1];
  assert.ok(url, err);
  return { child, url, stdout: () => out, stderr: () => err, exit };
}
