/**
 * Kiln's own flows act as the system once their own checks passed: an account resource whose rules
 * let nobody create accounts, and each account read only itself, still has sign-up, sign-in, `me`,
 * a first login with an identity provider, and `kiln accounts create`. The same requests made
 * directly against the resource are refused by its rules.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openPostgres } from '../../src/db/postgres.js';
import { compileOrThrow } from '../../src/model/load.js';
import { bearer, expectExactProblem, FAST_HASHING, login, PASSWORD, signup, tokensOf } from '../auth/accounts-helpers.js';
import { CookieAgent, freePort, KILN_CLIENT_ID, KILN_CLIENT_SECRET, startTestProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { type CliRun, runCli } from '../helpers/run-cli.js';
import { BACKENDS, type Backend, startTestServer, TEST_DATABASE_URL, type TestServer } from '../helpers/server.js';

process.env.KILN_OIDC_TEST_CLIENT_SECRET = KILN_CLIENT_SECRET;

/** Members read only themselves; no rule creates one, so only Kiln's flows can. */
function declaration(oidcIssuer?: string) {
  return {
    roles: { member: {}, moderator: {} },
    auth: {
      accounts: { resource: 'users', login: 'email', signup: { fields: ['name'], roles: ['member'] } },
      ...(oidcIssuer && { oidc: { test: { issuer: oidcIssuer, clientId: KILN_CLIENT_ID } } }),
    },
    resources: {
      users: {
        access: { read: 'id == auth.id' },
        fields: { email: { type: 'string', format: 'email', maxLength: 254, unique: true }, name: { type: 'string', maxLength: 100 } },
      },
    },
  };
}

const SIGNUP_MESSAGE = 'unless this login is already registered, the account is created and can sign in';

for (const backend of BACKENDS) {
  describe(`Kiln's flows under access rules on the accounts (${backend})`, () => {
    let provider: TestProvider;
    let server: TestServer;

    before(async () => {
      const port = await freePort();
      provider = await startTestProvider([`http://127.0.0.1:${port}/v1/auth/oidc/test/callback`]);
      provider.identities.set('grace', { email: 'grace@example.com', email_verified: true, name: 'Grace Hopper' });
      const model = compileOrThrow('accounts with rules', declaration(provider.issuer));
      server = await startTestServer(model, backend, { ...FAST_HASHING, port, publicUrl: `http://127.0.0.1:${port}`, authCookieSecure: false });
    });
    after(async () => {
      await server?.close();
      await provider?.close();
    });

    test('sign-up creates the account with its signup roles; sign-in and me work; each account reads only itself', async () => {
      for (const email of ['ada@example.com', 'alan@example.com']) {
        const res = await signup(server, email);
        assert.equal(res.status, 202, await res.clone().text());
        assert.deepEqual(await res.json(), { data: { message: SIGNUP_MESSAGE } });
      }
      const ada = await tokensOf(await login(server, 'ada@example.com'));
      const me = await server.fetch('/v1/auth/me', { headers: bearer(ada.accessToken) });
      assert.equal(me.status, 200);
      const account = (await me.json()).data;
      assert.equal(account.email, 'ada@example.com');
      assert.deepEqual(account.roles, ['member']);
      assert.equal((await server.fetch(`/v1/users/${account.id}`, { headers: bearer(ada.accessToken) })).status, 200);
      const alan = await tokensOf(await login(server, 'alan@example.com', PASSWORD));
      const other = await server.fetch(`/v1/users/${account.id}`, { headers: bearer(alan.accessToken) });
      assert.equal(other.status, 404, 'another account is not visible');
      const listed = await (await server.fetch('/v1/users', { headers: bearer(alan.accessToken) })).json();
      assert.deepEqual(
        listed.data.map((u: { email: string }) => u.email),
        ['alan@example.com'],
      );
    });

    test('the same create made directly against the resource is refused by its rules', async () => {
      const body = { email: 'direct@example.com', name: 'Direct' };
      await expectExactProblem(await server.fetch('/v1/users', { method: 'POST', json: body }), 403, 'KILN_FORBIDDEN', 'no rule lets anyone create users');
      const alan = await tokensOf(await login(server, 'alan@example.com'));
      await expectExactProblem(
        await server.fetch('/v1/users', { method: 'POST', headers: bearer(alan.accessToken), json: body }),
        403,
        'KILN_FORBIDDEN',
        'no rule lets anyone create users',
      );
      const [row] = await server.db.query<{ n: number }>(`SELECT count(*)::int AS "n" FROM "users" WHERE "email" = 'direct@example.com'`);
      assert.equal(row?.n, 0);
    });

    test('a first login with an identity provider creates the account; me reads it', async () => {
      const agent = new CookieAgent();
      provider.signInAs = 'grace';
      const start = await agent.fetch(`${server.url}/v1/auth/oidc/test?mode=tokens`);
      assert.equal(start.status, 302, await start.text());
      const callback = await agent.followUntil(start.headers.get('location') as string, `${server.url}/v1/auth/oidc/test/callback`);
      const res = await agent.fetch(callback);
      assert.equal(res.status, 200, await res.clone().text());
      const { accessToken } = (await res.json()).data;
      const me = await server.fetch('/v1/auth/me', { headers: bearer(accessToken) });
      assert.equal(me.status, 200);
      const account = (await me.json()).data;
      assert.deepEqual([account.email, account.name, account.verified, account.roles], ['grace@example.com', 'Grace Hopper', true, ['member']]);
    });
  });
}

