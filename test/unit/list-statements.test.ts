/**
 * A list statement taken from the shape cache is exactly the statement the compiler builds for that
 * query: same text, same parameters in the same order, across every operator, sort, cursor and
 * join; and two queries of one shape with other values share the text but not the values.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import { CompiledModel } from '../../src/core/compiled-model.js';
import { CursorCodec } from '../../src/core/cursor.js';
import { planJoins } from '../../src/core/includes.js';
import { buildListQuery } from '../../src/core/list-query.js';
import { and, compare, equals, not, or, type Predicate, related, TRUE } from '../../src/core/predicate.js';
import type { ListQuery } from '../../src/core/query.js';
import { getResource } from '../../src/model/ir.js';
import { limitsFrom } from '../../src/pipeline/context.js';
import type { FilterArg, ListArgs } from '../../src/pipeline/parse.js';
import { ListStatements } from '../../src/sql/list-statements.js';
import { type Access, compileList, projection } from '../../src/sql/select.js';
import { allTypesModel } from '../fixtures/all-types.js';

const model = allTypesModel();
const compiled = new CompiledModel(model, limitsFrom(resolveSettings({})));
const limits = limitsFrom(resolveSettings({}));
const env = { model, compiled, cursors: new CursorCodec('k') };
const items = getResource(model, 'items');
const open: Access = { rows: TRUE, scopeOf: () => undefined };
const filter = (path: string, operator: string, value: unknown): FilterArg => ({ path: path.split('.'), operator, value });

/** [args, another set of values for the same shape] */
const SHAPES: [ListArgs, ListArgs][] = [
  [{}, { limit: 5 }],
  [{ filters: [filter('qty', 'eq', '3')] }, { filters: [filter('qty', 'eq', '7')] }],
  [{ filters: [filter('label', 'icontains', 'a%b_')] }, { filters: [filter('label', 'icontains', 'zz')] }],
  [{ filters: [filter('label', 'startsWith', 'x')] }, { filters: [filter('label', 'startsWith', 'y\\')] }],
  [{ filters: [filter('label', 'endsWith', 'x')] }, { filters: [filter('label', 'endsWith', 'q')] }],
  [{ filters: [filter('qty', 'in', ['1', '2'])] }, { filters: [filter('qty', 'in', ['1', '2', '3', '4'])] }],
  [{ filters: [filter('qty', 'notIn', ['1'])] }, { filters: [filter('qty', 'notIn', ['9', '8'])] }],
  [{ filters: [filter('rank', 'isNull', 'true')] }, { filters: [filter('rank', 'isNull', 'true')] }],
  [{ filters: [filter('rank', 'isNull', 'false')] }, { filters: [filter('rank', 'isNull', 'false')] }],
  [
    { filters: [filter('qty', 'gte', '1'), filter('price', 'lt', '9.5'), filter('kind', 'ne', 'alpha')], sort: ['-price', 'label'] },
    { filters: [filter('qty', 'gte', '4'), filter('price', 'lt', '1'), filter('kind', 'ne', 'beta')], sort: ['-price', 'label'] },
  ],
  [
    { fields: ['id', 'label'], include: [{ relation: 'owner' }] },
    { fields: ['id', 'label'], include: [{ relation: 'owner' }], limit: 3 },
  ],
];

function statements(args: ListArgs, lists: ListStatements, after?: readonly unknown[], access: Access = open) {
  const query: ListQuery = buildListQuery(env, items, args, limits);
  const plan = planJoins(query.include);
  const columns = query.fields.includes('ownerId') || plan.joined.length === 0 ? query.fields : [...query.fields, 'ownerId'];
  const select = projection(items, columns);
  return {
    cached: lists.compile(items, query, select, access, plan.joined, after),
    fresh: compileList(model, items, query, select, access, plan.joined, after),
  };
}

