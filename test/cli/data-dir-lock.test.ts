import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { StartupError } from '../../src/config/startup-error.js';
import { HEARTBEAT_MS, LOCK_FILE, lockDataDir, PID_SPACE } from '../../src/db/data-dir-lock.js';
import { openPglite } from '../../src/db/pglite.js';
import { BLOG_MODEL_PATH } from '../helpers/blog.js';
import { runCliProcess, STACK_LINE } from '../helpers/cli-process.js';
import { type ServeProcess, spawnServe } from '../helpers/serve-process.js';

const root = mkdtempSync(join(tmpdir(), 'kiln-lock-'));
const running = new Set<ServeProcess>();
after(() => {
  for (const serve of running) serve.child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

let folders = 0;
function dataDir(): string {
  return join(root, `data-${++folders}`);
}

async function serveOn(dir: string): Promise<ServeProcess> {
  const serve = await spawnServe({ KILN_DATA_DIR: dir });
  running.add(serve);
  return serve;
}

async function stop(serve: ServeProcess): Promise<number | null> {
  serve.child.kill('SIGTERM');
  const code = await serve.exit;
  running.delete(serve);
  return code;
}

/** How to run a command in a PID namespace of its own, where this machine allows it (root, util-linux). */
const OWN_PID_NAMESPACE = spawnSync('unshare', ['-pf', '--mount-proc', 'true']).status === 0 ? ['unshare', '-pf', '--mount-proc'] : undefined;

const inUse = (dir: string, pid: number | undefined) =>
  `the data folder ${dir} is in use by another Kiln process (pid ${pid}). Stop it first, or set KILN_DATA_DIR to another folder.`;

describe('the PGlite data folder is locked while a process serves it', () => {
  test('a second serve and `migrate status` beside a running serve refuse; after it stops, a new one starts', async () => {
    const dir = dataDir();
    const first = await serveOn(dir);
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), `${first.child.pid}\n${PID_SPACE}\n`);

    const second = await runCliProcess(['serve', '--migrate', '--model', BLOG_MODEL_PATH], { KILN_DATA_DIR: dir });
    assert.equal(second.code, 1);
    assert.equal(second.stderr, `kiln serve: ${inUse(dir, first.child.pid)}\n`);
    assert.doesNotMatch(second.stderr, STACK_LINE);

    const status = await runCliProcess(['migrate', 'status', '--model', BLOG_MODEL_PATH], { KILN_DATA_DIR: dir });
    assert.equal(status.code, 1);
    assert.equal(status.stderr, `kiln migrate status: ${inUse(dir, first.child.pid)}\n`);

    const dev = await runCliProcess(['dev', '--model', BLOG_MODEL_PATH], { KILN_DATA_DIR: dir });
    assert.equal(dev.code, 1);
    assert.equal(dev.stderr, `kiln dev: ${inUse(dir, first.child.pid)}\n`);

    // As a second container on the same volume: a PID namespace of its own, where the first's pid means nothing.
    if (OWN_PID_NAMESPACE) {
      const container = await runCliProcess(['migrate', 'status', '--model', BLOG_MODEL_PATH], { KILN_DATA_DIR: dir }, 60_000, OWN_PID_NAMESPACE);
      assert.equal(container.code, 1, container.stderr);
      assert.equal(
        container.stderr,
        `kiln migrate status: the data folder ${dir} is in use by a Kiln process in another container or PID namespace (pid ${first.child.pid} on ${hostname()}). Stop it first, or set KILN_DATA_DIR to another folder.\n`,
      );
      assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), `${first.child.pid}\n${PID_SPACE}\n`, 'the lock is still the first server’s');
    } else {
      console.log('# no PID namespace of its own here (unshare needs root): the second-container case is covered by the unit test below');
    }

    assert.equal((await fetch(`${first.url}/v1/posts`)).status, 200, 'the first server serves on, untouched');
    assert.equal(await stop(first), 0, first.stderr());
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'a clean stop removes the lock');

    const third = await serveOn(dir);
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), `${third.child.pid}\n${PID_SPACE}\n`);
    assert.equal(await stop(third), 0);
  });

  test('a process killed with SIGKILL leaves its lock, and the next start takes it over', async () => {
    const dir = dataDir();
    const killed = await serveOn(dir);
    killed.child.kill('SIGKILL');
    await killed.exit;
    running.delete(killed);
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), `${killed.child.pid}\n${PID_SPACE}\n`);
    const next = await serveOn(dir);
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), `${next.child.pid}\n${PID_SPACE}\n`);
    assert.equal(await stop(next), 0);
  });
});

