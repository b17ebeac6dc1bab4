/**
 * A PostgreSQL primary and a streaming replica of its own, for the read-replica tests: initdb into a
 * temporary folder, started on a free port with wal_level=replica, then `pg_basebackup -R` makes the
 * standby, started on another port. About four seconds. PostgreSQL refuses to run as root, so when
 * the tests run as root (CI containers) every command runs as the `postgres` user through runuser.
 * A missing tool is an error, never a skip. `stop` stops both servers and deletes the folder; `start`
 * does it too when it fails half-way.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface ReplicaCluster {
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  readonly replicaPort: number;
  /** Runs one statement on the primary or the replica, on a connection of its own. */
  sql<R = Record<string, unknown>>(on: 'primary' | 'replica', text: string, values?: unknown[]): Promise<R[]>;
  /** Waits until the replica has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  stopServer(which: 'primary' | 'replica'): Promise<void>;
  /** Starts a server stopped by stopServer again, on the same port and data. */
  startServer(which: 'primary' | 'replica'): Promise<void>;
  stop(): Promise<void>;
}

/** The folder of PostgreSQL's server programs: /usr/local/bin (this image's links), else Debian's. */
function binary(name: string): string {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  const found = [`/usr/local/bin/${name}`, ...versions.map((v) => `/usr/lib/postgresql/${v}/bin/${name}`), `/usr/bin/${name}`].find((p) => existsSync(p));
  if (!found)
    throw new Error(
      `${name} not found in /usr/local/bin, /usr/lib/postgresql/*/bin or /usr/bin: install the PostgreSQL server (e.g. apt-get install postgresql)`,
    );
  return found;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL program, as `postgres` when this process is root. */
async function pgRun(program: string, args: string[]): Promise<void> {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', binary(program), ...args]] : [binary(program), args];
  try {
    await run(file, argv, { timeout: 60_000 });
  } catch (error) {
    const { stderr = '', stdout = '' } = error as { stderr?: string; stdout?: string };
    throw new Error(`${program} ${args.join(' ')} failed: ${String(error)}\n${stdout}\n${stderr}`);
  }
}

export async function startReplicaCluster(): Promise<ReplicaCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-replicas-'));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error('the tests run as root and there is no `postgres` user to run PostgreSQL as');
    });
    const uid = Number(stdout.trim());
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, uid, Number(gid.trim()));
  }
  const primaryData = join(dir, 'primary');
  const replicaData = join(dir, 'replica');
  const started: string[] = [];
  /** pg_ctl's arguments of each server's start, to start it again after stopServer. */
  const startArgs = new Map<string, string[]>();
  const startServer = async (data: string) => {
    if (started.includes(data)) return;
    await pgRun('pg_ctl', startArgs.get(data) as string[]);
    started.push(data);
  };
  const stopServer = async (data: string) => {
    if (!started.includes(data)) return;
    started.splice(started.indexOf(data), 1);
    await pgRun('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
  };
  const stop = async () => {
    await Promise.all([stopServer(replicaData), stopServer(primaryData)]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const primaryPort = await freePort();
    const replicaPort = await freePort();
    // Sockets in the folder of its own: /var/run/postgresql may not be writable, and belongs to the shared server.
    const common = `-k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    await pgRun('initdb', ['-D', primaryData, '-U', 'postgres', '--auth=trust', '-N']);
    startArgs.set(primaryData, [
      '-D',
      primaryData,
      '-l',
      join(dir, 'primary.log'),
      '-w',
      '-o',
      `-p ${primaryPort} ${common} -c wal_level=replica -c max_wal_senders=4`,
      'start',
    ]);
    await startServer(primaryData);
    await pgRun('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replicaData, '-R', '-X', 'stream']);
    startArgs.set(replicaData, ['-D', replicaData, '-l', join(dir, 'replica.log'), '-w', '-o', `-p ${replicaPort} ${common} -c hot_standby=on`, 'start']);
    await startServer(replicaData);
    const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
    const replicaUrl = `postgres://postgres@127.0.0.1:${replicaPort}/postgres`;
    const sql = async <R>(on: 'primary' | 'replica', text: string, values?: unknown[]): Promise<R[]> => {
      const client = new pg.Client({ connectionString: on === 'primary' ? primaryUrl : replicaUrl });
      await client.connect();
      try {
        return (await client.query(text, values)).rows as R[];
      } finally {
        await client.end();
      }
    };
    return {
      primaryUrl,
      replicaUrl,
      replicaPort,
      sql,
      async caughtUp() {
        const [{ lsn }] = (await sql<{ lsn: string }>('primary', 'SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
        for (;;) {
          const [row] = await sql<{ done: boolean }>('replica', 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [lsn]);
          if (row?.done) return;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
      stopServer: (which) => stopServer(which === 'primary' ? primaryData : replicaData),
      startServer: (which) => startServer(which === 'primary' ? primaryData : replicaData),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
