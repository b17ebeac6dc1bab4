/**
 * Accounts in a seed file: a plain `password` is checked against the model's policy with the rest of
 * the seed and stored as an argon2id hash with the configured costs; `roles` and `verified` may be
 * set. The blog's seed gives its demo accounts the documented password `kiln-demo-password`, Ada the
 * role admin, and they sign in with it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Passwords } from '../../src/auth/passwords.js';
import { resolveSettings } from '../../src/config/settings.js';
import { StartupError } from '../../src/config/startup-error.js';
import { loadSeed } from '../../src/core/seed.js';
import { compileOrThrow } from '../../src/model/load.js';
import { limitsFrom } from '../../src/pipeline/context.js';
import { BLOG_SEED_PATH, blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';
import { bearer, expectExactProblem, FAST_HASHING, INVALID_CREDENTIALS, login, tokensOf } from './accounts-helpers.js';

const DEMO_PASSWORD = 'kiln-demo-password';
const dir = mkdtempSync(join(tmpdir(), 'kiln-seed-accounts-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const limits = limitsFrom(resolveSettings({}));

let files = 0;
function seedFile(content: unknown): string {
  const path = join(dir, `seed-${++files}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

for (const backend of BACKENDS) {
  describe(`the blog's seeded accounts (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(await blogModel(), backend, FAST_HASHING, BLOG_SEED_PATH);
    });
    after(() => server.close());

    test('Ada signs in with the demo password and is a verified admin; Alan and Grace sign in too', async () => {
      const { accessToken } = await tokensOf(await login(server, 'ada@example.com', DEMO_PASSWORD));
      const me = await server.fetch('/v1/auth/me', { headers: bearer(accessToken) });
      const { data } = (await me.json()) as { data: Record<string, unknown> };
      assert.equal(me.status, 200);
      assert.deepEqual(
        { id: data.id, email: data.email, roles: data.roles, verified: data.verified, disabled: data.disabled },
        {
          id: 1,
          email: 'ada@example.com',
          roles: ['admin'],
          verified: true,
          disabled: false,
        },
      );
      assert.equal('passwordHash' in data, false);
      for (const email of ['alan@example.com', 'grace@example.com']) await tokensOf(await login(server, email, DEMO_PASSWORD));
      await expectExactProblem(await login(server, 'ada@example.com', 'not-the-demo-password'), 401, 'KILN_AUTH_INVALID_CREDENTIALS', INVALID_CREDENTIALS);
    });

    test('the password is stored as an argon2id hash with the configured costs, never in plain text', async () => {
      const column = (await blogModel()).resourcesByName.get('users')?.fieldsByName.get('passwordHash')?.column;
      const rows = await server.db.query<{ hash: string }>(`SELECT "${column}" AS "hash" FROM "users" ORDER BY "id"`);
      assert.equal(rows.length, 3);
      const passwords = new Passwords(FAST_HASHING as never, { minLength: 10, maxLength: 128 });
      for (const { hash } of rows) {
        assert.match(hash, /^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
        assert.equal(await passwords.verify(hash, DEMO_PASSWORD), true);
      }
      // Each has its own salt.
      assert.equal(new Set(rows.map((r) => r.hash)).size, 3);
      assert.equal(JSON.stringify(server.logs).includes(DEMO_PASSWORD), false);
    });
  });
}

describe('a seed with accounts is checked before anything is loaded', () => {
  const file = (users: unknown[]) => seedFile({ users });
  const check = async (users: unknown[], message: (path: string) => string) => {
    const path = file(users);
    assert.throws(
      () => loadSeed(path, model, limits),
      (error: unknown) => {
        assert.ok(error instanceof StartupError);
        assert.equal(error.message, message(path));
        return true;
      },
    );
  };
  let model: Awaited<ReturnType<typeof blogModel>>;
  before(async () => {
    model = await blogModel();
  });

  test('a password against the policy, or not text, and roles that are not role names are named by record', async () => {
    await check([{ email: 'a@example.com', name: 'A', password: 'short' }], (p) => `${p}: users[0].password: must be at least 10 characters (this one has 5)`);
    await check(
      [
        { email: 'b@example.com', name: 'B', password: 'b@example.com' },
        { email: 'c@example.com', name: 'C', password: 12345678901 },
        { email: 'd@example.com', name: 'D', password: DEMO_PASSWORD, roles: ['Admin', 'ok'] },
        { email: 'e@example.com', name: 'E', password: DEMO_PASSWORD, roles: 'admin' },
      ],
      (p) =>
        `${p} has 4 problems; nothing was loaded:\n` +
        '  - users[0].password: must not be the same as the login\n' +
        '  - users[1].password: must be a string\n' +
        '  - users[2].roles: must be a list of role names (lower case), e.g. ["admin"]\n' +
        '  - users[3].roles: must be a list of role names (lower case), e.g. ["admin"]',
    );
  });

  test('the password is kept out of the record and only for the account resource', async () => {
    const seed = loadSeed(file([{ email: 'f@example.com', name: 'F', password: DEMO_PASSWORD, roles: ['admin'], verified: true }]), model, limits);
    const [record] = seed.records;
    assert.equal(record?.password, DEMO_PASSWORD);
    assert.equal(record && 'password' in record.values, false);
    assert.deepEqual(record && { roles: record.values.roles, verified: record.values.verified }, { roles: ['admin'], verified: true });
    const tagsWithPassword = seedFile({ tags: [{ name: 'x', password: DEMO_PASSWORD }] });
    assert.throws(() => loadSeed(tagsWithPassword, model, limits), { message: `${tagsWithPassword}: tags[0].password: "password" is not a tag field` });
  });

  test('a model without accounts treats "password" as any unknown field', () => {
    const plain = compileOrThrow('plain', { resources: { people: { fields: { email: { type: 'string' } } } } });
    const path = seedFile({ people: [{ email: 'g@example.com', password: DEMO_PASSWORD }] });
    assert.throws(() => loadSeed(path, plain, limits), { message: `${path}: people[0].password: "password" is not a people field` });
  });
});
