import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { connectFailureMessage } from '../../src/db/connect-errors.js';
import { BLOG_MODEL_PATH } from '../helpers/blog.js';
import { runCliProcess, STACK_LINE } from '../helpers/cli-process.js';
import { BACKENDS, TEST_DATABASE_URL } from '../helpers/server.js';

const PASSWORD = 'hunter2-Secret';
const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

/** A TCP server on a free port of 127.0.0.1 that hands each connection to `onConnection`. */
async function listen(onConnection: (socket: Socket) => void = () => {}): Promise<number> {
  const server = createServer(onConnection);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Enough of the PostgreSQL server protocol to refuse a password: it reads the startup message, asks
 * for a cleartext password, reads it, and answers with ErrorResponse 28P01 as PostgreSQL does. The
 * local test server trusts every connection, so a wrong password cannot be had from it.
 */
function refusePassword(socket: Socket): void {
  let stage: 'startup' | 'password' = 'startup';
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    // The startup message is length-prefixed; the password message has a type byte first.
    const offset = stage === 'startup' ? 0 : 1;
    if (buffered.length < offset + 4 || buffered.length < offset + buffered.readInt32BE(offset)) return;
    buffered = Buffer.alloc(0);
    if (stage === 'startup') {
      stage = 'password';
      socket.write(message('R', int32(3))); // AuthenticationCleartextPassword
      return;
    }
    const fields = ['SFATAL', 'VFATAL', 'C28P01', 'Mpassword authentication failed for user "app"'];
    socket.end(message('E', Buffer.concat([...fields.map((f) => Buffer.from(`${f}\0`)), Buffer.from([0])])));
  });
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function message(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(type), int32(body.length + 4), body]);
}

/** `kiln serve` on the blog model with `env`: it must exit 1 with one line on stderr and no stack. */
async function serveFails(env: Record<string, string>, args: string[] = []): Promise<string> {
  const run = await runCliProcess(['serve', '--model', BLOG_MODEL_PATH, ...args], env);
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stdout, '');
  assert.doesNotMatch(run.stderr, STACK_LINE);
  assert.ok(!run.stderr.includes(PASSWORD), `the password is never printed:\n${run.stderr}`);
  return run.stderr;
}

/** stderr after the lines `--migrate` prints for the migrations it applies (the listen error comes after them). */
function afterMigrations(stderr: string): string {
  const rest = stderr.replace(/^(kiln serve: applied \S+\n)+/, '');
  assert.notEqual(rest, stderr, 'the migrations were applied first');
  return rest;
}

const local = new URL(TEST_DATABASE_URL);
/** The local PostgreSQL's URL with another user, database or password. */
function localUrl(change: { user?: string; database?: string }): string {
  const url = new URL(TEST_DATABASE_URL);
  url.username = change.user ?? url.username;
  url.password = PASSWORD;
  if (change.database) url.pathname = `/${change.database}`;
  return url.href;
}

