/**
 * The core's side of field rules, without HTTP: who is asked about fields and when nothing is (the
 * fast path of open access and of models without field rules), the statements a conditional field
 * compiles into, the rows that come back, and the refusal of unwritable fields.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fieldResolver, NO_FIELD_LIMITS, readableFor, viewOf } from '../../src/access/field-access.js';
import { hideUnshown } from '../../src/access/field-visibility.js';
import { refuseUnwritable } from '../../src/access/field-writes.js';
import { policyFor } from '../../src/access/policy.js';
import { resolveSettings } from '../../src/config/settings.js';
import { CompiledModel } from '../../src/core/compiled-model.js';
import { CursorCodec } from '../../src/core/cursor.js';
import { KilnError } from '../../src/core/errors.js';
import { buildListQuery } from '../../src/core/list-query.js';
import { equals, TRUE } from '../../src/core/predicate.js';
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow } from '../../src/model/load.js';
import type { AccessPolicy, FieldAccess } from '../../src/pipeline/authorize.js';
import { OPEN_ACCESS } from '../../src/pipeline/authorize.js';
import { ANONYMOUS, limitsFrom, type Principal, SYSTEM } from '../../src/pipeline/context.js';
import { validateSelection } from '../../src/pipeline/validate.js';
import { ListStatements } from '../../src/sql/list-statements.js';
import { type Access, projection } from '../../src/sql/select.js';
import { fieldRulesModel } from '../access/field-rules-model.js';

const limits = limitsFrom(resolveSettings({}));
const model = fieldRulesModel();
const compiled = new CompiledModel(model, limits);
const users = compiled.of('users');
const posts = compiled.of('posts');
const account = (id: string, ...roles: string[]): Principal => ({ kind: 'account', id, roles: ['authenticated', ...roles] });

/** The same resources with one operation rule and no field rule. */
function operationRulesOnly(): Model {
  return compileOrThrow('no field rules', {
    resources: { notes: { access: { read: 'public' }, fields: { body: { type: 'text' } } } },
  });
}

describe('who is asked about fields', () => {
  test('open access and a model without field rules share one resolver that limits nothing: no allocation per caller', () => {
    const open = fieldResolver(OPEN_ACCESS, compiled);
    assert.equal(open(ANONYMOUS), NO_FIELD_LIMITS);
    const plain = operationRulesOnly();
    const plainCompiled = new CompiledModel(plain, limits);
    assert.equal(plainCompiled.fieldRules, false);
    assert.equal(fieldResolver(policyFor(plain), plainCompiled)(account('1')), NO_FIELD_LIMITS);
  });

  test('the model policy is asked only about resources with field rules, and answers nothing for admins and the system', () => {
    assert.equal(compiled.fieldRules, true);
    assert.equal(users.fieldRules, true);
    const resolve = fieldResolver(policyFor(model), compiled);
    for (const principal of [account('1', 'admin'), SYSTEM]) {
      assert.equal(resolve(principal)(users.resource), undefined);
      assert.equal(resolve(principal)(posts.resource), undefined);
    }
  });

  test('what each caller may not read or write, by its roles and id', () => {
    const resolve = fieldResolver(policyFor(model), compiled);
    const anonymous = resolve(ANONYMOUS)(users.resource) as FieldAccess;
    assert.deepEqual([...anonymous.unreadable], ['email', 'salary']);
    assert.deepEqual([...anonymous.conditional.keys()], []);
    assert.deepEqual([...anonymous.unwritable], ['email', 'salary']);
    const bob = resolve(account('2'))(users.resource) as FieldAccess;
    assert.deepEqual([...bob.unreadable], ['salary']);
    assert.deepEqual([...bob.conditional], [['email', equals('id', '2')]]);
    const auditor = resolve(account('2', 'auditor'))(users.resource) as FieldAccess;
    assert.deepEqual([...auditor.unreadable], []);
    assert.deepEqual([...auditor.unwritable], ['email', 'salary']);
  });

  test('a policy of the application is asked about every resource, once per resource and caller', () => {
    const asked: string[] = [];
    const policy: AccessPolicy = {
      decide: () => ({ allowed: true, rows: TRUE }),
      fields(_principal, resource) {
        asked.push(resource.name);
        const unreadable = new Set(resource.name === 'posts' ? ['title'] : []);
        return { unreadable, conditional: new Map(), unwritable: new Set() };
      },
    };
    const fieldsOf = fieldResolver(policy, compiled)(ANONYMOUS);
    assert.equal(fieldsOf(users.resource), undefined, 'an answer that limits nothing reads as undefined');
    assert.deepEqual([...(fieldsOf(posts.resource)?.unreadable ?? [])], ['title']);
    fieldsOf(posts.resource);
    assert.deepEqual(asked, ['users', 'posts']);
  });
});

