/**
 * The operations called directly, without REST (as GraphQL, hooks and scripts will): they validate
 * their arguments themselves, so no caller can write the id, the timestamps or a readOnly field, or
 * exceed a limit; and a context built once drives every one of them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KilnError } from '../../src/core/errors.js';
import type { Operations } from '../../src/core/operations.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import { blogModel } from '../helpers/blog.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

async function refused(call: Promise<unknown>, code: string): Promise<KilnError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof KilnError, `expected a KilnError, got ${String(error)}`);
    assert.equal(error.code, code, error.detail);
    return error;
  }
  assert.fail(`expected ${code}, the call succeeded`);
}

for (const backend of BACKENDS) {
  describe(`operations called directly (${backend})`, () => {
    let server: TestServer;
    let ops: Operations;
    let ctx: RequestContext;
    let author: number;

    before(async () => {
      server = await startTestServer(await blogModel(), backend);
      ops = server.kiln.ops;
      ctx = server.kiln.context();
      author = (await ops.create(ctx, 'users', { email: 'direct@example.com', name: 'Direct' })).id as number;
    });
    after(() => server.close());

    test('create, get, list, update, replace and remove with one context', async () => {
      const post = await ops.create(ctx, 'posts', { title: 'Direct', authorId: author, tags: [] });
      assert.equal(post.title, 'Direct');
      assert.equal((await ops.get(ctx, 'posts', post.id, { include: [{ relation: 'author' }] })).author && true, true);
      const page = await ops.list(ctx, 'posts', { filters: [{ path: ['title'], operator: 'eq', value: 'Direct' }], count: true });
      assert.equal(page.page.total, 1);
      assert.equal((await ops.update(ctx, 'posts', post.id, { status: 'published' })).status, 'published');
      assert.equal((await ops.replace(ctx, 'posts', post.id, { title: 'Again', authorId: author })).status, 'draft');
      await ops.remove(ctx, 'posts', post.id);
      await refused(ops.get(ctx, 'posts', post.id), 'KILN_NOT_FOUND');
    });

    test('the id, the timestamps and readOnly fields cannot be written by any caller', async () => {
      const error = await refused(
        ops.create(ctx, 'posts', { id: 4242, title: 'x', authorId: author, createdAt: '2000-01-01T00:00:00Z', updatedAt: '2000-01-01T00:00:00Z' }),
        'KILN_VALIDATION_FAILED',
      );
      assert.deepEqual(
        error.errors?.map((e) => [e.path, e.code]),
        [
          ['/id', 'readOnly'],
          ['/createdAt', 'readOnly'],
          ['/updatedAt', 'readOnly'],
        ],
      );
      const post = await ops.create(ctx, 'posts', { title: 'kept', authorId: author });
      await refused(ops.update(ctx, 'posts', post.id, { id: 1 }), 'KILN_VALIDATION_FAILED');
      await refused(ops.createMany(ctx, 'posts', [{ title: 'a', authorId: author, createdAt: '2000-01-01T00:00:00Z' }]), 'KILN_VALIDATION_FAILED');
    });

    test('limits hold without REST: page size, include depth, the row budget, bulk size, id type', async () => {
      await refused(ops.list(ctx, 'posts', { limit: 10_000 }), 'KILN_QUERY_INVALID');
      const deep = [{ relation: 'author', include: [{ relation: 'posts', include: [{ relation: 'author', include: [{ relation: 'posts' }] }] }] }];
      await refused(ops.list(ctx, 'posts', { include: deep }), 'KILN_QUERY_INVALID');
      const wide = [{ relation: 'tags', limit: 100, include: [{ relation: 'posts', limit: 100 }] }];
      const budget = await refused(ops.list(ctx, 'posts', { limit: 100, include: wide }), 'KILN_QUERY_INVALID');
      assert.equal(budget.errors?.[0]?.code, 'budget');
      await refused(ops.list(ctx, 'posts', { include: [{ relation: 'comments', limit: 0 }] }), 'KILN_QUERY_INVALID');
      const tooMany = Array.from({ length: server.kiln.context().limits.bulkMaxItems + 1 }, (_, i) => ({ name: `bulk${i}` }));
      await refused(ops.createMany(ctx, 'tags', tooMany), 'KILN_VALIDATION_FAILED');
      await refused(ops.get(ctx, 'posts', 'not-an-id'), 'KILN_PATH_INVALID');
      await refused(ops.get(ctx, 'posts', -1), 'KILN_PATH_INVALID');
    });

    test('include nodes carry their own filters, order and limit', async () => {
      const post = await ops.create(ctx, 'posts', { title: 'with comments', authorId: author });
      for (const body of ['b', 'a', 'c', 'aa']) await ops.create(ctx, 'comments', { body, postId: post.id, authorId: author });
      const row = await ops.get(ctx, 'posts', post.id, {
        include: [{ relation: 'comments', filters: [{ path: ['body'], operator: 'startsWith', value: 'a' }], sort: ['-body'], limit: 1 }],
      });
      assert.deepEqual(
        (row.comments as { body: string }[]).map((c) => c.body),
        ['aa'],
      );
      assert.deepEqual(row._truncated, ['comments']);
    });

    test('filter values may be typed, as GraphQL will pass them', async () => {
      const page = await ops.list(ctx, 'posts', { filters: [{ path: ['authorId'], operator: 'in', value: [author] }], limit: 1 });
      assert.equal(page.rows.length, 1);
      await refused(ops.list(ctx, 'posts', { filters: [{ path: ['authorId'], operator: 'eq', value: true }] }), 'KILN_QUERY_INVALID');
    });
  });
}
