/**
 * Where ReplicaReads sends each read, and when it marks a replica down, up or lagging, with
 * scripted databases and a clock moved by hand. The same behaviour on real servers (a streaming
 * replica paused, stopped) is in test/e2e/read-replicas.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Database } from '../../src/db/database.js';
import { REPLICA_RETRY_MS, type ReplicaChange, ReplicaReads } from '../../src/db/replicas.js';

/** A database that records who was asked and answers with its name, or with the error `fail` holds. */
class Scripted {
  fail: unknown;
  lagMs = 0;
  constructor(
    readonly name: string,
    readonly asked: string[],
  ) {}

  get db(): Database {
    return {
      kind: 'postgres',
      query: async <R>(text: string) => {
        this.asked.push(this.name);
        if (this.fail) throw this.fail;
        return (text.includes('lag_ms') ? [{ lag_ms: this.lagMs }] : [{ from: this.name }]) as R[];
      },
      transaction: () => Promise.reject(new Error('no transactions here')),
      ping: async () => {},
      observe: () => () => {},
      onConnectionError: () => () => {},
      close: async () => {},
    };
  }
}

function setUp(maxLagMs = 0) {
  const asked: string[] = [];
  const primary = new Scripted('primary', asked);
  const one = new Scripted('one', asked);
  const two = new Scripted('two', asked);
  const clock = { now: 1_000_000 };
  const reads = new ReplicaReads(
    primary.db,
    [
      { label: 'one:5432/app', db: one.db },
      { label: 'two:5432/app', db: two.db },
    ],
    { maxLagMs, now: () => clock.now },
  );
  const changes: ReplicaChange[] = [];
  reads.onChange((change) => changes.push(change));
  const read = async () => ((await reads.query<{ from: string }>('SELECT 1'))[0] as { from: string }).from;
  return { asked, primary, one, two, clock, reads, changes, read };
}

const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('ReplicaReads', () => {
  test('reads take turns over the replicas', async () => {
    const { read } = setUp();
    assert.deepEqual([await read(), await read(), await read(), await read()], ['one', 'two', 'one', 'two']);
  });

  test('a replica whose connection fails: the read is answered by the primary, the replica is left alone, one change', async () => {
    const { read, one, asked, changes, reads } = setUp();
    one.fail = refused;
    assert.equal(await read(), 'primary');
    assert.deepEqual(asked, ['one', 'primary']);
    assert.deepEqual([await read(), await read()], ['two', 'two']);
    assert.deepEqual(changes, [{ replica: 'one:5432/app', state: 'down', error: refused }]);
    assert.deepEqual(reads.states, [
      { replica: 'one:5432/app', state: 'down' },
      { replica: 'two:5432/app', state: 'up' },
    ]);
  });

  test('once REPLICA_RETRY_MS has passed, one read tries the replica again; an answer brings it back', async () => {
    const { read, one, clock, changes } = setUp();
    one.fail = refused;
    await read();
    clock.now += REPLICA_RETRY_MS - 1;
    assert.equal(await read(), 'two');
    clock.now += 1;
    assert.equal(await read(), 'primary', 'the retry failed: answered by the primary');
    assert.equal(changes.length, 1, 'still down: no second change');
    clock.now += REPLICA_RETRY_MS;
    one.fail = undefined;
    assert.deepEqual([await read(), await read()], ['two', 'one']);
    assert.deepEqual(
      changes.map((c) => c.state),
      ['down', 'up'],
    );
  });

  test('every replica down: the primary answers', async () => {
    const { read, one, two } = setUp();
    one.fail = refused;
    two.fail = refused;
    assert.deepEqual([await read(), await read(), await read()], ['primary', 'primary', 'primary']);
  });

  test('a wrong password on a replica marks it down like a lost connection', async () => {
    const { read, one, changes } = setUp();
    one.fail = Object.assign(new Error('password authentication failed for user "kiln"'), { code: '28P01' });
    assert.equal(await read(), 'primary');
    assert.equal(changes[0]?.state, 'down');
  });

  test('a read cancelled by replay (40001) is retried on the primary; the replica stays up', async () => {
    const { read, one, changes } = setUp();
    one.fail = Object.assign(new Error('canceling statement due to conflict with recovery'), { code: '40001' });
    assert.equal(await read(), 'primary');
    assert.deepEqual(changes, []);
  });

  test("a statement's own error is the answer: the primary is not asked", async () => {
    const { reads, one, asked } = setUp();
    const invalid = Object.assign(new Error('invalid input syntax for type integer: "x"'), { code: '22P02' });
    one.fail = invalid;
    await assert.rejects(reads.query('SELECT 1'), invalid);
    assert.deepEqual(asked, ['one']);
  });

  test('with a max lag, a replica further behind serves no reads until it catches up', async () => {
    const { read, reads, two, changes } = setUp(1000);
    try {
      two.lagMs = 1500;
      assert.deepEqual(
        (await reads.check()).map((r) => r.state),
        ['up', 'lagging'],
      );
      assert.deepEqual(changes, [{ replica: 'two:5432/app', state: 'lagging', lagMs: 1500 }]);
      assert.deepEqual([await read(), await read()], ['one', 'one']);
      two.lagMs = 0;
      await reads.check();
      assert.deepEqual([await read(), await read()], ['two', 'one']);
      assert.equal(changes[1]?.state, 'up');
    } finally {
      await reads.close();
    }
  });

  test('/readyz-style check marks a replica that does not answer down, and one that answers up again', async () => {
    const { reads, one } = setUp();
    one.fail = refused;
    assert.deepEqual(
      (await reads.check()).map((r) => r.state),
      ['down', 'up'],
    );
    one.fail = undefined;
    assert.deepEqual(
      (await reads.check()).map((r) => r.state),
      ['up', 'up'],
    );
  });

  test('a listener is told at once of replicas down since the start', () => {
    const asked: string[] = [];
    const reads = new ReplicaReads(new Scripted('primary', asked).db, [{ label: 'one:5432/app', db: new Scripted('one', asked).db }], {
      maxLagMs: 0,
      startDown: new Map([[0, refused]]),
    });
    const changes: ReplicaChange[] = [];
    reads.onChange((change) => changes.push(change));
    assert.deepEqual(changes, [{ replica: 'one:5432/app', state: 'down', error: refused }]);
  });
});
