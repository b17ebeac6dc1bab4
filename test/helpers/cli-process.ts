import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { TEST_CURSOR_SECRET, TEST_JWT_SECRET } from './server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_CLI = "const m = await import('./src/cli/main.ts'); process.exitCode = await m.main(process.argv.slice(1));";

export interface CliProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI from source in a child process to its end, as a user would: with `env` over a local
 * default (embedded in-memory database, a free port on 127.0.0.1, warnings only). A run still going
 * after `timeoutMs` is killed, and reported with code null.
 */
/** `wrapper`: a command that runs node, e.g. `unshare -pf --mount-proc` for a PID namespace of its own. */
export async function runCliProcess(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000, wrapper: string[] = []): Promise<CliProcessResult> {
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', RUN_CLI, '--', ...args];
  const [command, ...argv] = [...wrapper, ...node] as [string, ...string[]];
  const child = spawn(command, argv, {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: '',
      HOST: '127.0.0.1',
      PORT: '0',
      KILN_DATA_DIR: 'memory',
      KILN_LOG_LEVEL: 'warn',
      KILN_AUTH_JWT_SECRET: TEST_JWT_SECRET,
      KILN_CURSOR_SECRET: TEST_CURSOR_SECRET,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // 'close' rather than 'exit': it comes after the output has been read to its end.
  const [code] = await once(child, 'close');
  clearTimeout(timer);
  return { code: code as number | null, stdout, stderr };
}

/** A line of a stack trace, which a user must never see. */
export const STACK_LINE = /^\s+at /m;
