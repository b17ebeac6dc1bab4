/**
 * `kiln api-keys` end to end on the configured database (a PGlite data folder, a PostgreSQL schema),
 * with the blog's migrations applied: the key printed once and alone on standard output, listed
 * without its secret, revoked; exact output and exit code of every command and mistake.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { API_KEYS } from '../../src/cli/api-keys.js';
import { groupUsage, subcommandUsage } from '../../src/cli/auth-cli.js';
import { BLOG_MODEL_PATH } from '../helpers/blog.js';
import { blogCliDatabase, type CliDatabase } from '../helpers/cli-database.js';
import { runCli } from '../helpers/run-cli.js';
import { BACKENDS } from '../helpers/server.js';

const KEY = /^kiln_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const MINUTE = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ';

describe('kiln api-keys: usage and mistakes caught before the database', () => {
  test('no command prints the usage and exits 1; --help exits 0; an unknown command exits 2', async () => {
    assert.deepEqual(await runCli(['api-keys']), { code: 1, out: groupUsage(API_KEYS), err: '' });
    assert.deepEqual(await runCli(['api-keys', '-h']), { code: 0, out: groupUsage(API_KEYS), err: '' });
    assert.deepEqual(await runCli(['api-keys', 'revoke', '--help']), { code: 0, out: subcommandUsage(API_KEYS, 'revoke'), err: '' });
    assert.deepEqual(await runCli(['api-keys', 'rotate']), { code: 2, out: '', err: `kiln api-keys: unknown command "rotate"\n\n${groupUsage(API_KEYS)}` });
  });

  test('a missing --account or --name, a bad --expires-in-days, an unknown flag exit 2 naming it, then the usage', async () => {
    const cases: [string[], 'create' | 'list' | 'revoke', string][] = [
      [['create', '--name', 'ci'], 'create', '--account is required'],
      [['create', '--account', 'ada@example.com'], 'create', '--name is required'],
      [['create', '--account', 'ada@example.com', '--name', ' '], 'create', '--name is required'],
      [
        ['create', '--account', 'a@example.com', '--name', 'ci', '--expires-in-days', '0'],
        'create',
        '--expires-in-days must be a whole number of days from 1 to 3650',
      ],
      [
        ['create', '--account', 'a@example.com', '--name', 'ci', '--expires-in-days', '1.5'],
        'create',
        '--expires-in-days must be a whole number of days from 1 to 3650',
      ],
      [['create', '--account', 'a@example.com', '--name', 'ci', '--email', 'x'], 'create', "Unknown option '--email'"],
      [['list', 'extra'], 'list', "Unexpected argument 'extra'"],
      [['revoke'], 'revoke', 'missing argument: <id>'],
    ];
    for (const [[sub, ...args], name, line] of cases) {
      const result = await runCli(['api-keys', sub as string, '--model', BLOG_MODEL_PATH, ...args], { env: { DATABASE_URL: '', KILN_DATA_DIR: 'memory' } });
      assert.deepEqual(result, { code: 2, out: '', err: `kiln api-keys ${name}: ${line}\n\n${subcommandUsage(API_KEYS, name)}` }, args.join(' '));
    }
  });
});

for (const backend of BACKENDS) {
  // Every run opens the database: on PGlite that is the slow part, so this suite keeps to few runs.
  describe(`kiln api-keys on ${backend}`, () => {
    let cli: CliDatabase;
    before(async () => {
      cli = await blogCliDatabase(backend);
      const ada = await cli.run(['accounts', 'create', '--email', 'ada@example.com', '--field', 'name=Ada', '--role', 'admin', '--role', 'editor']);
      assert.equal(ada.code, 0, ada.err);
    });
    after(() => cli.dispose());

    test('create prints the key alone on standard output; list shows keys without secrets; revoke stops one', async () => {
      const all = await cli.run(['api-keys', 'create', '--account', 'ADA@example.com', '--name', 'deploy']);
      assert.equal(all.code, 0, all.err);
      assert.match(all.out, KEY);
      const [first, second] = all.err.split('\n');
      const id = new RegExp(`^kiln api-keys create: created API key (${UUID}) "deploy" for ada@example\\.com \\(roles admin, editor; does not expire\\)$`).exec(
        first ?? '',
      )?.[1];
      assert.ok(id, first);
      assert.equal(second, 'kiln api-keys create: the key is the line on standard output, shown this once: Kiln keeps only its hash');

      const scoped = await cli.run([
        'api-keys',
        'create',
        '--account',
        'ada@example.com',
        '--name',
        'read only',
        '--role',
        'editor',
        '--expires-in-days',
        '30',
      ]);
      assert.equal(scoped.code, 0, scoped.err);
      assert.match(
        scoped.err,
        new RegExp(`^kiln api-keys create: created API key ${UUID} "read only" for ada@example\\.com \\(roles editor; expires ${MINUTE}\\)\\n`),
      );

      assert.deepEqual(await cli.run(['api-keys', 'revoke', id as string]), {
        code: 0,
        out: '',
        err: `kiln api-keys revoke: revoked API key ${id} "deploy" of ada@example.com; it stopped working`,
      });
      const listed = await cli.run(['api-keys', 'list']);
      assert.equal(listed.code, 0, listed.err);
      assert.equal(listed.err, '');
      const lines = listed.out.split('\n');
      assert.equal(lines[0], `ID${' '.repeat(36)}ACCOUNT          NAME       ROLES         CREATED            EXPIRES            LAST USED  STATE`);
      assert.match(lines[1] ?? '', new RegExp(`^${id}  ada@example\\.com  deploy     admin,editor  ${MINUTE}  never              -          revoked$`));
      assert.match(lines[2] ?? '', new RegExp(`^${UUID}  ada@example\\.com  read only  editor        ${MINUTE}  ${MINUTE}  -          active$`));
      assert.equal(lines.length, 3);
      for (const key of [all.out, scoped.out]) assert.equal(listed.out.includes(key.slice(18)), false, 'no secret is listed');
    });
  });
}

const FULL = BACKENDS.includes('postgres') ? 'postgres' : undefined;
describe(`kiln api-keys: other accounts and mistakes (${FULL ?? 'skipped without PostgreSQL'})`, { skip: FULL === undefined }, () => {
  let cli: CliDatabase;
  before(async () => {
    cli = await blogCliDatabase('postgres');
    for (const args of [
      ['--email', 'ada@example.com', '--field', 'name=Ada', '--role', 'admin', '--role', 'editor'],
      ['--email', 'alan@example.com', '--field', 'name=Alan'],
    ]) {
      const created = await cli.run(['accounts', 'create', ...args]);
      assert.equal(created.code, 0, created.err);
    }
  });
  after(() => cli?.dispose());

  test('an account without roles gets a key without roles; --account narrows the list', async () => {
    const alan = await cli.run(['api-keys', 'create', '--account', 'alan@example.com', '--name', 'laptop']);
    assert.match(alan.err, /\(roles \(none\); does not expire\)\n/);
    assert.equal((await cli.run(['api-keys', 'create', '--account', 'ada@example.com', '--name', 'ci'])).code, 0);
    const alansOnly = await cli.run(['api-keys', 'list', '--account', 'alan@example.com']);
    assert.equal(alansOnly.code, 0, alansOnly.err);
    const lines = alansOnly.out.split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? '', new RegExp(`^${UUID}  alan@example\\.com  laptop  -      ${MINUTE}  never    -          active$`));
  });

  test('mistakes in the data exit 1 with one line', async () => {
    assert.equal((await cli.run(['accounts', 'disable', 'alan@example.com'])).code, 0);
    const cases: [string[], string][] = [
      [['api-keys', 'create', '--account', 'nobody@example.com', '--name', 'x'], 'kiln api-keys create: no account has the email nobody@example.com'],
      [
        ['api-keys', 'create', '--account', 'ada@example.com', '--name', 'x', '--role', 'editor', '--role', 'owner'],
        'kiln api-keys create: ada@example.com does not hold owner; a key carries only roles its account holds (grant them with "kiln accounts set-roles")',
      ],
      [
        ['api-keys', 'create', '--account', 'ada@example.com', '--name', 'x', '--role', 'Editor'],
        'kiln api-keys create: "Editor" is not a role name: lower-case letters, digits, _ and -, starting with a letter',
      ],
      [
        ['api-keys', 'create', '--account', 'alan@example.com', '--name', 'x'],
        'kiln api-keys create: alan@example.com is disabled: enable it first ("kiln accounts enable alan@example.com")',
      ],
      [['api-keys', 'revoke', 'not-a-key-id'], 'kiln api-keys revoke: there is no API key not-a-key-id that is not revoked already (see "kiln api-keys list")'],
      [
        ['api-keys', 'revoke', '00000000-0000-4000-8000-000000000000'],
        'kiln api-keys revoke: there is no API key 00000000-0000-4000-8000-000000000000 that is not revoked already (see "kiln api-keys list")',
      ],
      [['api-keys', 'list', '--account', 'nobody@example.com'], 'kiln api-keys list: no account has the email nobody@example.com'],
    ];
    for (const [args, err] of cases) assert.deepEqual(await cli.run(args), { code: 1, out: '', err }, args.join(' '));
  });
});