/** A database the CLI works on, with this model's first migration applied: a PGlite folder, or a PostgreSQL schema. */
async function cliDatabase(backend: Backend, dir: string): Promise<{ run(args: string[]): Promise<CliRun>; dispose(): Promise<void> }> {
  const model = join(dir, 'kiln.json');
  writeFileSync(model, JSON.stringify(declaration()));
  const base = { KILN_PASSWORD_MEMORY_KIB: '8192', KILN_PASSWORD_TIME_COST: '1', KILN_AUTH_JWT_SECRET: '', REDIS_URL: '' };
  const schema = `kiln_test_${randomBytes(6).toString('hex')}`;
  const env =
    backend === 'pglite'
      ? { ...base, DATABASE_URL: '', KILN_DATA_DIR: join(dir, 'data') }
      : { ...base, DATABASE_URL: TEST_DATABASE_URL, KILN_DB_SCHEMA: schema };
  const run = (args: string[]) => {
    const [group, sub, ...rest] = args;
    return runCli([group ?? '', sub ?? '', '--model', model, ...rest], { env });
  };
  for (const step of ['generate', 'up']) {
    const result = await run(['migrate', step]);
    assert.equal(result.code, 0, `migrate ${step}: ${result.err}`);
  }
  return {
    run,
    async dispose() {
      if (backend === 'pglite') return;
      const db = openPostgres({ url: TEST_DATABASE_URL, schema, poolMax: 1, connectTimeoutMs: 5000, idleTimeoutMs: 1000, statementTimeoutMs: 10000 });
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await db.close();
    },
  };
}

for (const backend of BACKENDS) {
  describe(`kiln accounts under access rules on the accounts (${backend})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-flows-'));
    let cli: Awaited<ReturnType<typeof cliDatabase>>;
    before(async () => {
      cli = await cliDatabase(backend, dir);
    });
    after(async () => {
      await cli?.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    test('create and set-roles work with declared roles; an undeclared one is refused', async () => {
      const created = await cli.run(['accounts', 'create', '--email', 'ada@example.com', '--role', 'moderator', '--field', 'name=Ada']);
      assert.equal(created.code, 0, created.err);
      assert.match(created.err, /^kiln accounts create: created account 1, email ada@example\.com \(roles moderator; not verified\)\n/);
      assert.deepEqual(await cli.run(['accounts', 'set-roles', 'ada@example.com', 'member', 'moderator']), {
        code: 0,
        out: '',
        err: 'kiln accounts set-roles: ada@example.com now has the roles member, moderator; it was signed out everywhere and gets them at its next sign-in',
      });
      assert.deepEqual(await cli.run(['accounts', 'set-roles', 'ada@example.com', 'admin']), {
        code: 1,
        out: '',
        err: 'kiln accounts set-roles: "admin" is not a role of the model; its roles are member, moderator (declare new ones under roles in the model)',
      });
      const list = await cli.run(['accounts', 'list']);
      assert.equal(list.code, 0, list.err);
      assert.match(list.out, /\n1 +ada@example\.com +member,moderator +no +no +set$/);
    });
  });
}
