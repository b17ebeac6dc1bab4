import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MigrationFailedError } from '../../src/migrate/errors.js';
import { listMigrations } from '../../src/migrate/files.js';
import { migrateDown, migrateUp } from '../../src/migrate/runner.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/server.js';
import { VERSIONS } from './fixtures/versions.js';
import { firstMigrations, generate, rejection, schemaDrift, serveOn, tempDir } from './helpers.js';

type Server = Awaited<ReturnType<typeof serveOn>>;
const pick = (rows: any[], ...keys: string[]) => rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]])));

/** After each version is applied: what the API must serve (the data of earlier versions intact), and new data for the next. */
const CHECKS: ((s: Server) => Promise<void>)[] = [
  async (s) => {
    await s.send('POST', '/users', { email: 'ada@example.com', name: 'Ada' });
    await s.send('POST', '/users', { email: 'bob@example.com', name: 'Bob' });
    await s.send('POST', '/posts', { title: 'Hello', body: 'First', views: 3, authorId: 1 });
    await s.send('POST', '/posts', { title: 'Second', authorId: 2 });
    assert.deepEqual(pick((await s.get('/posts?sort=id')).data, 'id', 'title', 'body', 'views'), [
      { id: 1, title: 'Hello', body: 'First', views: 3 },
      { id: 2, title: 'Second', body: null, views: 0 },
    ]);
  },
  async (s) => {
    const tag = await s.send('POST', '/tags', { name: 'news' });
    await s.send('PATCH', '/posts/1', { tags: [tag.id] });
    const { data } = await s.get('/posts?sort=id&include=tags');
    assert.deepEqual(pick(data, 'title', 'body', 'slug'), [
      { title: 'Hello', body: 'First', slug: null },
      { title: 'Second', body: null, slug: null },
    ]);
    assert.deepEqual(
      data[0].tags.map((t: any) => t.name),
      ['news'],
    );
  },
  async (s) => {
    const { data } = await s.get('/posts?sort=id&include=tags');
    assert.deepEqual(pick(data, 'headline', 'views'), [
      { headline: 'Hello', views: '3' },
      { headline: 'Second', views: '0' },
    ]);
    assert.equal(data[0].title, undefined);
    assert.deepEqual(
      data[0].tags.map((t: any) => t.name),
      ['news'],
    );
    await s.send('PATCH', '/users/1', { email: `${'a'.repeat(150)}@example.com` });
  },
  async (s) => {
    assert.deepEqual(pick((await s.get('/posts?sort=id')).data, 'headline', 'status'), [
      { headline: 'Hello', status: 'draft' },
      { headline: 'Second', status: 'draft' },
    ]);
    await s.send('PATCH', '/posts/1', { status: 'published' });
    await s.send('PATCH', '/users/1', { email: 'ada@example.com' });
    const created = await s.send('POST', '/posts', { headline: 'Third', authorId: 1, slug: 'third' });
    assert.equal(created.views, '1', 'the new default');
  },
  async (s) => {
    assert.deepEqual(pick((await s.get('/posts?sort=id')).data, 'id', 'status', 'slug'), [
      { id: 1, status: 'live', slug: 'post-1' },
      { id: 2, status: 'draft', slug: 'post-2' },
      { id: 3, status: 'draft', slug: 'third' },
    ]);
    await s.send('PATCH', '/users/2', { name: null });
  },
  async (s) => {
    const { data } = await s.get('/articles?sort=id&include=tags,author');
    assert.deepEqual(pick(data, 'id', 'headline', 'status'), [
      { id: 1, headline: 'Hello', status: 'live' },
      { id: 2, headline: 'Second', status: 'draft' },
      { id: 3, headline: 'Third', status: 'draft' },
    ]);
    assert.deepEqual(
      data[0].tags.map((t: any) => t.name),
      ['news'],
    );
    assert.equal(data[1].author.name, null);
  },
  async (s) => {
    const { data } = await s.get('/articles?sort=id');
    assert.deepEqual(pick(data, 'id', 'headline', 'editorId', 'body'), [
      { id: 1, headline: 'Hello', editorId: null, body: undefined },
      { id: 2, headline: 'Second', editorId: null, body: undefined },
      { id: 3, headline: 'Third', editorId: null, body: undefined },
    ]);
    await s.send('POST', '/comments', { text: 'Nice', articleId: 1 });
    await s.send('PATCH', '/articles/2', { editorId: 1 });
  },
  async (s) => {
    const { data } = await s.get('/articles?sort=id');
    assert.deepEqual(pick(data, 'id', 'views', 'status', 'editorId'), [
      { id: 1, views: 3, status: 'live', editorId: null },
      { id: 2, views: 0, status: 'draft', editorId: 1 },
      { id: 3, views: 1, status: 'draft', editorId: null },
    ]);
    assert.deepEqual(
      (await s.get('/comments')).data.map((c: any) => [c.text, c.articleId]),
      [['Nice', 1]],
    );
  },
  async (s) => {
    const { data } = await s.get('/articles?sort=id');
    assert.deepEqual(pick(data, 'id', 'views', 'reviewerId', 'editorId'), [
      { id: 1, views: '3.00', reviewerId: 1, editorId: undefined },
      { id: 2, views: '0.00', reviewerId: 1, editorId: undefined },
      { id: 3, views: '1.00', reviewerId: 1, editorId: undefined },
    ]);
  },
];

