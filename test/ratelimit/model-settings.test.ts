/** The model's `rateLimit` is checked at load; the settings of the limits at start-up; one policy counts each operation. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, resolveSettings } from '../../src/config/settings.js';
import { trustProxyOption } from '../../src/http/trust-proxy.js';
import { compileModel } from '../../src/model/compile.js';
import type { ModelProblem } from '../../src/model/problems.js';
import { ANONYMOUS, createContext, type Principal, SYSTEM } from '../../src/pipeline/context.js';
import { createRateLimits } from '../../src/ratelimit/create.js';
import { callerKey } from '../../src/ratelimit/limiter.js';
import { PolicyTable } from '../../src/ratelimit/policies.js';
import { parseRate } from '../../src/ratelimit/rate.js';
import { notesModel } from './models.js';

const withLimits = (rateLimit: unknown) => ({ resources: { notes: { fields: { title: { type: 'string', maxLength: 10 } }, rateLimit } } });

function problemsOf(declaration: unknown): ModelProblem[] {
  const result = compileModel(declaration);
  assert.equal(result.ok, false, 'expected the model to be rejected');
  return result.ok ? [] : [...result.problems];
}

const HINT = "write calls per window, e.g. KEY: '100/min' (units s, min, h, day; '20/15min' for 20 per 15 minutes; a window of at most one day), or KEY: 'off'";

describe('the `rateLimit` option of a resource', () => {
  test('rates and `off` by operation compile into the model', () => {
    const result = compileModel(withLimits({ default: '100/min', create: '10/15min', list: 'off', read: '5/s', update: '1000/h', delete: '20000/day' }));
    assert.ok(result.ok);
    assert.deepEqual(result.model.resourcesByName.get('notes')?.rateLimit, {
      default: { points: 100, windowS: 60 },
      list: null,
      read: { points: 5, windowS: 1 },
      create: { points: 10, windowS: 900 },
      update: { points: 1000, windowS: 3600 },
      delete: { points: 20000, windowS: 86400 },
    });
  });

  test('a value that is not a rate names the entry, what is wrong, and how to write it', () => {
    for (const [value, shown] of [
      ['100/week', '"100/week"'],
      ['100 per minute', '"100 per minute"'],
      ['0/min', '"0/min"'],
      ['2/2day', '"2/2day"'],
      [100, '100'],
    ] as const) {
      assert.deepEqual(problemsOf(withLimits({ create: value })), [
        { path: 'resources.notes.rateLimit.create', message: `${shown} is not a rate`, hint: HINT.replaceAll('KEY', 'create') },
      ]);
    }
  });

  test('an unknown key, and a value that is not an object', () => {
    assert.deepEqual(problemsOf(withLimits({ get: '10/min', default: '10/min' })), [
      { path: 'resources.notes.rateLimit.get', message: 'unknown rateLimit key "get"', hint: 'use one of: default, list, read, create, update, delete' },
    ]);
    assert.deepEqual(problemsOf(withLimits('100/min')), [
      {
        path: 'resources.notes.rateLimit',
        message: 'rateLimit must be an object of rates by operation, not "100/min"',
        hint: "e.g. rateLimit: { default: '100/min', create: '10/min' }",
      },
    ]);
  });
});

describe('which policy counts an operation', () => {
  test("the resource's entry for it, else the resource's `default`, else KILN_RATE_LIMIT; `off` at any level frees it", () => {
    const table = new PolicyTable(notesModel({ default: '5/min', create: '3/min', read: 'off' }), parseRate('7/h') ?? null);
    const name = (resource: string, operation: Parameters<PolicyTable['of']>[1]) => table.of(resource, operation)?.name;
    assert.equal(name('notes', 'create'), 'notes.create');
    assert.equal(name('notes', 'createMany'), 'notes.create', 'a bulk create is a create');
    assert.equal(name('notes', 'list'), 'notes');
    assert.equal(name('notes', 'update'), 'notes');
    assert.equal(name('notes', 'replace'), 'notes');
    assert.equal(name('notes', 'remove'), 'notes');
    assert.equal(name('notes', 'get'), undefined);
    assert.equal(name('tags', 'get'), 'default');
    assert.equal(table.of('notes', 'update'), table.of('notes', 'remove'), 'one budget for every operation of a policy');
    assert.deepEqual(
      table.all.map((p) => [p.name, p.rate]),
      [
        ['notes', { points: 5, windowS: 60 }],
        ['notes.create', { points: 3, windowS: 60 }],
        ['default', { points: 7, windowS: 3600 }],
      ],
    );
    assert.equal(new PolicyTable(notesModel({ default: 'off' }), null).empty, true);
  });
});

describe('the settings of the limits', () => {
  test('KILN_RATE_LIMIT defaults to 1000/min and takes a rate or off', () => {
    assert.equal(resolveSettings({}).rateLimit, '1000/min');
    assert.equal(resolveSettings({ KILN_RATE_LIMIT: 'off' }).rateLimit, 'off');
    assert.throws(
      () => resolveSettings({ KILN_RATE_LIMIT: '100/week' }),
      (error: Error) =>
        error instanceof ConfigError &&
        error.message.includes('KILN_RATE_LIMIT: "100/week" does not match /^(off|[1-9][0-9]{0,8}\\/([1-9][0-9]{0,4})?(s|min|h|day))$/'),
    );
  });

  test('a window over a day stops the start', async () => {
    const settings = { ...resolveSettings({}), rateLimit: '1/2day' };
    await assert.rejects(
      createRateLimits(notesModel(), settings, console, { connect: false }),
      new ConfigError('invalid configuration:\n  - KILN_RATE_LIMIT: "1/2day" has a window longer than a day'),
    );
  });

  test('KILN_RATE_LIMIT_REDIS_DOWN and KILN_TRUST_PROXY accept only what they document', () => {
    assert.equal(resolveSettings({}).rateLimitRedisDown, 'memory');
    assert.throws(() => resolveSettings({ KILN_RATE_LIMIT_REDIS_DOWN: 'fail' }), /KILN_RATE_LIMIT_REDIS_DOWN: "fail" is not one of memory, open, closed/);
    assert.equal(resolveSettings({}).trustProxy, 'off');
    assert.throws(() => resolveSettings({ KILN_TRUST_PROXY: 'yes please' }), /KILN_TRUST_PROXY: "yes please" does not match/);
  });

  test("KILN_TRUST_PROXY becomes Fastify's trustProxy", () => {
    assert.equal(trustProxyOption('off'), false);
    assert.equal(trustProxyOption('true'), true);
    assert.deepEqual(trustProxyOption('10.0.0.0/8, 127.0.0.1'), ['10.0.0.0/8', '127.0.0.1']);
    const hops = trustProxyOption('2') as (address: string, hop: number) => boolean;
    assert.deepEqual(
      [0, 1, 2].map((hop) => hops('10.0.0.1', hop)),
      [true, true, false],
    );
  });
});

describe('whom a call is counted for', () => {
  const limits = resolveSettings({});
  const ctx = (principal: Principal, ip?: string) => ({ ...createContext({ limits, principal }), ...(ip && { ip }) });

  test('the account, the API key, the external subject, else the client IP; never Kiln itself, nor code without a client', () => {
    assert.equal(callerKey(ctx({ kind: 'account', id: 42, roles: [] }, '10.0.0.1')), 'account:42');
    assert.equal(callerKey(ctx({ kind: 'apiKey', id: 42, roles: [] }, '10.0.0.1')), 'key:42');
    assert.equal(callerKey(ctx({ kind: 'service', id: 'svc-a', roles: [] }, '10.0.0.1')), 'service:svc-a');
    assert.equal(callerKey(ctx(ANONYMOUS, '2001:db8::1')), 'ip:2001:db8::1');
    assert.equal(callerKey(ctx(SYSTEM, '10.0.0.1')), undefined);
    assert.equal(callerKey(ctx(ANONYMOUS)), undefined, 'kiln.context(): a call made in code');
  });
});