describe('kiln serve names a database it cannot connect to, and the setting to fix', { concurrency: 2 }, () => {
  test('a connection refused (nothing listens on the port)', async () => {
    const port = await closedPort();
    const err = await serveFails({ DATABASE_URL: `postgres://app:${PASSWORD}@127.0.0.1:${port}/shop` });
    assert.equal(
      err,
      `kiln serve: cannot connect to PostgreSQL at 127.0.0.1:${port} (DATABASE_URL): the connection was refused. Start PostgreSQL there, or fix the host and port in DATABASE_URL.\n`,
    );
  });

  test('a wrong password (a server that speaks the protocol and refuses it with 28P01)', async () => {
    const port = await listen(refusePassword);
    const err = await serveFails({ DATABASE_URL: `postgres://app:${PASSWORD}@127.0.0.1:${port}/shop` });
    assert.equal(
      err,
      `kiln serve: cannot connect to PostgreSQL at 127.0.0.1:${port} (DATABASE_URL): password authentication failed for user "app". Check the user name and password in DATABASE_URL.\n`,
    );
  });

  test('a server that never answers, past KILN_DB_CONNECT_TIMEOUT_MS', async () => {
    const port = await listen();
    const err = await serveFails({ DATABASE_URL: `postgres://app:${PASSWORD}@127.0.0.1:${port}/shop`, KILN_DB_CONNECT_TIMEOUT_MS: '300' });
    assert.equal(
      err,
      `kiln serve: cannot connect to PostgreSQL at 127.0.0.1:${port} (DATABASE_URL): no answer within 300 ms. Check that PostgreSQL is running and reachable there, or raise KILN_DB_CONNECT_TIMEOUT_MS.\n`,
    );
  });

  test('a host name that does not resolve', async () => {
    const err = await serveFails({ DATABASE_URL: `postgres://app:${PASSWORD}@no-such-host.invalid:5432/shop` });
    assert.equal(
      err,
      'kiln serve: cannot connect to PostgreSQL at no-such-host.invalid:5432 (DATABASE_URL): the host name "no-such-host.invalid" was not found. Fix the host in DATABASE_URL.\n',
    );
  });

  test('a DATABASE_URL that is not a PostgreSQL URL is a configuration error, quoting the scheme only', async () => {
    const err = await serveFails({ DATABASE_URL: `mysql://root:${PASSWORD}@localhost/shop` });
    assert.equal(
      err,
      'kiln serve: invalid configuration:\n  - DATABASE_URL: "mysql://" is not a PostgreSQL URL; use postgres://user:password@host:5432/database, or leave it empty for embedded PGlite\n',
    );
  });

  test('no KILN_CURSOR_SECRET on PostgreSQL: every instance must sign cursors with the same key', async () => {
    const err = await serveFails({ DATABASE_URL: TEST_DATABASE_URL, KILN_CURSOR_SECRET: '' });
    assert.equal(
      err,
      'kiln serve: KILN_CURSOR_SECRET is not set: on PostgreSQL every instance must sign pagination cursors with the same key, or a cursor from one is refused by another and after a restart. Set it to at least 32 random bytes (e.g. `openssl rand -base64 48`), the same on every instance\n',
    );
  });

  test('a port in use by another process', async () => {
    const port = await listen();
    const err = await serveFails({ PORT: String(port) }, ['--migrate']);
    assert.equal(afterMigrations(err), `kiln serve: port ${port} is in use by another process; stop it or set PORT to a free port\n`);
  });

  test('a HOST that is not an address of this machine', async () => {
    const err = await serveFails({ HOST: '192.0.2.1' }, ['--migrate']);
    assert.equal(afterMigrations(err), 'kiln serve: HOST 192.0.2.1 is not an address of this machine; set HOST to one of its addresses, or 0.0.0.0 for all\n');
  });
});

// These two ask the real local PostgreSQL (trust authentication), which answers with the real SQLSTATE.
describe('kiln serve on the local PostgreSQL', { skip: !BACKENDS.includes('postgres'), concurrency: 2 }, () => {
  const where = `${local.hostname}:${local.port || '5432'}`;

  test('an unknown role (28000)', async () => {
    const err = await serveFails({ DATABASE_URL: localUrl({ user: 'kiln_no_such_role' }) });
    assert.equal(
      err,
      `kiln serve: cannot connect to PostgreSQL at ${where} (DATABASE_URL): role "kiln_no_such_role" does not exist. Fix the user name in DATABASE_URL, or create the role in PostgreSQL (CREATE ROLE … LOGIN).\n`,
    );
  });

  test('an unknown database (3D000)', async () => {
    const err = await serveFails({ DATABASE_URL: localUrl({ database: 'kiln_no_such_db' }) });
    assert.equal(
      err,
      `kiln serve: cannot connect to PostgreSQL at ${where} (DATABASE_URL): database "kiln_no_such_db" does not exist. Create the database (createdb kiln_no_such_db), or fix the database name in DATABASE_URL.\n`,
    );
  });
});

