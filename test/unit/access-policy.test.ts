/**
 * The model's policy for one caller (src/access/policy.ts): which operations, which rows (a predicate
 * folded for the caller: role checks never reach SQL) and which fields, for anonymous, signed-in,
 * role-holding, everything-role and system callers; and the access table people read.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ModelPolicy, policyFor } from '../../src/access/policy.js';
import { compare, exists, or, type Predicate, related, TRUE } from '../../src/core/predicate.js';
import type { AccessOperation, Model } from '../../src/model/ir.js';
import { compileOrThrow } from '../../src/model/load.js';
import { OPEN_ACCESS } from '../../src/pipeline/authorize.js';
import { ANONYMOUS, type Principal, SYSTEM } from '../../src/pipeline/context.js';

const model = compileOrThrow('policy test model', {
  roles: {
    author: {},
    editor: { inherits: 'author' },
    chief: { inherits: 'editor' },
    admin: { everything: true },
    boss: { inherits: 'admin' },
  },
  auth: { accounts: { resource: 'users', login: 'email' } },
  resources: {
    users: {
      access: { read: 'public', update: 'id == auth.id' },
      fields: {
        email: { type: 'string', format: 'email', maxLength: 254, unique: true, read: "id == auth.id || auth.roles has 'editor'", write: ['chief'] },
        name: { type: 'string', maxLength: 100, write: 'auth.id != null' },
      },
    },
    posts: {
      access: {
        read: "status == 'published' || authorId == auth.id || auth.roles has 'editor'",
        create: 'authenticated',
        update: "authorId == auth.id || auth.roles has 'editor'",
        delete: ['chief'],
      },
      fields: {
        title: { type: 'string', maxLength: 200 },
        status: { type: 'enum', values: ['draft', 'published'], default: 'draft' },
        views: { type: 'integer', default: 0, read: ['editor'], write: "auth.roles has 'chief'" },
        author: { type: 'belongsTo', target: 'users', default: 'auth.id' },
      },
    },
    comments: {
      access: { list: "post.status == 'published'", read: "post.status == 'published' || post.authorId == auth.id", create: 'auth.id == null' },
      fields: { body: { type: 'text' }, post: { type: 'belongsTo', target: 'posts' } },
    },
    teams: {
      access: { read: 'exists(members, id == auth.id)', update: 'false' },
      fields: { name: { type: 'string', maxLength: 50 }, members: { type: 'manyToMany', target: 'users' } },
    },
  },
});

const policy = new ModelPolicy(model, model.access as NonNullable<Model['access']>);
const resource = (name: string) => model.resourcesByName.get(name) as NonNullable<ReturnType<typeof model.resourcesByName.get>>;
const account = (id: string | number, ...roles: string[]): Principal => ({ kind: 'account', id, roles: ['authenticated', ...roles] });
const decide = (principal: Principal, name: string, action: AccessOperation) => policy.decide(principal, resource(name), action);

const ALL = { allowed: true, rows: TRUE };
const rows = (predicate: Predicate) => ({ allowed: true, rows: predicate });
const signIn = (action: string, name: string) => ({ allowed: false, unauthenticated: true, detail: `sign in to ${action} ${name}` });
const notYourRoles = (action: string, name: string) => ({ allowed: false, detail: `your roles do not allow you to ${action} ${name}` });
const PUBLISHED = compare('status', 'eq', 'published');

describe('decide: which operations, on which rows', () => {
  test('anonymous: auth.id is null, so comparisons with it hold for no row; the rest of the rule stays', () => {
    assert.deepEqual(decide(ANONYMOUS, 'posts', 'read'), rows(PUBLISHED));
    assert.deepEqual(decide(ANONYMOUS, 'posts', 'list'), rows(PUBLISHED), 'list falls back to read');
    assert.deepEqual(decide(ANONYMOUS, 'users', 'read'), ALL);
    assert.deepEqual(decide(ANONYMOUS, 'comments', 'create'), ALL, 'auth.id == null holds for anonymous only');
  });

  test('anonymous: refused with 401 where signing in could help', () => {
    assert.deepEqual(decide(ANONYMOUS, 'posts', 'create'), signIn('create', 'posts'), 'authenticated');
    assert.deepEqual(decide(ANONYMOUS, 'posts', 'update'), signIn('update', 'posts'), 'a condition on auth.id');
    assert.deepEqual(decide(ANONYMOUS, 'posts', 'delete'), signIn('delete', 'posts'), 'a role');
    assert.deepEqual(decide(ANONYMOUS, 'teams', 'read'), signIn('read', 'teams'), 'exists() with auth.id');
    assert.deepEqual(decide(ANONYMOUS, 'users', 'create'), signIn('create', 'users'), 'no rule, but admin does everything');
  });

  test('a signed-in account: its own rows; role checks fold away', () => {
    assert.deepEqual(decide(account('5'), 'posts', 'read'), rows(or(PUBLISHED, compare('authorId', 'eq', '5'))));
    assert.deepEqual(decide(account(5), 'posts', 'update'), rows(compare('authorId', 'eq', '5')), 'a numeric id is compared as text, as the driver takes it');
    assert.deepEqual(decide(account('5'), 'posts', 'create'), ALL);
    assert.deepEqual(decide(account('5'), 'posts', 'delete'), notYourRoles('delete', 'posts'));
    assert.deepEqual(decide(account('5'), 'comments', 'create'), notYourRoles('create', 'comments'));
    assert.deepEqual(decide(account('5'), 'comments', 'read'), rows(or(related('post', PUBLISHED), related('post', compare('authorId', 'eq', '5')))));
    assert.deepEqual(decide(account('5'), 'comments', 'list'), rows(related('post', PUBLISHED)), 'list given: read does not apply to it');
    assert.deepEqual(decide(account('5'), 'teams', 'read'), rows(exists('members', compare('id', 'eq', '5'))));
    assert.deepEqual(decide(account('5'), 'teams', 'update'), notYourRoles('update', 'teams'), 'a rule that is false for everyone');
    assert.deepEqual(decide(ANONYMOUS, 'teams', 'update'), signIn('update', 'teams'), 'admin may, so signing in could help');
  });

  test('deny by default: no rule, nobody but the everything roles and the system', () => {
    assert.deepEqual(decide(account('5', 'chief'), 'users', 'create'), { allowed: false, detail: 'no rule lets anyone create users' });
    assert.deepEqual(decide(account('5', 'chief'), 'users', 'delete'), { allowed: false, detail: 'no rule lets anyone delete users' });
    assert.deepEqual(decide(account('5', 'admin'), 'users', 'create'), ALL);
    assert.deepEqual(decide(SYSTEM, 'users', 'delete'), ALL);
  });

  test('a role, and roles inherited from it, directly or not', () => {
    for (const role of ['editor', 'chief']) {
      assert.deepEqual(decide(account('5', role), 'posts', 'read'), ALL, `${role}: auth.roles has 'editor' folds to TRUE`);
      assert.deepEqual(decide(account('5', role), 'posts', 'update'), ALL, role);
    }
    assert.deepEqual(decide(account('5', 'author'), 'posts', 'update'), rows(compare('authorId', 'eq', '5')), 'author does not inherit editor');
    assert.deepEqual(decide(account('5', 'chief'), 'posts', 'delete'), ALL);
    assert.deepEqual(decide(account('5', 'editor'), 'posts', 'delete'), notYourRoles('delete', 'posts'));
    assert.deepEqual(
      decide(account('5', 'reviewer'), 'posts', 'update'),
      rows(compare('authorId', 'eq', '5')),
      'a role the model does not declare grants nothing',
    );
  });

  test('an everything role (or one inheriting it) and the system: every operation, every row', () => {
    for (const principal of [account('5', 'admin'), account('5', 'boss'), SYSTEM]) {
      for (const [name, action] of [
        ['posts', 'delete'],
        ['users', 'create'],
        ['teams', 'update'],
        ['comments', 'create'],
      ] as const) {
        assert.deepEqual(decide(principal, name, action), ALL, `${principal.kind} ${principal.roles.join(',')} ${action} ${name}`);
      }
    }
  });

  test('an identity that cannot be a bigint key (an external subject) owns no row, without reaching SQL', () => {
    for (const id of ['auth0|1234', '12abc', '9223372036854775808', '99999999999999999999', '-5', '']) {
      const caller: Principal = { kind: 'service', id, roles: ['authenticated'] };
      assert.deepEqual(decide(caller, 'posts', 'read'), rows(PUBLISHED), id);
      assert.deepEqual(decide(caller, 'posts', 'update'), notYourRoles('update', 'posts'), id);
      assert.deepEqual(decide(caller, 'teams', 'read'), notYourRoles('read', 'teams'), id);
    }
    const largest = { kind: 'service', id: '9223372036854775807', roles: ['authenticated'] } as const;
    assert.deepEqual(decide(largest, 'posts', 'update'), rows(compare('authorId', 'eq', '9223372036854775807')), 'the largest bigint is an id');
  });

  test('a model without an everything role: no rule means no one, so an anonymous caller is told 403, not to sign in', () => {
    const plain = compileOrThrow('no admin', { resources: { notes: { access: { read: 'public' }, fields: { body: { type: 'text' } } } } });
    const notes = plain.resourcesByName.get('notes') as NonNullable<ReturnType<typeof plain.resourcesByName.get>>;
    assert.deepEqual(policyFor(plain).decide(ANONYMOUS, notes, 'create'), { allowed: false, detail: 'no rule lets anyone create notes' });
    assert.deepEqual(policyFor(plain).decide(account('1'), notes, 'read'), ALL);
  });

  test('a model without rules is open to everyone', () => {
    const open = compileOrThrow('open', { resources: { notes: { fields: { body: { type: 'text' } } } } });
    assert.equal(policyFor(open), OPEN_ACCESS);
    assert.notEqual(policyFor(model), OPEN_ACCESS);
  });
});

describe('fields: what one caller may read and write', () => {
  const fields = (principal: Principal, name: string) => {
    const access = policy.fields(principal, resource(name));
    return { unreadable: [...access.unreadable], conditional: [...access.conditional], unwritable: [...access.unwritable] };
  };

  test('anonymous: a rule false for them hides or locks the field', () => {
    assert.deepEqual(fields(ANONYMOUS, 'users'), { unreadable: ['email'], conditional: [], unwritable: ['email', 'name'] });
    assert.deepEqual(fields(ANONYMOUS, 'posts'), { unreadable: ['views'], conditional: [], unwritable: ['views'] });
  });

  test('an account: a row condition makes the field readable where it holds', () => {
    assert.deepEqual(fields(account('5'), 'users'), { unreadable: [], conditional: [['email', compare('id', 'eq', '5')]], unwritable: ['email'] });
  });

  test('roles fold field rules: editor reads every email, chief also writes it', () => {
    assert.deepEqual(fields(account('5', 'editor'), 'users'), { unreadable: [], conditional: [], unwritable: ['email'] });
    assert.deepEqual(fields(account('5', 'editor'), 'posts'), { unreadable: [], conditional: [], unwritable: ['views'] });
    assert.deepEqual(fields(account('5', 'chief'), 'users'), { unreadable: [], conditional: [], unwritable: [] });
    assert.deepEqual(fields(account('5', 'chief'), 'posts'), { unreadable: [], conditional: [], unwritable: [] });
  });

  test('everything roles and the system are limited by no field rule; a resource without field rules limits no one', () => {
    for (const principal of [account('5', 'admin'), account('5', 'boss'), SYSTEM]) {
      assert.deepEqual(fields(principal, 'users'), { unreadable: [], conditional: [], unwritable: [] });
    }
    assert.deepEqual(fields(ANONYMOUS, 'comments'), { unreadable: [], conditional: [], unwritable: [] });
  });
});

describe('table: each resource × operation, by role', () => {
  const table = policy.table();
  const row = (name: string, operation: AccessOperation) => table.rows.find((r) => r.resource === name && r.operation === operation);

  test('the built-in roles first, then the declared ones; one row per resource and operation', () => {
    assert.deepEqual(table.roles, ['anonymous', 'authenticated', 'author', 'editor', 'chief', 'admin', 'boss']);
    assert.equal(table.rows.length, 4 * 5);
  });

  test('what each role reaches, with the rule as written', () => {
    assert.deepEqual(row('posts', 'read'), {
      resource: 'posts',
      operation: 'read',
      reach: { anonymous: 'rows', authenticated: 'rows', author: 'rows', editor: 'all', chief: 'all', admin: 'all', boss: 'all' },
      rule: "status == 'published' || authorId == auth.id || auth.roles has 'editor'",
    });
    assert.deepEqual(row('posts', 'list')?.rule, row('posts', 'read')?.rule, 'list falls back to read');
    assert.deepEqual(row('posts', 'delete'), {
      resource: 'posts',
      operation: 'delete',
      reach: { anonymous: 'none', authenticated: 'none', author: 'none', editor: 'none', chief: 'all', admin: 'all', boss: 'all' },
      rule: '[chief]',
    });
    assert.deepEqual(row('posts', 'create')?.reach, {
      anonymous: 'none',
      authenticated: 'all',
      author: 'all',
      editor: 'all',
      chief: 'all',
      admin: 'all',
      boss: 'all',
    });
    assert.deepEqual(row('comments', 'create')?.reach, {
      anonymous: 'all',
      authenticated: 'none',
      author: 'none',
      editor: 'none',
      chief: 'none',
      admin: 'all',
      boss: 'all',
    });
    assert.deepEqual(row('teams', 'read')?.reach, {
      anonymous: 'none',
      authenticated: 'rows',
      author: 'rows',
      editor: 'rows',
      chief: 'rows',
      admin: 'all',
      boss: 'all',
    });
  });

  test('an operation without a rule: none but the everything roles, and no rule text', () => {
    assert.deepEqual(row('users', 'create'), {
      resource: 'users',
      operation: 'create',
      reach: { anonymous: 'none', authenticated: 'none', author: 'none', editor: 'none', chief: 'none', admin: 'all', boss: 'all' },
    });
  });
});
