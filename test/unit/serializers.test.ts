import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getResource } from '../../src/model/ir.js';
import { Serializers } from '../../src/rest/serializers.js';
import { blogModel } from '../helpers/blog.js';

// SQL never selects a hidden column, so the end-to-end tests cannot show the serialiser's own guarantee:
// these hand it rows that do carry hidden and undeclared properties, as a future query bug might.
describe('response serialisers', () => {
  test('write only declared, readable properties, whatever the row holds', async () => {
    const model = await blogModel();
    const serialize = new Serializers(model).for(getResource(model, 'users'));
    const row = {
      id: 7,
      email: 'ada@example.com',
      name: 'Ada',
      passwordHash: '$argon2id$never-sent',
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      updatedAt: new Date('2026-01-02T03:04:05.678Z'),
      internalNote: 'not a field',
    };
    const expected = {
      id: 7,
      email: 'ada@example.com',
      name: 'Ada',
      createdAt: '2026-01-02T03:04:05.678Z',
      updatedAt: '2026-01-02T03:04:05.678Z',
    };
    assert.deepEqual(JSON.parse(serialize.one({ data: row })), { data: expected });
    assert.deepEqual(JSON.parse(serialize.many({ data: [row, row] })), { data: [expected, expected] });
    const page = { limit: 2, hasMore: false, nextCursor: null };
    assert.deepEqual(JSON.parse(serialize.page({ data: [row], page })), { data: [expected], page });
  });

  test('an included record carrying a hidden field fails closed: an error, never the field', async () => {
    const model = await blogModel();
    const serialize = new Serializers(model).for(getResource(model, 'posts'));
    const at = '2026-01-02T03:04:05.678Z';
    const author = { id: 1, email: 'a@example.com', name: 'A', passwordHash: 'secret-hash', createdAt: at, updatedAt: at };
    const { passwordHash: _, ...clean } = author;
    assert.deepEqual(JSON.parse(serialize.one({ data: { id: 3, title: 'T', author: clean } })).data.author, clean);
    // A relation is `anyOf [record, null]`, matched against the record's closed schema: an undeclared
    // property makes it match neither, and the request becomes a 500 with a generic body.
    assert.throws(() => serialize.one({ data: { id: 3, title: 'T', author } }), /does not match schema definition/);
  });
});