describe('what a caller reads', () => {
  const env = { model, compiled, cursors: new CursorCodec('k') };
  const bob = fieldResolver(policyFor(model), compiled)(account('2'));

  test('a read without selection keeps the compiled selection (the fast path) unless a field is unreadable', () => {
    assert.equal(validateSelection(env, users, undefined, limits), users.everyField);
    assert.equal(validateSelection(env, posts, undefined, limits, fieldResolver(policyFor(model), compiled)(account('1', 'admin'))), posts.everyField);
    const selection = validateSelection(env, users, undefined, limits, bob);
    assert.deepEqual(selection.fields, ['id', 'email', 'name', 'nickname', 'roles', 'verified', 'disabled', 'createdAt', 'updatedAt']);
    assert.equal(readableFor(users, undefined), users.readable);
  });

  test('a conditional field is selected where its condition holds, with a flag, in the list statement itself', () => {
    const query = buildListQuery(env, users.resource, { fields: ['id', 'email'] }, limits, bob);
    const access: Access = { rows: TRUE, scopeOf: () => undefined, shownOf: (r) => bob(r)?.conditional };
    const statement = new ListStatements(model).compile(users.resource, query, projection(users.resource, query.fields), access, []);
    assert.equal(
      statement.text,
      'SELECT t."id" AS "id", CASE WHEN t."id" = $2 THEN t."email" END AS "email", (t."id" = $2) IS TRUE AS "__shown:email" ' +
        'FROM "users" AS t ORDER BY t."id" ASC NULLS LAST LIMIT $1',
    );
    assert.deepEqual(statement.values, [21, '2']);
    const again = new ListStatements(model);
    const other: Access = { ...access, shownOf: () => new Map([['email', equals('id', '3')]]) };
    again.compile(users.resource, query, projection(users.resource, query.fields), access, []);
    assert.deepEqual(
      again.compile(users.resource, query, projection(users.resource, query.fields), other, []).values,
      [21, '3'],
      'never served from the shape cache',
    );
  });

  test('the flag removes the field from rows where the condition does not hold, and is removed itself', () => {
    const rows = [
      { id: 1, email: 'a@x.io', '__shown:email': true },
      { id: 2, email: null, '__shown:email': false },
      { id: 3, email: null, '__shown:email': null },
      { id: 4, 'author.email': 'b@x.io', 'author.__shown:email': true, 'author.id': 9 },
    ];
    const shown = new Map([['email', TRUE]]);
    hideUnshown(rows, shown);
    hideUnshown(rows, shown, 'author.');
    assert.deepEqual(rows, [{ id: 1, email: 'a@x.io' }, { id: 2 }, { id: 3 }, { id: 4, 'author.email': 'b@x.io', 'author.id': 9 }]);
  });

  test('inside includes, the included resource’s fields are filtered and sorted under its own rules', () => {
    const args = {
      include: [
        {
          relation: 'posts',
          filters: [{ path: ['secretNote'], operator: 'eq', value: 'x' }],
          sort: ['editorId'],
          fields: ['id', 'reviewerId'],
        },
      ],
    };
    assert.throws(
      () => buildListQuery(env, users.resource, args, limits, bob),
      (error: KilnError) => {
        assert.deepEqual(error.errors, [
          { path: 'include', code: 'unknown', message: '"reviewerId" is not a readable post field' },
          { path: 'secretNote', code: 'unknown', message: 'unknown query parameter "secretNote": "secretNote" is not a post field' },
          { path: 'include', code: 'restricted', message: 'cannot sort by "editorId": you may read "editorId" on some posts only' },
        ]);
        return true;
      },
    );
    const admin = fieldResolver(policyFor(model), compiled)(account('1', 'admin'));
    assert.equal(buildListQuery(env, users.resource, args, limits, admin).include[0]?.fields.length, 2);
  });

  test('a caller whose rules limit only writes is shown every readable field', () => {
    assert.equal(viewOf(users, undefined), undefined);
    assert.deepEqual(viewOf(users, { unreadable: new Set(), conditional: new Map(), unwritable: new Set(['email']) }), undefined);
  });
});

describe('refusing unwritable fields', () => {
  const access: FieldAccess = { unreadable: new Set(), conditional: new Map(), unwritable: new Set(['email', 'salary']) };
  const input = (values: Record<string, unknown>) => ({ values, links: new Map() });
  const refusal = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof KilnError);
      return { code: error.code, status: error.status, detail: error.detail, errors: error.errors };
    }
    assert.fail('expected a refusal');
  };

  test('nothing to refuse: no rule, or no unwritable field in the body', () => {
    refuseUnwritable(undefined, [input({ email: 'x' })], false);
    refuseUnwritable(access, [input({ name: 'x' })], false);
  });

  test('one field: 403 whose detail is the error', () => {
    assert.deepEqual(
      refusal(() => refuseUnwritable(access, [input({ name: 'x', email: null })], false)),
      {
        code: 'KILN_FORBIDDEN',
        status: 403,
        detail: '/email: you may not write "email"',
        errors: [{ path: '/email', code: 'forbidden', message: 'you may not write "email"' }],
      },
    );
  });

  test('every field of every bulk item is named, in body order', () => {
    assert.deepEqual(
      refusal(() => refuseUnwritable(access, [input({ salary: 1, email: 'a' }), input({ name: 'b' }), input({ email: 'c' })], true)),
      {
        code: 'KILN_FORBIDDEN',
        status: 403,
        detail: 'the body sets 3 fields you may not write',
        errors: [
          { path: '/0/salary', code: 'forbidden', message: 'you may not write "salary"' },
          { path: '/0/email', code: 'forbidden', message: 'you may not write "email"' },
          { path: '/2/email', code: 'forbidden', message: 'you may not write "email"' },
        ],
      },
    );
  });
});
