import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { field } from '../../src/model/define.js';
import { FrozenMap } from '../../src/model/frozen-map.js';
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow } from '../../src/model/load.js';
import { blogModel } from '../helpers/blog.js';

/** Every object, array and map reachable from the model, each with its path. */
function nodesOf(model: Model): { path: string; node: object }[] {
  const found: { path: string; node: object }[] = [];
  const seen = new Set<object>();
  const walk = (value: unknown, path: string) => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    found.push({ path, node: value });
    if (value instanceof FrozenMap) for (const [key, v] of value) walk(v, `${path}.get(${JSON.stringify(key)})`);
    else for (const [key, v] of Object.entries(value)) walk(v, `${path}.${key}`);
  };
  walk(model, 'model');
  return found;
}

/** Asserts that no change to `node` is possible: assignment throws (ESM is strict mode), and so does every mutator. */
function assertImmutable(path: string, node: object): void {
  assert.ok(!(node instanceof Map) && !(node instanceof Set) && !(node instanceof WeakMap) && !(node instanceof Date), `${path} is a mutable built-in`);
  assert.ok(Object.isFrozen(node), `${path} is not frozen`);
  const record = node as Record<string, unknown>;
  assert.throws(
    () => {
      record.addedByTest = 1;
    },
    TypeError,
    `${path}: adding a property`,
  );
  for (const key of Object.keys(node)) {
    assert.throws(
      () => {
        record[key] = 'changed';
      },
      TypeError,
      `${path}.${key}: assignment`,
    );
    assert.throws(
      () => {
        delete record[key];
      },
      TypeError,
      `${path}.${key}: delete`,
    );
  }
  if (Array.isArray(node)) {
    assert.throws(() => node.push(1), TypeError, `${path}: push`);
    if (node.length > 0) assert.throws(() => node.pop(), TypeError, `${path}: pop`);
  }
  if (node instanceof FrozenMap) {
    const map = node as FrozenMap<unknown, unknown> & Record<string, unknown>;
    const size = map.size;
    for (const mutator of ['set', 'delete', 'clear']) assert.equal(map[mutator], undefined, `${path}.${mutator} exists`);
    // Map's own methods refuse an object that is not a Map, so they cannot reach the entries either.
    assert.throws(() => Map.prototype.set.call(map, 'x', 1), TypeError, `${path}: Map.prototype.set`);
    assert.throws(() => Map.prototype.clear.call(map), TypeError, `${path}: Map.prototype.clear`);
    assert.equal(map.size, size);
  }
}

const everyKind = () =>
  compileOrThrow('test', {
    resources: {
      users: { fields: { email: field.string({ maxLength: 100, example: 'a@b.co', pattern: '^[^@]+@[^@]+$' }), posts: field.hasMany('posts') } },
      posts: {
        id: 'uuid',
        fields: {
          status: field.enum(['draft', 'published'], { default: 'draft' }),
          meta: field.json({ default: { tags: ['a', 'b'], nested: { n: 1 } }, example: [{ x: 1 }] }),
          author: field.belongsTo('users'),
          editors: field.manyToMany('users'),
          watchers: field.manyToMany('users'),
        },
        unique: [['authorId', 'status']],
        indexes: [{ fields: ['status'], name: 'posts_by_status' }],
      },
    },
  });

describe('a compiled model is immutable at run time', () => {
  for (const [label, load] of [
    ['the blog example', blogModel],
    ['a model with every kind of node', async () => everyKind()],
  ] as const) {
    test(`${label}: no object, array or map in it can be changed`, async () => {
      const model = await load();
      const nodes = nodesOf(model);
      assert.ok(nodes.length > 40, `walked ${nodes.length} nodes`);
      for (const { path, node } of nodes) assertImmutable(path, node);
    });
  }

  test('the lookup tables are FrozenMaps that read like Maps', () => {
    const model = everyKind();
    const posts = model.resourcesByName.get('posts');
    assert.ok(model.resourcesByName instanceof FrozenMap);
    assert.equal(model.resourcesByName.size, 2);
    assert.ok(model.resourcesByName.has('users'));
    assert.equal(model.resourcesByName.has('constructor'), false);
    assert.deepEqual([...model.resourcesByName.keys()], ['users', 'posts']);
    assert.deepEqual(
      [...model.resourcesByName].map(([name, r]) => [name, r.table]),
      [
        ['users', 'users'],
        ['posts', 'posts'],
      ],
    );
    assert.deepEqual(
      [...(posts?.relationsByName.values() ?? [])].map((r) => r.kind),
      ['belongsTo', 'manyToMany', 'manyToMany'],
    );
    const seen: string[] = [];
    posts?.fieldsByName.forEach((f, name, map) => {
      assert.equal(map, posts.fieldsByName);
      seen.push(`${name}:${f.type}`);
    });
    assert.deepEqual(seen, ['id:uuid', 'status:enum', 'meta:json', 'authorId:bigint', 'createdAt:datetime', 'updatedAt:datetime']);
  });

  test('FrozenMap cannot be given mutators afterwards', () => {
    assert.throws(() => {
      (FrozenMap.prototype as unknown as Record<string, unknown>).set = () => {};
    }, TypeError);
    assert.throws(() => Object.defineProperty(FrozenMap.prototype, 'clear', { value: () => {} }), TypeError);
  });
});