describe('kiln serve on a data folder the embedded database cannot start on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-old-data-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a folder made by a PGlite of another PostgreSQL version: one message, no stack, the lock released', async () => {
    writeFileSync(join(dir, 'PG_VERSION'), '16\n');
    const serve = await runCliProcess(['serve', '--migrate', '--model', BLOG_MODEL_PATH], { KILN_DATA_DIR: dir });
    assert.equal(serve.code, 1);
    assert.equal(
      serve.stderr,
      `kiln serve: the embedded database cannot start on the data folder ${dir} (its PG_VERSION says PostgreSQL 16): PGlite failed to initialize properly. It was made by another version of PGlite, or is not a PGlite data folder. Move it away (or set KILN_DATA_DIR to another folder) to start afresh; to keep its data, dump it with the Kiln version that made it.\n`,
    );
    assert.doesNotMatch(serve.stderr, STACK_LINE);
    assert.equal(existsSync(join(dir, 'kiln.lock')), false);
  });
});

describe('connectFailureMessage, for the answers a test cannot provoke on the local server', () => {
  const url = `postgres://app:${PASSWORD}@db.example.com:6543/shop`;
  const cases: [string, { code?: string; message: string }, string][] = [
    [
      'no pg_hba.conf entry (28000)',
      { code: '28000', message: 'no pg_hba.conf entry for host "10.0.0.5", user "app", database "shop", no encryption' },
      'no pg_hba.conf entry for host "10.0.0.5", user "app", database "shop", no encryption. Allow this user, database and host in pg_hba.conf, or change them in DATABASE_URL.',
    ],
    [
      'too many connections (53300)',
      { code: '53300', message: 'sorry, too many clients already' },
      'sorry, too many clients already. Close other connections or raise max_connections in PostgreSQL, or lower KILN_DB_POOL_MAX.',
    ],
    [
      'the server starting up (57P03)',
      { code: '57P03', message: 'the database system is starting up' },
      'the database system is starting up. Wait until PostgreSQL has started, then start Kiln again.',
    ],
    [
      'no CONNECT privilege (42501)',
      { code: '42501', message: 'permission denied for database "shop"' },
      'permission denied for database "shop". Grant the user CONNECT on the database, or use another user in DATABASE_URL.',
    ],
    [
      'an unreachable host',
      { code: 'EHOSTUNREACH', message: 'connect EHOSTUNREACH 10.0.0.9:6543' },
      'the host cannot be reached (EHOSTUNREACH). Check the host and port in DATABASE_URL, and that the network lets the connection through.',
    ],
    [
      'no password in the URL, and a server that asks for one (SCRAM)',
      { message: 'SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string' },
      'the server asks for a password, and DATABASE_URL has none. Put it in DATABASE_URL after the user name and a colon, before the @ (percent-encode special characters).',
    ],
    [
      'anything else, with the URL and the password masked',
      { message: `something odd about postgres://app:${PASSWORD}@db.example.com:6543/shop and ${encodeURIComponent(PASSWORD)}` },
      'something odd about postgres://app:****@db.example.com:6543/shop and ****. Check DATABASE_URL.',
    ],
  ];
  for (const [name, error, said] of cases) {
    test(name, () => {
      assert.equal(
        connectFailureMessage(Object.assign(new Error(error.message), { code: error.code }), url, 5000),
        `cannot connect to PostgreSQL at db.example.com:6543 (DATABASE_URL): ${said}`,
      );
    });
  }

  test('a Unix socket folder in the URL', () => {
    const error = Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' });
    assert.equal(
      connectFailureMessage(error, 'postgresql:///shop?host=/var/run/postgresql', 5000),
      'cannot connect to PostgreSQL at /var/run/postgresql (socket, port 5432) (DATABASE_URL): connect ENOENT. Check DATABASE_URL.',
    );
  });
});