describe('list statements by shape', () => {
  test('a statement from the cache is the one the compiler builds, for every shape, first and second time', () => {
    const lists = new ListStatements(model);
    for (const [first, second] of SHAPES) {
      for (const args of [first, second, first]) {
        const { cached, fresh } = statements(args, lists);
        assert.equal(cached.text, fresh.text, JSON.stringify(args));
        assert.deepEqual(cached.values, fresh.values, JSON.stringify(args));
      }
      const a = statements(first, lists).cached;
      const b = statements(second, lists).cached;
      assert.equal(a.text, b.text, 'one shape, one text');
    }
  });

  test('cursor positions: null sort values change the text, and both forms are cached apart', () => {
    const lists = new ListStatements(model);
    const args: ListArgs = { sort: ['-rank', 'label'] };
    for (const after of [
      [3, 'a', 10],
      [null, 'a', 10],
      [5, null, 2],
      [3, 'b', 11],
      [null, 'z', 12],
    ]) {
      const { cached, fresh } = statements(args, lists, after);
      assert.equal(cached.text, fresh.text, JSON.stringify(after));
      assert.deepEqual(cached.values, fresh.values, JSON.stringify(after));
    }
  });

  test('a repeated shape with other values is compiled once: it adds no shape, and another shape adds one', () => {
    const lists = new ListStatements(model);
    const [args, other] = SHAPES[1] as [ListArgs, ListArgs];
    const first = statements(args, lists).cached;
    assert.equal(lists.shapes, 1);
    const second = statements(other, lists).cached;
    assert.equal(lists.shapes, 1, 'the same shape with other values must reuse the remembered text');
    assert.equal(second.text, first.text);
    assert.notDeepEqual(second.values, first.values);
    statements((SHAPES[2] as [ListArgs, ListArgs])[0], lists);
    assert.equal(lists.shapes, 2);
  });

  test("under a rule on the resource's own fields, one shape per rule structure: the rule's values bound first, in the compiler's order", () => {
    const lists = new ListStatements(model);
    const ruled = (rows: Predicate): Access => ({ rows, scopeOf: () => undefined });
    /** [a rule, the same shape with other values] */
    const rules: [Predicate, Predicate][] = [
      [or(equals('kind', 'alpha'), equals('ownerId', '1')), or(equals('kind', 'alpha'), equals('ownerId', '2'))],
      [and(compare('qty', 'gte', 3), not(compare('label', 'icontains', 'x'))), and(compare('qty', 'gte', 9), not(compare('label', 'icontains', 'y%')))],
      [or(compare('rank', 'isNull', true), compare('qty', 'in', [1, 2])), or(compare('rank', 'isNull', true), compare('qty', 'in', [5]))],
    ];
    const args: ListArgs = { filters: [filter('qty', 'lt', '100')], sort: ['-price'], include: [{ relation: 'owner' }] };
    for (const [first, second] of rules) {
      for (const rule of [first, second, first]) {
        for (const after of [undefined, [1.5, 7]]) {
          const { cached, fresh } = statements(args, lists, after, ruled(rule));
          assert.equal(cached.text, fresh.text, JSON.stringify(rule));
          assert.deepEqual(cached.values, fresh.values, JSON.stringify(rule));
        }
      }
      assert.equal(statements(args, lists, undefined, ruled(first)).cached.text, statements(args, lists, undefined, ruled(second)).cached.text);
    }
    // Another structure (and for or, isNull true for false) is another shape, with its own text.
    const orText = statements(args, lists, undefined, ruled(or(equals('kind', 'alpha'), equals('ownerId', '1')))).cached.text;
    const andText = statements(args, lists, undefined, ruled(and(equals('kind', 'alpha'), equals('ownerId', '1')))).cached.text;
    assert.notEqual(orText, andText);
    const isNull = (value: boolean) => statements(args, lists, undefined, ruled(compare('rank', 'isNull', value))).cached.text;
    assert.notEqual(isNull(true), isNull(false));
    // Without rules, and with a rule, the same query has two texts.
    assert.notEqual(statements(args, lists).cached.text, orText);
  });

  test('a rule through a relation (not cached) still gets its own values every time', () => {
    const lists = new ListStatements(model);
    const args: ListArgs = { filters: [filter('qty', 'lt', '100')] };
    for (const name of ['Ada', 'Grace', 'Ada']) {
      const through: Access = { rows: or(equals('kind', 'alpha'), related('owner', equals('name', name))), scopeOf: () => undefined };
      const { cached, fresh } = statements(args, lists, undefined, through);
      assert.equal(cached.text, fresh.text);
      assert.deepEqual(cached.values, fresh.values);
      assert.ok(cached.values.includes(name), name);
    }
  });
});
