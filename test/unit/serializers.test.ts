import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import type { Model } from '../../src/model/ir.js';
import { limitsFrom } from '../../src/pipeline/context.js';
import { compileSerializers, type ResourceSerializers } from '../../src/pipeline/serialize.js';
import { blogModel } from '../helpers/blog.js';

const serializersOf = (model: Model, name: string) => compileSerializers(model, limitsFrom(resolveSettings({}))).get(name) as ResourceSerializers;

// SQL never selects a hidden column, so the end-to-end tests cannot show the serialiser's own guarantee:
// these hand it rows that do carry hidden and undeclared properties, as a future query bug might.
describe('response serialisers', () => {
  test('write only declared, readable properties, whatever the row holds', async () => {
    const model = await blogModel();
    const serialize = serializersOf(model, 'users');
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

  test('an included record carrying a hidden field is written without it, like a top-level record', async () => {
    const model = await blogModel();
    const serialize = serializersOf(model, 'posts');
    const at = '2026-01-02T03:04:05.678Z';
    const author = { id: 1, email: 'a@example.com', name: 'A', passwordHash: 'secret-hash', createdAt: at, updatedAt: at };
    const { passwordHash: _, ...clean } = author;
    assert.deepEqual(JSON.parse(serialize.one({ data: { id: 3, title: 'T', author: clean } })).data.author, clean);
    // The serialiser writes only what the record's schema declares, at every depth.
    const written = serialize.one({ data: { id: 3, title: 'T', author } });
    assert.deepEqual(JSON.parse(written).data.author, clean);
    assert.doesNotMatch(written, /secret-hash|passwordHash/);
    assert.equal(JSON.parse(serialize.one({ data: { id: 3, title: 'T', author: null } })).data.author, null);
  });
});

describe('the include-limit marker', () => {
  test('`_truncated` is written when a row carries it, at any depth, and only then', async () => {
    const model = await blogModel();
    const serialize = serializersOf(model, 'posts');
    const at = '2026-01-02T03:04:05.678Z';
    const author = { id: 1, email: 'a@example.com', name: 'A', createdAt: at, updatedAt: at, posts: [{ id: 3, title: 'T' }], _truncated: ['posts'] };
    const post = { id: 3, title: 'T', comments: [{ id: 9, body: 'first' }], author };
    assert.deepEqual(JSON.parse(serialize.one({ data: { ...post, _truncated: ['comments'] } })).data, { ...post, _truncated: ['comments'] });
    const { _truncated: _, ...whole } = author;
    assert.deepEqual(JSON.parse(serialize.many({ data: [{ ...post, author: whole }] })).data, [{ ...post, author: whole }]);
  });
});
