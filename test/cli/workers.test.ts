/**
 * `kiln serve --workers N`: N processes share one port; the primary prepares the database once,
 * replaces a worker that dies while serving, and stops them all on SIGTERM. Over real sockets, on the
 * local PostgreSQL (the embedded database serves one process, so there it is refused).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BLOG_MODEL_PATH } from '../helpers/blog.js';
import { runCliProcess } from '../helpers/cli-process.js';
import { type ServeProcess, spawnServe } from '../helpers/serve-process.js';
import { BACKENDS, createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/server.js';
import { getOnNewConnection, readyzPids, until } from '../helpers/workers.js';

/** The pids of the workers the primary last reported listening. */
function latestWorkers(stderr: string): number[] {
  const last = [...stderr.matchAll(/2 workers listening \(pids (\d+), (\d+)\)/g)].at(-1);
  return last ? [Number(last[1]), Number(last[2])] : [];
}

describe('kiln serve --workers 2 on PostgreSQL', { skip: !BACKENDS.includes('postgres') }, () => {
  let db: TestDatabase;
  let serve: ServeProcess;

  before(async () => {
    db = await createTestDatabase('postgres');
    serve = await spawnServe({ DATABASE_URL: TEST_DATABASE_URL, KILN_DB_SCHEMA: db.schema, KILN_LOG_FORMAT: 'json' }, ['--workers', '2']);
    await until('both workers', () => /2 workers listening \(pids \d+, \d+\)/.test(serve.stderr()));
  });
  after(async () => {
    if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    await db.dispose();
  });

  test('the migrations are applied once, by the primary, and one banner is printed', () => {
    const err = serve.stderr();
    assert.equal(err.match(/applied 20261125082205_initial/g)?.length, 1, err);
    assert.equal(err.match(/Press Ctrl\+C to stop\./g)?.length, 1, err);
  });

  test('both workers answer on the one port', async () => {
    for (let i = 0; i < 8; i++) assert.equal((await getOnNewConnection(`${serve.url}/readyz`)).status, 200);
    await until('log lines of both workers', () => readyzPids(serve.stdout()).size === 2);
    assert.deepEqual([...readyzPids(serve.stdout())].sort(), latestWorkers(serve.stderr()).sort());
  });

  test('a worker that dies is replaced, and the port keeps answering', async () => {
    const [victim] = latestWorkers(serve.stderr());
    assert.ok(victim);
    process.kill(victim, 'SIGKILL');
    await until('the replacement', () => serve.stderr().includes(`worker ${victim} exited (SIGKILL); starting another`));
    await until('two workers again', () => (serve.stderr().match(/2 workers listening/g)?.length ?? 0) === 2);
    for (let i = 0; i < 6; i++) assert.equal((await getOnNewConnection(`${serve.url}/readyz`)).status, 200);
  });

  test('SIGTERM stops every worker, and the primary exits with 0', async () => {
    const pids = latestWorkers(serve.stderr());
    assert.equal(pids.length, 2);
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0, serve.stderr());
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `worker ${pid} is gone`);
  });
});

describe('kiln serve --workers refuses what it cannot do safely', () => {
  test('on the embedded database, which serves one process', async () => {
    const run = await runCliProcess(['serve', '--model', BLOG_MODEL_PATH, '--workers', '2']);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      'kiln serve: --workers 2 needs PostgreSQL (DATABASE_URL): the embedded database serves one process. Set DATABASE_URL, or serve without --workers\n',
    );
  });

  test('a count that is not a whole number from 1 to 64', async () => {
    for (const count of ['0', 'two', '65']) {
      const run = await runCliProcess(['serve', '--model', BLOG_MODEL_PATH, '--workers', count]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /^kiln serve: --workers must be a whole number from 1 to 64\n\nUsage: kiln serve/);
    }
  });
});