for (const backend of BACKENDS) {
  describe(`a model evolved through nine versions (${backend})`, () => {
    let db: TestDatabase;
    const tmp = tempDir();
    before(async () => {
      db = await createTestDatabase(backend);
    });
    after(async () => {
      await db.dispose();
      tmp.remove();
    });

    test('each version is generated and applied, and the API serves the data of every earlier version', async () => {
      for (const [i, version] of VERSIONS.entries()) {
        const result = await generate(version.declaration, tmp.dir, version.options);
        assert.ok(result.written, `${version.label}: something to generate`);
        assert.deepEqual((await migrateUp(db.db, tmp.dir)).applied, [result.name], version.label);
        assert.deepEqual(await schemaDrift(db, listMigrations(tmp.dir).at(-1)?.snapshot), [], version.label);
        const again = await generate(version.declaration, tmp.dir, version.options);
        assert.equal(again.written, false, `${version.label}: nothing left to generate`);
        const server = await serveOn(db, version.declaration, tmp.dir);
        try {
          await (CHECKS[i] as (s: Server) => Promise<void>)(server);
        } catch (error) {
          (error as Error).message = `${version.label}: ${(error as Error).message}`;
          throw error;
        } finally {
          await server.close();
        }
      }
    });

    test('down walks back one migration at a time to v1, each earlier schema restored and served', async () => {
      const migrations = listMigrations(tmp.dir);
      for (let i = migrations.length - 1; i >= 1; i--) {
        if (VERSIONS[i]?.label.startsWith('v5')) {
          // v5 made users.name nullable and Bob's name is NULL now: undoing it fails, changing nothing.
          const error = await rejection(() => migrateDown(db.db, tmp.dir, 1));
          assert.ok(error instanceof MigrationFailedError);
          assert.equal(error.migration, `${migrations[i]?.name} (down)`);
          assert.equal(error.statement, 'ALTER TABLE "users" ALTER COLUMN "name" SET NOT NULL');
          assert.deepEqual(await schemaDrift(db, migrations[i]?.snapshot), []);
          await db.db.query(`UPDATE "users" SET "name" = 'Bob' WHERE "name" IS NULL`);
        }
        assert.deepEqual((await migrateDown(db.db, tmp.dir, 1)).reverted, [migrations[i]?.name]);
        assert.deepEqual(await schemaDrift(db, migrations[i - 1]?.snapshot), [], `back at ${VERSIONS[i - 1]?.label}`);
        const earlier = firstMigrations(tmp.dir, i);
        const server = await serveOn(db, VERSIONS[i - 1]?.declaration, earlier.dir);
        const { data } = await server.get(i >= 6 ? '/articles?sort=id' : '/posts?sort=id');
        await server.close();
        earlier.remove();
        assert.deepEqual(
          data.map((r: any) => r.id),
          [1, 2, 3],
          `rows kept at ${VERSIONS[i - 1]?.label}`,
        );
      }
      const earliest = firstMigrations(tmp.dir, 1);
      const server = await serveOn(db, VERSIONS[0]?.declaration, earliest.dir);
      const { data } = await server.get('/posts?sort=id');
      await server.close();
      earliest.remove();
      assert.deepEqual(pick(data, 'id', 'title', 'body', 'views'), [
        { id: 1, title: 'Hello', body: null, views: 3 },
        { id: 2, title: 'Second', body: null, views: 0 },
        { id: 3, title: 'Third', body: null, views: 1 },
      ]);
    });
  });
}
