import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileModel } from '../../src/model/compile.js';
import type { Model } from '../../src/model/ir.js';

const users = (fields: Record<string, unknown> = {}) => ({
  fields: {
    email: { type: 'string', format: 'email', unique: true },
    name: { type: 'string' },
    bio: { type: 'text', readOnly: true, nullable: true },
    ...fields,
  },
});

function compiled(auth: unknown, resource = users()): Model {
  const result = compileModel({ resources: { users: resource }, auth });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.model;
}

function problems(auth: unknown, resource = users()): { path: string; message: string; hint: string }[] {
  const result = compileModel({ resources: { users: resource }, auth });
  assert.equal(result.ok, false, 'the model should be refused');
  return result.ok ? [] : result.problems.map(({ path, message, hint }) => ({ path, message, hint }));
}

describe('the model option auth', () => {
  test('accounts get the managed fields: the hash neither readable nor writable, the rest read-only', () => {
    const model = compiled({ accounts: { resource: 'users' } });
    const fields = model.resourcesByName.get('users')?.fieldsByName;
    const flags = (name: string) => {
      const f = fields?.get(name);
      return f && { type: f.type, readOnly: f.readOnly, hidden: f.hidden, nullable: f.nullable, default: f.default };
    };
    assert.deepEqual(flags('passwordHash'), { type: 'string', readOnly: true, hidden: true, nullable: true, default: null });
    assert.deepEqual(flags('roles'), { type: 'json', readOnly: true, hidden: false, nullable: false, default: [] });
    assert.deepEqual(flags('verified'), { type: 'boolean', readOnly: true, hidden: false, nullable: false, default: false });
    assert.deepEqual(flags('disabled'), { type: 'boolean', readOnly: true, hidden: false, nullable: false, default: false });
    assert.deepEqual(model.auth, {
      accounts: {
        resource: 'users',
        login: 'email',
        signup: { enabled: true, fields: [], roles: [] },
        verification: 'optional',
        password: { minLength: 10, maxLength: 128 },
      },
      oidc: [],
      bearer: [],
    });
  });

  test('a model without auth has no account fields and no auth', () => {
    const result = compileModel({ resources: { users: users() } });
    assert.ok(result.ok);
    assert.equal(result.model.auth, undefined);
    assert.equal(result.model.resourcesByName.get('users')?.fieldsByName.get('passwordHash'), undefined);
  });

  test('every problem is named with its path and a fix', () => {
    assert.deepEqual(problems('yes'), [
      { path: 'auth', message: 'auth must be an object, not "yes"', hint: 'e.g. auth: { accounts: { resource: "users", login: "email" } }' },
    ]);
    assert.deepEqual(problems({ accounts: { resource: 'people' }, sso: true }), [
      { path: 'auth.sso', message: 'unknown auth option "sso"', hint: 'use one of: accounts, oidc, bearer' },
      { path: 'auth.accounts.resource', message: 'auth.accounts.resource must name a declared resource, not "people"', hint: 'use one of: users' },
    ]);
    assert.deepEqual(problems({ accounts: { resource: 'users', login: 'name' } }), [
      {
        path: 'auth.accounts.login',
        message: 'auth.accounts.login must name a unique, visible string field of users, not "name"',
        hint: 'e.g. login: "email", with fields: { email: field.string({ format: "email", unique: true }) }',
      },
    ]);
    assert.deepEqual(problems({ accounts: { resource: 'users' } }, users({ passwordHash: { type: 'string', hidden: true } })), [
      {
        path: 'resources.users.fields.passwordHash',
        message: 'passwordHash is managed by Kiln on the account resource',
        hint: 'remove it from resources.users.fields: Kiln adds passwordHash, roles, verified and disabled itself',
      },
    ]);
    assert.deepEqual(
      problems({ accounts: { resource: 'users', signup: { enabled: 'no', fields: ['bio', 'email', 'nope'], roles: ['Admin'] }, verification: 'always' } }).map(
        (p) => [p.path, p.message],
      ),
      [
        ['auth.accounts.signup.enabled', 'enabled must be true or false, not "no"'],
        ['auth.accounts.signup.fields', '"bio" is not a writable field of users besides the login'],
        ['auth.accounts.signup.fields', '"email" is not a writable field of users besides the login'],
        ['auth.accounts.signup.fields', '"nope" is not a writable field of users besides the login'],
        ['auth.accounts.signup.roles', 'auth.accounts.signup.roles must be a list of role names (lower case)'],
        ['auth.accounts.verification', 'unknown verification "always"'],
      ],
    );
    assert.deepEqual(
      problems({ accounts: { resource: 'users', password: { minLength: 4, maxLength: 5000 } } }).map((p) => [p.path, p.message]),
      [
        ['auth.accounts.password.minLength', 'minLength must be a whole number from 8 to 256, not 4'],
        ['auth.accounts.password.maxLength', 'maxLength must be a whole number from 4 to 1024, not 5000'],
      ],
    );
  });

  test('identity providers: https issuers (http only on loopback), openid among the scopes, accounts declared', () => {
    assert.deepEqual(
      problems({ oidc: { Google: { issuer: 'http://id.example.com', clientId: '', scopes: ['email'] } } }).map((p) => [p.path, p.message]),
      [
        ['auth.oidc.Google', '"Google" is not a valid provider name'],
        ['auth.oidc.Google.issuer', 'issuer must be an https URL (http only on localhost), not "http://id.example.com"'],
        ['auth.oidc.Google.clientId', 'clientId must be a non-empty string, not ""'],
        ['auth.oidc.Google.scopes', 'auth.oidc.Google.scopes must include "openid"'],
        ['auth.oidc', 'signing in with an identity provider needs accounts'],
      ],
    );
    const model = compiled({ accounts: { resource: 'users' }, oidc: { local: { issuer: 'http://127.0.0.1:9000', clientId: 'kiln' } } });
    assert.deepEqual(model.auth?.oidc, [
      { name: 'local', issuer: 'http://127.0.0.1:9000', clientId: 'kiln', scopes: ['openid', 'email', 'profile'], createAccounts: true, linkByEmail: true },
    ]);
  });

  test('invite-only accounts stay invite-only: a provider creates accounts only when signup is open or it is told to', () => {
    const provider = { issuer: 'https://id.example.com', clientId: 'kiln' };
    const closed = compiled({ accounts: { resource: 'users', signup: { enabled: false } }, oidc: { id: provider } });
    assert.equal(closed.auth?.oidc[0]?.createAccounts, false);
    const told = compiled({ accounts: { resource: 'users', signup: { enabled: false } }, oidc: { id: { ...provider, createAccounts: true } } });
    assert.equal(told.auth?.oidc[0]?.createAccounts, true);
  });

  test('external bearer issuers: https issuer, an audience, roles claim', () => {
    assert.deepEqual(
      problems({
        bearer: [{ issuer: 'https://id.example.com' }, 'x', { issuer: 'https://id.example.com', audience: 'api', jwksUrl: 'ftp://x', extra: 1 }],
      }).map((p) => [p.path, p.message]),
      [
        ['auth.bearer.0.audience', 'audience is required'],
        ['auth.bearer.1', 'auth.bearer.1 must be an object'],
        ['auth.bearer.2.extra', 'unknown auth.bearer.2 option "extra"'],
        ['auth.bearer.2.jwksUrl', 'jwksUrl must be an https URL (http only on localhost), not "ftp://x"'],
      ],
    );
    assert.deepEqual(compiled({ bearer: [{ issuer: 'https://id.example.com', audience: 'api' }] }).auth?.bearer, [
      { issuer: 'https://id.example.com', audience: 'api', rolesClaim: 'roles' },
    ]);
  });
});
