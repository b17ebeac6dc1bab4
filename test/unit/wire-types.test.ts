import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { timestamptzToIso } from '../../src/db/wire-types.js';

describe('timestamptz text to ISO 8601', () => {
  test('the UTC forms PostgreSQL writes become ISO text with milliseconds', () => {
    assert.equal(timestamptzToIso('2026-12-05 20:18:50.065+00'), '2026-12-05T20:18:50.065Z');
    assert.equal(timestamptzToIso('2026-12-05 20:18:50+00'), '2026-12-05T20:18:50.000Z');
    assert.equal(timestamptzToIso('2026-12-05 20:18:50.5+00'), '2026-12-05T20:18:50.500Z');
    assert.equal(timestamptzToIso('0001-01-01 00:00:00.001+00'), '0001-01-01T00:00:00.001Z');
  });

  test('other forms go through Date; what Date cannot read stays as written', () => {
    assert.equal(timestamptzToIso('2026-12-05 20:18:50.12+05:30'), '2026-12-05T14:48:50.120Z');
    assert.equal(timestamptzToIso('10000-01-01 00:00:00+00'), '+010000-01-01T00:00:00.000Z');
    assert.equal(timestamptzToIso('infinity'), 'infinity');
  });
});
