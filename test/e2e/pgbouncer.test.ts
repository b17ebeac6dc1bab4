/**
 * Kiln behind a real PgBouncer in transaction pooling mode (KILN_DB_POOLER=transaction), two server
 * connections shared by every client: concurrent reads and writes (transactions included) answer
 * as they do on a direct connection; a role without the session settings Kiln needs stops the
 * start, naming each one and the statement that sets it; migrations are refused with the way out;
 * and without the setting Kiln cannot connect through PgBouncer at all.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { resolveSettings, type Settings } from '../../src/config/settings.js';
import { openDatabase } from '../../src/db/open.js';
import { withMigrationLock } from '../../src/migrate/session.js';
import { type RunningKiln, startKiln } from '../../src/start.js';
import { blogModel } from '../helpers/blog.js';
import { type PgBouncer, startPgBouncer } from '../helpers/pgbouncer.js';
import { BACKENDS, TEST_CURSOR_SECRET, TEST_DATABASE_URL, TEST_JWT_SECRET } from '../helpers/server.js';

const suffix = randomBytes(4).toString('hex');
/** A role with search_path, TimeZone and statement_timeout of its own, and one without. */
const READY = `kiln_pgb_${suffix}`;
const BARE = `kiln_pgb_bare_${suffix}`;
const SCHEMA = `kiln_pgb_${suffix}`;

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

describe('behind PgBouncer in transaction mode (postgres)', { skip: !BACKENDS.includes('postgres') }, () => {
  let bouncer: PgBouncer;
  let kiln: RunningKiln | undefined;
  const settingsFor = (user: string, overrides: Partial<Settings> = {}): Settings => ({
    ...resolveSettings({}),
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    databaseUrl: bouncer.urlFor(user),
    dbSchema: SCHEMA,
    dbPooler: 'transaction',
    dbPoolMax: 8,
    // Forty requests at once through two server connections queue by design here; not load to shed.
    shedPoolWaitMs: 0,
    cursorSecret: TEST_CURSOR_SECRET,
    authJwtSecret: TEST_JWT_SECRET,
    ...overrides,
  });

  before(async () => {
    await admin(`CREATE ROLE "${READY}" LOGIN; CREATE ROLE "${BARE}" LOGIN; CREATE SCHEMA "${SCHEMA}" AUTHORIZATION "${READY}"`);
    // CREATE SCHEMA IF NOT EXISTS, which Kiln runs at start, asks for CREATE on the database.
    await admin(`GRANT CREATE ON DATABASE test TO "${READY}"`);
    await admin(`ALTER ROLE "${READY}" IN DATABASE test SET search_path = "${SCHEMA}"`);
    await admin(`ALTER ROLE "${READY}" IN DATABASE test SET timezone = 'UTC'`);
    await admin(`ALTER ROLE "${READY}" IN DATABASE test SET statement_timeout = 10000`);
    bouncer = await startPgBouncer({ users: [READY, BARE], poolSize: 2 });
  });
  after(async () => {
    await kiln?.close();
    await bouncer?.stop();
    await admin(
      `DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE; REVOKE ALL ON DATABASE test FROM "${READY}"; DROP ROLE IF EXISTS "${READY}"; DROP ROLE IF EXISTS "${BARE}"`,
    );
  });

  test('without KILN_DB_POOLER=transaction the start fails: PgBouncer refuses the startup options', async () => {
    await assert.rejects(openDatabase(settingsFor(READY, { dbPooler: 'none' })), /unsupported startup parameter/);
  });

  test('a role without the session settings stops the start, naming each and the statement that sets it', async () => {
    await assert.rejects(openDatabase(settingsFor(BARE)), (error: Error) => {
      assert.equal(error.name, 'StartupError');
      assert.equal(
        error.message,
        [
          'KILN_DB_POOLER=transaction: a pooler in transaction mode cannot carry per-connection settings, so the role must set them, and these differ:',
          `  - search_path is \`"$user", public\`, not \`${SCHEMA}\` (KILN_DB_SCHEMA): ALTER ROLE "${BARE}" IN DATABASE "test" SET search_path = "${SCHEMA}";`,
          `  - statement_timeout is 0 ms, not 10000 (KILN_DB_STATEMENT_TIMEOUT_MS): ALTER ROLE "${BARE}" IN DATABASE "test" SET statement_timeout = 10000;`,
          'Run those statements on the database (directly, not through the pooler), then start again; new server connections of the pooler get them.',
        ].join('\n'),
      );
      return true;
    });
  });

  test('migrations are refused, with the way to run them', async () => {
    const db = await openDatabase(settingsFor(READY));
    try {
      await assert.rejects(
        withMigrationLock(db, async () => {}),
        {
          name: 'StartupError',
          message:
            'migrations cannot run through a pooler in transaction mode (KILN_DB_POOLER=transaction): they hold a lock on one connection across several transactions. Run `kiln migrate up` with DATABASE_URL pointing at the database itself (or a session-mode pool) and KILN_DB_POOLER=none, then serve through the pooler without --migrate.',
        },
      );
    } finally {
      await db.close();
    }
  });

  test('concurrent reads and writes through two shared server connections answer as on a direct connection', async () => {
    kiln = await startKiln({ model: await blogModel(), settings: settingsFor(READY) });
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${kiln?.url}${path}`, {
        method,
        headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, etag: res.headers.get('etag'), body: text ? JSON.parse(text) : undefined };
    };
    const user = await call('POST', '/v1/users', { name: 'Ada', email: 'ada@example.com' });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    const tags = await call('POST', '/v1/tags/bulk', [{ name: 'one' }, { name: 'two' }]);
    assert.equal(tags.status, 201);
    const tagIds = tags.body.data.map((t: { id: number }) => t.id);
    // Forty requests at once, each a transaction (a post with its tags' links) or a read with includes.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? call('POST', '/v1/posts', { title: `Post ${i}`, authorId: user.body.data.id, tags: tagIds }, { 'idempotency-key': `post-${i}` })
          : call('GET', '/v1/posts?include=author,tags&limit=5'),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 201 : 200)),
    );
    const list = await call('GET', '/v1/posts?include=tags&limit=100&count=true');
    assert.equal(list.body.data.length, 20);
    assert.equal(list.body.page.total, 20);
    assert.ok(
      list.body.data.every((p: { tags: unknown[] }) => p.tags.length === 2),
      'every post has both its links',
    );
    // An idempotent retry answers the first result; an update with If-Match checks the ETag in a transaction.
    const retry = await call('POST', '/v1/posts', { title: 'Post 0', authorId: user.body.data.id, tags: tagIds }, { 'idempotency-key': 'post-0' });
    assert.equal(retry.status, 201);
    assert.equal((await call('GET', '/v1/posts?limit=100')).body.data.length, 20, 'the retry made nothing');
    const first = await call('GET', `/v1/posts/${retry.body.data.id}`);
    const updated = await call('PATCH', `/v1/posts/${retry.body.data.id}`, { title: 'Changed' }, { 'if-match': first.etag ?? '' });
    assert.equal(updated.status, 200);
    const stale = await call('PATCH', `/v1/posts/${retry.body.data.id}`, { title: 'Again' }, { 'if-match': first.etag ?? '' });
    assert.equal(stale.status, 412);
    // Timestamps are written in UTC: the role's TimeZone, not a startup option.
    assert.match(updated.body.data.updatedAt, /Z$/);
    assert.equal((await call('DELETE', `/v1/users/${user.body.data.id}`)).status, 204);
    assert.equal((await call('GET', '/v1/posts?limit=100')).body.data.length, 0, 'the cascade ran');
  });
});
