/**
 * `kiln dev` as a child process, either with its output on pipes (no terminal, as in CI) or inside a
 * pseudo-terminal made by util-linux `script`, where stdin is a TTY and kiln dev asks its questions.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_CLI = "const m = await import('./src/cli/main.ts'); process.exitCode = await m.main(process.argv.slice(1));";

export interface DevProcess {
  /** Everything printed so far (stderr, and in a terminal stdout and the echo of what was typed), with \r\n as \n. */
  output(): string;
  /** Resolves once the output after `from` characters contains `text`; fails after a while or when the process ends. */
  waitFor(text: string, from?: number): Promise<void>;
  /** Types a line (in a terminal) or writes to stdin. */
  type(text: string): void;
  /** Ctrl+C in a terminal, SIGINT otherwise; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Every process started, so a failed assertion cannot leave one running. */
const running = new Set<ChildProcess>();

export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

const quote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`;

export function spawnDev(args: string[], env: Record<string, string>, options: { terminal: boolean; cwd?: string }): DevProcess {
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', RUN_CLI, '--', 'dev', ...args];
  // `script -q -f -e -c CMD /dev/null` runs CMD on a new pseudo-terminal and copies it to its stdout.
  // It runs CMD through $SHELL -c; `exec` makes node replace that shell whichever it is. Otherwise a
  // shell that stays in between (dash, /bin/sh when SHELL is unset, as under CI) dies of Ctrl+C
  // itself, and `script` reports 130 whatever node did.
  const inTerminal = `exec ${node.map(quote).join(' ')}`;
  const [command, argv] = options.terminal ? ['script', ['-qfec', inTerminal, '/dev/null']] : [node[0] as string, node.slice(1)];
  const child = spawn(command as string, argv as string[], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', KILN_LOG_LEVEL: 'silent', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  const collect = (d: Buffer) => {
    out += String(d).replace(/\r\n/g, '\n');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exit = once(child, 'close').then(([code]) => {
    running.delete(child);
    return code as number | null;
  });
  return {
    output: () => out,
    async waitFor(text, from = 0) {
      for (let waited = 0; !out.slice(from).includes(text); waited += 50) {
        if (child.exitCode !== null || waited > 90_000) throw new Error(`"${text}" never appeared:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    type(text) {
      child.stdin?.write(text);
    },
    stop() {
      if (options.terminal) child.stdin?.write('\x03');
      else child.kill('SIGINT');
      return exit;
    },
  };
}

export const apiOf = (output: string) => /API\s+(http:\/\/[^\s]+\/v1)/.exec(output)?.[1]?.replace('localhost', '127.0.0.1') as string;

/** The API URL of the last "model reloaded" line (or the banner) in `output`. */
export function latestApi(output: string): string {
  const reloaded = [...output.matchAll(/model reloaded \(\d+ resources?\); API (http:\/\/\S+\/v1)/g)].at(-1)?.[1];
  return (reloaded ?? apiOf(output)).replace('localhost', '127.0.0.1');
}
