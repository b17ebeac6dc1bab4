/**
 * `kiln accounts` end to end on the configured database (a PGlite data folder, a PostgreSQL schema),
 * with the blog's migrations applied: exact output and exit code of every command and of every
 * mistake a user can make.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Passwords } from '../../src/auth/passwords.js';
import { ACCOUNTS } from '../../src/cli/accounts.js';
import { groupUsage, subcommandUsage } from '../../src/cli/auth-cli.js';
import { openPostgres } from '../../src/db/postgres.js';
import { BLOG_MODEL_PATH } from '../helpers/blog.js';
import { blogCliDatabase, type CliDatabase, runCliInProcessWithInput, runCliWithInput } from '../helpers/cli-database.js';
import { runCli } from '../helpers/run-cli.js';
import { BACKENDS, TEST_DATABASE_URL } from '../helpers/server.js';

const GENERATED = /^[A-Za-z0-9_-]{24}$/;

describe('kiln accounts: usage and mistakes caught before the database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-accounts-usage-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('no command prints the usage and exits 1; --help exits 0; an unknown command exits 2', async () => {
    assert.deepEqual(await runCli(['accounts']), { code: 1, out: groupUsage(ACCOUNTS), err: '' });
    assert.deepEqual(await runCli(['accounts', '--help']), { code: 0, out: groupUsage(ACCOUNTS), err: '' });
    assert.deepEqual(await runCli(['accounts', 'create', '--help']), { code: 0, out: subcommandUsage(ACCOUNTS, 'create'), err: '' });
    assert.deepEqual(await runCli(['accounts', 'remove', 'x']), {
      code: 2,
      out: '',
      err: `kiln accounts: unknown command "remove"\n\n${groupUsage(ACCOUNTS)}`,
    });
    assert.match(subcommandUsage(ACCOUNTS, 'create'), /^Usage: kiln accounts create \[options\]\n/);
    assert.match(subcommandUsage(ACCOUNTS, 'set-roles'), /^Usage: kiln accounts set-roles <login> \[<role>\.\.\.\] \[options\]\n/);
  });

  test('an unknown flag, a missing login or argument, a bad --field exit 2 naming it, then the usage', async () => {
    const cases: [string[], 'create' | 'disable' | 'list', string][] = [
      [['create', '--emial', 'a@example.com'], 'create', "Unknown option '--emial'"],
      [['create', '--role', 'admin'], 'create', '--email (or --login) is required'],
      [['create', '--email', 'a@example.com', '--login', 'a@example.com'], 'create', 'give the login once: --email or --login'],
      [['create', '--email', 'a@example.com', '--field', 'name'], 'create', '--field takes NAME=VALUE, not "name"'],
      [['disable'], 'disable', 'missing argument: <login>'],
      [['disable', 'a@example.com', 'b@example.com'], 'disable', "Unexpected argument 'b@example.com'"],
      [['list', '--role', 'x'], 'list', "Unknown option '--role'"],
    ];
    for (const [[sub, ...args], name, line] of cases) {
      const result = await runCli(['accounts', sub as string, '--model', BLOG_MODEL_PATH, ...args], { env: { DATABASE_URL: '', KILN_DATA_DIR: 'memory' } });
      assert.deepEqual(result, { code: 2, out: '', err: `kiln accounts ${name}: ${line}\n\n${subcommandUsage(ACCOUNTS, name)}` }, args.join(' '));
    }
  });

  test('a model without accounts, or no model at all, exits 1 with one line', async () => {
    const plain = join(dir, 'kiln.json');
    writeFileSync(plain, JSON.stringify({ resources: { notes: { fields: { body: { type: 'text' } } } } }));
    assert.deepEqual(await runCli(['accounts', 'list', '--model', plain]), {
      code: 1,
      out: '',
      err: `kiln accounts list: the model ${plain} declares no accounts: add auth: { accounts: { resource: "users", login: "email" } } to it`,
    });
    const empty = mkdtempSync(join(dir, 'empty-'));
    const none = await runCli(['accounts', 'list'], { cwd: empty, env: { KILN_MODEL: undefined } });
    assert.equal(none.code, 1);
    assert.match(none.err, /^kiln accounts list: no model file in \S+ \(looked for kiln\.config\.ts, .*\); name it with --model PATH$/);
  });

  test('a role the model does not declare exits 1 listing the declared ones, before the database is opened', async () => {
    const withRoles = join(dir, 'roles.json');
    writeFileSync(
      withRoles,
      JSON.stringify({
        roles: { editor: {}, admin: { everything: true } },
        auth: { accounts: { resource: 'users', login: 'email' } },
        resources: { users: { access: { read: 'public' }, fields: { email: { type: 'string', format: 'email', maxLength: 254, unique: true } } } },
      }),
    );
    const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', KILN_DATA_DIR: 'memory' };
    const declared = 'its roles are editor, admin (declare new ones under roles in the model)';
    assert.deepEqual(
      await runCli(['accounts', 'create', '--model', withRoles, '--email', 'a@example.com', '--role', 'editor', '--role', 'reviewer'], { env }),
      {
        code: 1,
        out: '',
        err: `kiln accounts create: "reviewer" is not a role of the model; ${declared}`,
      },
    );
    assert.deepEqual(await runCli(['accounts', 'set-roles', '--model', withRoles, 'a@example.com', 'Editor'], { env }), {
      code: 1,
      out: '',
      err: 'kiln accounts set-roles: "Editor" is not a role name: lower-case letters, digits, _ and -, starting with a letter',
    });
    assert.deepEqual(await runCli(['accounts', 'set-roles', '--model', withRoles, 'a@example.com', 'admin', 'owner'], { env }), {
      code: 1,
      out: '',
      err: `kiln accounts set-roles: "owner" is not a role of the model; ${declared}`,
    });
  });
});

for (const backend of BACKENDS) {
  describe(`kiln accounts on ${backend}`, () => {
    let cli: CliDatabase;
    before(async () => {
      cli = await blogCliDatabase(backend);
    });
    after(() => cli.dispose());

    test('create, set-roles, disable and list, each saying what it did', async () => {
      const created = await cli.run(['accounts', 'create', '--email', 'Ada@Example.com', '--role', 'admin', '--verified', '--field', 'name=Ada Lovelace']);
      assert.equal(created.code, 0, created.err);
      assert.match(created.out, GENERATED);
      assert.equal(
        created.err,
        'kiln accounts create: created account 1, email ada@example.com (roles admin; verified)\n' +
          'kiln accounts create: its password is the line on standard output, shown this once: hand it over safely and have it changed',
      );
      const alan = await cli.run(['accounts', 'create', '--login', 'alan@example.com', '--field', 'name=Alan Turing']);
      assert.equal(alan.code, 0, alan.err);
      assert.match(alan.err, /^kiln accounts create: created account 2, email alan@example.com \(roles \(none\); not verified\)\n/);

      const roles = await cli.run(['accounts', 'set-roles', 'ALAN@example.com', 'editor', 'admin', 'editor']);
      assert.deepEqual(roles, {
        code: 0,
        out: '',
        err: 'kiln accounts set-roles: alan@example.com now has the roles editor, admin; it was signed out everywhere and gets them at its next sign-in',
      });
      assert.deepEqual(await cli.run(['accounts', 'disable', 'ada@example.com']), {
        code: 0,
        out: '',
        err: 'kiln accounts disable: ada@example.com is disabled: it cannot sign in, and its refresh tokens, sessions and API keys stopped working',
      });
      assert.deepEqual(await cli.run(['accounts', 'list']), {
        code: 0,
        out: [
          'ID  EMAIL             ROLES         VERIFIED  DISABLED  PASSWORD',
          '1   ada@example.com   admin         yes       yes       set',
          '2   alan@example.com  editor,admin  no        no        set',
        ].join('\n'),
        err: '',
      });
    });
  });
}

const LAST = BACKENDS.includes('postgres') ? 'postgres' : undefined;
describe(`kiln accounts: passwords and signing out (${LAST ?? 'skipped without PostgreSQL'})`, { skip: LAST === undefined }, () => {
  let cli: CliDatabase;
  before(async () => {
    cli = await blogCliDatabase('postgres');
  });
  after(() => cli?.dispose());

  const query = async (sql: string, values: unknown[] = []) => {
    const db = openPostgres({
      url: TEST_DATABASE_URL,
      schema: cli.env.KILN_DB_SCHEMA as string,
      poolMax: 1,
      connectTimeoutMs: 5000,
      idleTimeoutMs: 1000,
      statementTimeoutMs: 10000,
    });
    try {
      return await db.query<Record<string, unknown>>(sql, values);
    } finally {
      await db.close();
    }
  };
  const args = (rest: string[]) => ['accounts', 'create', '--model', BLOG_MODEL_PATH, ...rest];

  test('list on a database without accounts says so', async () => {
    assert.deepEqual(await cli.run(['accounts', 'list']), {
      code: 0,
      out: '',
      err: 'kiln accounts list: no accounts yet; create one with "kiln accounts create"',
    });
  });

  test('--password-stdin hashes the password read from standard input; a weak one is refused', async () => {
    const created = await runCliWithInput(
      args(['--email', 'grace@example.com', '--password-stdin', '--field', 'name=Grace']),
      cli.env,
      'a-long-enough-password\n',
    );
    assert.deepEqual(created, { code: 0, out: '', err: 'kiln accounts create: created account 1, email grace@example.com (roles (none); not verified)' });
    const [row] = await query('SELECT "password_hash" AS "hash" FROM "users" WHERE "email" = $1', ['grace@example.com']);
    const passwords = new Passwords({ passwordMemoryKib: 8192, passwordTimeCost: 1 }, { minLength: 10, maxLength: 128 });
    assert.equal(await passwords.verify(row?.hash as string, 'a-long-enough-password'), true);
    const weak = await runCliInProcessWithInput(args(['--email', 'hopper@example.com', '--password-stdin', '--field', 'name=G']), cli.env, 'short\n');
    assert.deepEqual(weak, { code: 1, out: '', err: 'kiln accounts create: the password must be at least 10 characters (this one has 5)' });
    const same = await runCliInProcessWithInput(
      args(['--email', 'hopper@example.com', '--password-stdin', '--field', 'name=G']),
      cli.env,
      'hopper@example.com',
    );
    assert.deepEqual(same, { code: 1, out: '', err: 'kiln accounts create: the password must not be the same as the login' });
    const empty = await runCliInProcessWithInput(args(['--email', 'hopper@example.com', '--password-stdin', '--field', 'name=G']), cli.env, '');
    assert.deepEqual(empty, { code: 1, out: '', err: 'kiln accounts create: --password-stdin: standard input was empty' });
  });

  test('set-roles and disable revoke the refresh tokens of the account', async () => {
    const family = '00000000-0000-4000-8000-000000000001';
    await query(
      `INSERT INTO "kiln_auth_refresh_tokens" ("token_hash", "family", "account_id", "family_expires_at") VALUES ('h1', $1, '1', now() + interval '1 day'), ('h2', $1, '1', now() + interval '1 day')`,
      [family],
    );
    assert.equal((await cli.run(['accounts', 'set-roles', 'grace@example.com', 'editor'])).code, 0);
    assert.deepEqual(await query(`SELECT count(*)::int AS "live" FROM "kiln_auth_refresh_tokens" WHERE "revoked_at" IS NULL`), [{ live: 0 }]);
    await query(
      `INSERT INTO "kiln_auth_refresh_tokens" ("token_hash", "family", "account_id", "family_expires_at") VALUES ('h3', $1, '1', now() + interval '1 day')`,
      [family],
    );
    assert.equal((await cli.run(['accounts', 'disable', 'grace@example.com'])).code, 0);
    assert.deepEqual(await query(`SELECT count(*)::int AS "live" FROM "kiln_auth_refresh_tokens" WHERE "revoked_at" IS NULL`), [{ live: 0 }]);
    assert.deepEqual(await query('SELECT "roles", "disabled" FROM "users" WHERE "id" = 1'), [{ roles: ['editor'], disabled: true }]);
  });
  test('mistakes in the data exit 1 with one line: unknown account, existing login, invalid record, bad role', async () => {
    const cases: [string[], string][] = [
      [['accounts', 'disable', 'nobody@example.com'], 'kiln accounts disable: no account has the email nobody@example.com'],
      [['accounts', 'set-roles', 'nobody@example.com', 'admin'], 'kiln accounts set-roles: no account has the email nobody@example.com'],
      [
        ['accounts', 'set-roles', 'grace@example.com', 'Admin'],
        'kiln accounts set-roles: "Admin" is not a role name: lower-case letters, digits, _ and -, starting with a letter',
      ],
      [
        ['accounts', 'set-roles', 'grace@example.com', 'authenticated'],
        'kiln accounts set-roles: "authenticated" is a role Kiln gives by itself; it cannot be assigned',
      ],
      [['accounts', 'create', '--email', 'GRACE@example.com', '--field', 'name=Again'], 'kiln accounts create: an account with this email exists already'],
      [
        ['accounts', 'create', '--email', 'new@example.com'],
        'kiln accounts create: the account was not created:\n  name: "name" is required (give it with --field name=VALUE)',
      ],
      [['accounts', 'create', '--email', 'new@example.com', '--field', 'nickname=G'], 'kiln accounts create: users has no field "nickname"'],
    ];
    for (const [args, err] of cases) assert.deepEqual(await cli.run(args), { code: 1, out: '', err }, args.join(' '));
  });

  test('enable lets a disabled account sign in again', async () => {
    assert.deepEqual(await cli.run(['accounts', 'enable', 'grace@example.com']), {
      code: 0,
      out: '',
      err: 'kiln accounts enable: grace@example.com is enabled: it can sign in again',
    });
    assert.deepEqual(await query('SELECT "disabled" FROM "users" WHERE "id" = 1'), [{ disabled: false }]);
  });
});
