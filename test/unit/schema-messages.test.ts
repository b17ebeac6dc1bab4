import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { schemaMessage } from '../../src/core/schema-messages.js';

const ajv = new Ajv({ allErrors: true });
(addFormatsModule as unknown as (a: Ajv) => Ajv)(ajv);

function messages(schema: object, value: unknown): string[] {
  const validate = ajv.compile(schema);
  assert.equal(validate(value), false);
  return (validate.errors ?? []).map(schemaMessage);
}

describe('schemaMessage: an app schema error in English', () => {
  test('types, bounds, lengths, enums, patterns and formats', () => {
    assert.deepEqual(messages({ type: 'integer' }, 'x'), ['must be an integer']);
    assert.deepEqual(messages({ type: ['string', 'null'] }, 3), ['must be a string or null']);
    assert.deepEqual(messages({ type: 'integer', minimum: 1 }, 0), ['must be at least 1']);
    assert.deepEqual(messages({ type: 'integer', exclusiveMaximum: 5 }, 5), ['must be less than 5']);
    assert.deepEqual(messages({ type: 'string', minLength: 1, pattern: '^[a-z]+$' }, ''), [
      'must have at least 1 character',
      'must match the pattern ^[a-z]+$',
    ]);
    assert.deepEqual(messages({ type: 'string', maxLength: 3 }, 'long'), ['must have at most 3 characters']);
    assert.deepEqual(messages({ enum: ['draft', 'published', 1] }, 'x'), ['must be one of: draft, published, 1']);
    assert.deepEqual(messages({ type: 'string', format: 'email' }, 'x'), ['must be an email']);
    assert.deepEqual(messages({ type: 'array', maxItems: 1, uniqueItems: true }, [1, 1]), [
      'must list at most 1 item',
      'must not list the same item twice (items 0 and 1)',
    ]);
  });
});
