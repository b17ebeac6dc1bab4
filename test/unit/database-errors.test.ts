import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DatabaseErrorMapper } from '../../src/core/database-errors.js';
import { KilnError } from '../../src/core/errors.js';
import { blogModel } from '../helpers/blog.js';

/** What pg and PGlite throw: an Error with the SQLSTATE in `code` and the constraint name. */
function pgError(code: string, extra: { constraint?: string; message?: string } = {}): Error {
  return Object.assign(new Error(extra.message ?? `error ${code} on relation "users" (SELECT secret)`), { code, constraint: extra.constraint });
}

function summary(error: KilnError | undefined) {
  assert.ok(error instanceof KilnError, 'mapped to a KilnError');
  return { code: error.code, status: error.status, detail: error.detail, errors: error.errors ?? [] };
}

describe('DatabaseErrorMapper', () => {
  let mapper: DatabaseErrorMapper;
  before(async () => {
    mapper = new DatabaseErrorMapper(await blogModel());
  });

  test('23505 on a known unique constraint is 409 naming the field', () => {
    assert.deepEqual(summary(mapper.map(pgError('23505', { constraint: 'users_email_key' }))), {
      code: 'KILN_UNIQUE_VIOLATION',
      status: 409,
      detail: 'another user already has this value of email',
      errors: [{ path: '/email', code: 'unique', message: 'must be unique; the value is already taken' }],
    });
  });

  test('23505 on an unknown constraint is still 409, without naming a field', () => {
    assert.deepEqual(summary(mapper.map(pgError('23505', { constraint: 'somebody_elses_key' }))), {
      code: 'KILN_UNIQUE_VIOLATION',
      status: 409,
      detail: 'another record already has this value of a unique field',
      errors: [],
    });
  });

  test('23503 on a belongsTo or manyToMany constraint is 422 naming the field', () => {
    assert.deepEqual(summary(mapper.map(pgError('23503', { constraint: 'posts_author_id_fkey' }))), {
      code: 'KILN_REFERENCE_NOT_FOUND',
      status: 422,
      detail: 'relation "author" points at a record that does not exist',
      errors: [{ path: '/authorId', code: 'reference', message: 'no such user' }],
    });
    assert.deepEqual(summary(mapper.map(pgError('23503', { constraint: 'posts_tags_tags_id_fkey' }))).errors, [
      { path: '/tags', code: 'reference', message: 'no such tag' },
    ]);
    assert.deepEqual(summary(mapper.map(pgError('23503', { constraint: 'posts_tags_posts_id_fkey' }))).errors, [
      { path: '/posts', code: 'reference', message: 'no such post' },
    ]);
    assert.deepEqual(summary(mapper.map(pgError('23503'))), {
      code: 'KILN_REFERENCE_NOT_FOUND',
      status: 422,
      detail: 'a relation points at a record that does not exist',
      errors: [],
    });
  });

  test('referenceInUse: 23503 (PostgreSQL ≤ 17) and 23001 (18, ON DELETE RESTRICT) on delete are 409', () => {
    for (const code of ['23503', '23001']) {
      assert.deepEqual(summary(mapper.referenceInUse(pgError(code, { constraint: 'comments_post_id_fkey' }))), {
        code: 'KILN_REFERENCE_IN_USE',
        status: 409,
        detail: 'records of "comments" still reference this record through "post"; delete them first or use onDelete: cascade',
        errors: [],
      });
    }
    assert.equal(summary(mapper.referenceInUse(pgError('23001'))).detail, 'other records still reference this record');
    assert.equal(mapper.referenceInUse(pgError('23505')), undefined);
    assert.equal(mapper.referenceInUse(new Error('plain')), undefined);
  });

  test('57014 (statement timeout) is 503 KILN_DATABASE_TIMEOUT, keeping the cause for the log', () => {
    const cause = pgError('57014', { message: 'canceling statement due to statement timeout' });
    const mapped = mapper.map(cause);
    assert.deepEqual(summary(mapped), {
      code: 'KILN_DATABASE_TIMEOUT',
      status: 503,
      detail: 'the database statement took longer than the configured statement timeout',
      errors: [],
    });
    assert.equal(mapped?.cause, cause);
  });

  test('22001 and 22003 (value too long, out of range) are 400 validation errors', () => {
    assert.deepEqual(summary(mapper.map(pgError('22001'))), {
      code: 'KILN_VALIDATION_FAILED',
      status: 400,
      detail: 'a value is too long for its field',
      errors: [],
    });
    assert.deepEqual(summary(mapper.map(pgError('22003'))), {
      code: 'KILN_VALIDATION_FAILED',
      status: 400,
      detail: 'a numeric value is out of range for its field',
      errors: [],
    });
  });

  test('connection failures are 503 KILN_DATABASE_UNAVAILABLE, keeping the cause', () => {
    const failures = [
      pgError('08006'),
      pgError('08001'),
      pgError('08003'),
      pgError('57P01', { message: 'terminating connection due to administrator command' }),
      pgError('57P02', { message: 'terminating connection because of crash of another server process' }),
      pgError('57P03', { message: 'the database system is starting up' }),
      pgError('57P05', { message: 'terminating connection due to idle-session timeout' }),
      pgError('25P03', { message: 'terminating connection due to idle-in-transaction timeout' }),
      pgError('53300', { message: 'sorry, too many clients already' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
      Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' }),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated due to connection timeout'),
      new Error('Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
    ];
    for (const failure of failures) {
      const mapped = mapper.map(failure);
      assert.deepEqual(
        summary(mapped),
        { code: 'KILN_DATABASE_UNAVAILABLE', status: 503, detail: 'the database cannot be reached right now', errors: [] },
        failure.message,
      );
      assert.equal(mapped?.cause, failure);
    }
  });

  test('08P01 (protocol violation, e.g. more than 65,535 bind parameters) is a defect left for the 500 handler, not an outage', () => {
    const violation = pgError('08P01', { message: 'bind message has 4464 parameter formats but 0 parameters' });
    assert.equal(mapper.map(violation), undefined);
  });

  test('the driver message never becomes the detail', () => {
    for (const code of ['23505', '23503', '57014', '22001', '22003', '08006']) {
      assert.doesNotMatch(mapper.map(pgError(code))?.detail ?? '', /SELECT|secret|relation "users"/, code);
    }
  });

  test('a KilnError passes through; anything unrecognised is left for the 500 handler', () => {
    const own = new KilnError('KILN_NOT_FOUND');
    assert.equal(mapper.map(own), own);
    for (const other of [
      pgError('42P01'),
      pgError('42703'),
      pgError('XX000'),
      pgError('08P01'),
      new TypeError('x is undefined'),
      'a string',
      null,
      undefined,
      42,
    ]) {
      assert.equal(mapper.map(other), undefined, String(other));
    }
  });
});
