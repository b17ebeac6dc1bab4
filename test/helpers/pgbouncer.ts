/**
 * A real PgBouncer in transaction pooling mode in front of the local PostgreSQL, for the tests of
 * KILN_DB_POOLER: its configuration in a temporary folder, listening on a free port of 127.0.0.1,
 * with a small server pool so that concurrent clients share server connections. PgBouncer refuses
 * to run as root, so when the tests run as root it runs as the `postgres` user through runuser. A
 * missing binary is an error, never a skip (`.ci/run` installs the Debian package).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './replica-cluster.js';

const BINARY = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((p) => existsSync(p));

export interface PgBouncer {
  /** A connection string through the pooler for `user` to the database `test`. */
  urlFor(user: string): string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** Server connections per user and database. */
  readonly poolSize?: number;
  /** Users PgBouncer lets in (trust: no password checked). */
  readonly users: readonly string[];
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  if (!BINARY) throw new Error('pgbouncer not found in /usr/sbin or /usr/bin: apt-get install -y pgbouncer');
  const dir = await mkdtemp(join(tmpdir(), 'kiln-pgbouncer-'));
  const port = await freePort();
  const ini = join(dir, 'pgbouncer.ini');
  const users = join(dir, 'users.txt');
  await writeFile(users, options.users.map((u) => `"${u}" ""\n`).join(''));
  await writeFile(
    ini,
    [
      '[databases]',
      'test = host=127.0.0.1 port=5432 dbname=test',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 2}`,
      'max_client_conn = 200',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = await postgresUser();
    for (const path of [dir, ini, users]) await chown(path, uid, gid);
  }
  const [file, args] = asRoot ? ['runuser', ['-u', 'postgres', '--', BINARY, ini]] : [BINARY, [ini]];
  const child: ChildProcess = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let waited = 0; !(await listening(port)); waited += 50) {
    if (child.exitCode !== null || waited > 15_000) {
      await stop();
      throw new Error(`pgbouncer did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, urlFor: (user) => `postgres://${user}@127.0.0.1:${port}/test`, stop };
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const { readFile } = await import('node:fs/promises');
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no `postgres` user to run pgbouncer as (it refuses to run as root)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