describe('lockDataDir in one process', () => {
  test('a folder open in this process cannot be opened again until it is closed', async () => {
    const dir = dataDir();
    const db = await openPglite(dir);
    await assert.rejects(openPglite(dir), (e: unknown) => {
      assert.ok(e instanceof StartupError);
      assert.equal(e.message, `the data folder ${dir} is already open in this process; close it first`);
      return true;
    });
    await db.close();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    const again = await openPglite(dir);
    await again.close();
  });

  test("this process's own pid in a lock it does not hold is stale: a container restarted under the same pid", async () => {
    const dir = dataDir();
    mkdirSync(dir);
    writeFileSync(join(dir, LOCK_FILE), `${process.pid}\n${PID_SPACE}\n`);
    const lock = await lockDataDir(dir);
    lock.release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  });

  test('a lock from another container (another PID namespace) holds while its owner touches it, and is taken over once it stops', async () => {
    const dir = dataDir();
    mkdirSync(dir);
    const file = join(dir, LOCK_FILE);
    // Pid 1 of another container: its pids cannot be tested from here, only its heartbeat seen.
    writeFileSync(file, '1\nother-host pid:[4026532999]\n');
    const beating = setInterval(() => utimesSync(file, new Date(), new Date()), 100);
    try {
      await assert.rejects(lockDataDir(dir, { foreignStaleMs: 1000 }), {
        name: 'StartupError',
        message: `the data folder ${dir} is in use by a Kiln process in another container or PID namespace (pid 1 on other-host). Stop it first, or set KILN_DATA_DIR to another folder.`,
      });
    } finally {
      clearInterval(beating);
    }
    assert.equal(readFileSync(file, 'utf8'), '1\nother-host pid:[4026532999]\n', 'a live foreign lock is left alone');

    // Its owner died a moment ago: untouched since, the lock is taken over once it is stale.
    const started = Date.now();
    const lock = await lockDataDir(dir, { foreignStaleMs: 1000 });
    assert.ok(Date.now() - started < 3000);
    assert.equal(readFileSync(file, 'utf8'), `${process.pid}\n${PID_SPACE}\n`);
    lock.release();

    // Left a minute ago (by this host's clock): watched for two heartbeats only, not the whole stale time.
    writeFileSync(file, '1\nother-host pid:[4026532999]\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    const at = Date.now();
    (await lockDataDir(dir)).release();
    const waited = Date.now() - at;
    assert.ok(waited >= 2 * HEARTBEAT_MS - 100 && waited < 2 * HEARTBEAT_MS + 1500, `watched ${waited} ms`);

    // Its host's clock a minute behind ours, but the owner alive: the old-looking mtime changes, so it holds.
    writeFileSync(file, '1\nother-host pid:[4026532999]\n');
    utimesSync(file, old, old);
    let beat = 0;
    const behind = setInterval(() => {
      const t = new Date(old.getTime() + ++beat * 100);
      utimesSync(file, t, t);
    }, 100);
    try {
      await assert.rejects(lockDataDir(dir), { name: 'StartupError' });
    } finally {
      clearInterval(behind);
    }
  });

  test('the owner touches its lock while it holds it', async () => {
    const dir = dataDir();
    mkdirSync(dir);
    const lock = await lockDataDir(dir);
    const file = join(dir, LOCK_FILE);
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    await new Promise((done) => setTimeout(done, HEARTBEAT_MS + 500));
    assert.ok(Date.now() - statSync(file).mtimeMs < HEARTBEAT_MS + 1000, 'touched within a heartbeat');
    lock.release();
  });

  test('a running process holds its lock; an unreadable lock is taken over only once it is old', async () => {
    const dir = dataDir();
    mkdirSync(dir);
    // The parent of this test process runs as long as the test does.
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    await assert.rejects(lockDataDir(dir), { name: 'StartupError', message: inUse(dir, process.ppid) });

    writeFileSync(join(dir, LOCK_FILE), '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, LOCK_FILE), old, old);
    const lock = await lockDataDir(dir);
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), `${process.pid}\n${PID_SPACE}\n`);
    lock.release();
    lock.release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  });

  test('release leaves a lock that is no longer its own', async () => {
    const dir = dataDir();
    mkdirSync(dir);
    const lock = await lockDataDir(dir);
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    lock.release();
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), `${process.ppid}\n`);
  });

  test('a data folder that cannot be created is named, with the setting to change', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, '');
    await assert.rejects(openPglite(join(file, 'data')), {
      name: 'StartupError',
      message: `cannot use the data folder ${file}/data: ENOTDIR: not a directory, mkdir '${file}/data'. Set KILN_DATA_DIR to a folder this user can write.`,
    });
  });
});
