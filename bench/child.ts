import { type ChildProcess, fork } from 'node:child_process';

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL if it has not exited after 5 s. */
  stop(): Promise<void>;
}

export interface ChildOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Where the child's stdout goes: a file descriptor, or nowhere. */
  readonly stdout: number | 'ignore';
  readonly execArgv?: readonly string[];
}

/** Forks a server script under tsx and waits for it to report `{ url }` over IPC. */
export function startServer(name: string, script: string, options: ChildOptions): Promise<ServerProcess> {
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    env: options.env,
    stdio: ['ignore', options.stdout, 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within 60 s`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before listening`));
    });
    child.once('message', (message: { url?: string }) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      if (!message.url) return reject(new Error(`${name} sent no URL`));
      resolve({ name, url: message.url, pid: child.pid ?? 0, stop: () => stopChild(child) });
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
