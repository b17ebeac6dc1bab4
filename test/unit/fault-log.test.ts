import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type FaultClock, FaultLog, faultKey } from '../../src/http/fault-log.js';

/** Time that moves only when the test says so; timers fire in order as it passes them. */
class FakeClock implements FaultClock {
  #now = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 0;

  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): number {
    this.#next++;
    this.#timers.set(this.#next, { at: this.#now + ms, fn });
    return this.#next;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  tick(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
    }
    this.#now = until;
  }
}

function setup(windowMs = 1000, maxCauses?: number) {
  const lines: { fields: Record<string, unknown>; msg: string; by: string }[] = [];
  const logger = (by: string) => ({ error: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg, by }) });
  const clock = new FakeClock();
  const faults = new FaultLog(logger('app'), { windowMs, clock, maxCauses });
  return { lines, clock, faults, logger };
}

const terminated = () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

describe('FaultLog', () => {
  test('the first occurrence of a cause is logged with the cause and no stack; repeats in the window only count', () => {
    const { lines, clock, faults, logger } = setup();
    faults.record('KILN_DATABASE_UNAVAILABLE', terminated(), { log: logger('request-1') });
    for (let i = 0; i < 499; i++) {
      clock.tick(1);
      faults.record('KILN_DATABASE_UNAVAILABLE', terminated(), { log: logger(`request-${i + 2}`) });
    }
    assert.deepEqual(lines, [
      {
        by: 'request-1',
        msg: 'KILN_DATABASE_UNAVAILABLE',
        fields: {
          fault: 'KILN_DATABASE_UNAVAILABLE 57P01',
          cause: { type: 'Error', message: 'terminating connection due to administrator command', code: '57P01' },
        },
      },
    ]);
    clock.tick(501); // the window opened at 0 ends at 1000
    assert.deepEqual(lines.slice(1), [
      { by: 'app', msg: 'KILN_DATABASE_UNAVAILABLE (repeated)', fields: { fault: 'KILN_DATABASE_UNAVAILABLE 57P01', repeats: 499, periodMs: 1000 } },
    ]);
  });

  test('a cause that goes on is reported once per window; once it stops it is forgotten and logged in full again', () => {
    const { lines, clock, faults } = setup();
    faults.record('KILN_DATABASE_UNAVAILABLE', terminated());
    clock.tick(600);
    faults.record('KILN_DATABASE_UNAVAILABLE', terminated());
    clock.tick(600); // first window ended with 1 repeat
    faults.record('KILN_DATABASE_UNAVAILABLE', terminated());
    faults.record('KILN_DATABASE_UNAVAILABLE', terminated());
    clock.tick(1000); // second window: 2 repeats
    clock.tick(1000); // third window: none, the cause stopped
    assert.equal(clock.pending, 0, 'nothing left scheduled');
    faults.record('KILN_DATABASE_UNAVAILABLE', terminated());
    assert.deepEqual(
      lines.map((l) => [l.msg, l.fields.repeats, l.fields.periodMs]),
      [
        ['KILN_DATABASE_UNAVAILABLE', undefined, undefined],
        ['KILN_DATABASE_UNAVAILABLE (repeated)', 1, 1000],
        ['KILN_DATABASE_UNAVAILABLE (repeated)', 2, 1000],
        ['KILN_DATABASE_UNAVAILABLE', undefined, undefined],
      ],
    );
  });

  test('a cause that happened once writes one line and no summary', () => {
    const { lines, clock, faults } = setup();
    faults.record('KILN_DATABASE_TIMEOUT', Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }));
    clock.tick(5000);
    assert.equal(lines.length, 1);
    assert.equal(clock.pending, 0);
  });

  test('different causes are counted apart: by label, and by SQLSTATE or errno', () => {
    const { lines, clock, faults } = setup();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 3; i++) {
      faults.record('KILN_DATABASE_UNAVAILABLE', terminated());
      faults.record('KILN_DATABASE_UNAVAILABLE', refused);
      faults.record('database connection lost while idle', terminated());
      faults.record('KILN_SHUTTING_DOWN', undefined);
    }
    assert.deepEqual(
      lines.map((l) => l.fields.fault),
      ['KILN_DATABASE_UNAVAILABLE 57P01', 'KILN_DATABASE_UNAVAILABLE ECONNREFUSED', 'database connection lost while idle 57P01', 'KILN_SHUTTING_DOWN'],
    );
    clock.tick(1000);
    assert.deepEqual(
      lines.slice(4).map((l) => [l.fields.fault, l.fields.repeats]),
      [
        ['KILN_DATABASE_UNAVAILABLE 57P01', 2],
        ['KILN_DATABASE_UNAVAILABLE ECONNREFUSED', 2],
        ['database connection lost while idle 57P01', 2],
        ['KILN_SHUTTING_DOWN', 2],
      ],
    );
  });

  test('a defect is logged with its stack; the values in a message without a code do not split its cause', () => {
    const { lines, faults } = setup();
    const bug = (n: number) => new TypeError(`Cannot read properties of undefined (reading 'field${n}') at row ${n}`);
    faults.record('KILN_INTERNAL', bug(1), { msg: 'unhandled error', stack: true });
    faults.record('KILN_INTERNAL', bug(2), { msg: 'unhandled error', stack: true });
    faults.record('KILN_INTERNAL', new Error('another defect'), { msg: 'unhandled error', stack: true });
    assert.deepEqual(
      lines.map((l) => l.fields.fault),
      ['KILN_INTERNAL TypeError: Cannot read properties of undefined (reading ?) at row ?', 'KILN_INTERNAL Error: another defect'],
    );
    assert.ok(lines[0]?.fields.err instanceof TypeError, 'the error itself, so the logger writes its stack');
    assert.equal(lines[0]?.msg, 'unhandled error');
  });

  test('faultKey masks quoted text and numbers, and keeps a code as it is', () => {
    assert.equal(faultKey('X', new Error('no answer in 2000 ms')), faultKey('X', new Error('no answer in 1999 ms')));
    assert.equal(faultKey('X', new Error('Connection terminated unexpectedly')), 'X Error: Connection terminated unexpectedly');
    assert.equal(faultKey('X', Object.assign(new Error('bind message has 4464 parameter formats'), { code: '08P01' })), 'X 08P01');
    assert.equal(faultKey('X', 'a string'), 'X Error: a string');
    assert.equal(faultKey('X', undefined), 'X');
  });

  test('flush writes the pending counts and cancels the timers (on close)', () => {
    const { lines, clock, faults } = setup();
    faults.record('KILN_DATABASE_UNAVAILABLE', terminated());
    faults.record('KILN_DATABASE_UNAVAILABLE', terminated());
    faults.record('KILN_DATABASE_TIMEOUT', undefined);
    clock.tick(250);
    faults.flush();
    assert.equal(clock.pending, 0);
    assert.deepEqual(lines.at(-1), {
      by: 'app',
      msg: 'KILN_DATABASE_UNAVAILABLE (repeated)',
      fields: { fault: 'KILN_DATABASE_UNAVAILABLE 57P01', repeats: 1, periodMs: 250 },
    });
    assert.equal(lines.length, 3);
  });

  test('past maxCauses distinct causes, occurrences are logged one by one instead of held', () => {
    const { lines, faults } = setup(1000, 2);
    for (const code of ['A', 'B', 'C', 'C']) faults.record('KILN_INTERNAL', Object.assign(new Error(code), { code }));
    assert.deepEqual(
      lines.map((l) => l.fields.fault),
      ['KILN_INTERNAL A', 'KILN_INTERNAL B', 'KILN_INTERNAL C', 'KILN_INTERNAL C'],
    );
  });
});
