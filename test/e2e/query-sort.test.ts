import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { allTypesModel, seedFilterItems } from '../fixtures/all-types.js';
import { blogModel } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

async function listed(server: TestServer, path: string, key: string): Promise<unknown[]> {
  const res = await server.fetch(path);
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return JSON.parse(text).data.map((row: Record<string, unknown>) => row[key]);
}

for (const backend of BACKENDS) {
  describe(`sort on the blog (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(await blogModel(), backend);
      const user = await (await server.fetch('/v1/users', { method: 'POST', json: { email: 'a@example.com', name: 'A' } })).json();
      const authorId = user.data.id;
      // Two batches: posts of one batch share createdAt (one transaction), the second batch is later.
      const first = await server.fetch('/v1/posts/bulk', {
        method: 'POST',
        json: [
          { title: 'Charlie', authorId },
          { title: 'Alpha', authorId },
        ],
      });
      assert.equal(first.status, 201);
      await sleep(20);
      const second = await server.fetch('/v1/posts/bulk', {
        method: 'POST',
        json: [
          { title: 'Delta', authorId },
          { title: 'Bravo', authorId },
        ],
      });
      assert.equal(second.status, 201);
      const [a, b] = [(await first.json()).data, (await second.json()).data];
      assert.equal(a[0].createdAt, a[1].createdAt);
      assert.ok(b[0].createdAt > a[0].createdAt);
    });
    after(() => server.close());

    test('multi-field sort: -createdAt,title and createdAt,-title', async () => {
      assert.deepEqual(await listed(server, '/v1/posts?sort=-createdAt,title', 'title'), ['Bravo', 'Delta', 'Alpha', 'Charlie']);
      assert.deepEqual(await listed(server, '/v1/posts?sort=createdAt,-title', 'title'), ['Charlie', 'Alpha', 'Delta', 'Bravo']);
    });

    test('single fields, the id order by default, and -id', async () => {
      assert.deepEqual(await listed(server, '/v1/posts', 'title'), ['Charlie', 'Alpha', 'Delta', 'Bravo']);
      assert.deepEqual(await listed(server, '/v1/posts?sort=', 'title'), ['Charlie', 'Alpha', 'Delta', 'Bravo']);
      assert.deepEqual(await listed(server, '/v1/posts?sort=title', 'title'), ['Alpha', 'Bravo', 'Charlie', 'Delta']);
      assert.deepEqual(await listed(server, '/v1/posts?sort=-title', 'title'), ['Delta', 'Charlie', 'Bravo', 'Alpha']);
      assert.deepEqual(await listed(server, '/v1/posts?sort=-id', 'title'), ['Bravo', 'Delta', 'Alpha', 'Charlie']);
      assert.deepEqual(await listed(server, '/v1/posts?sort=status,-id&status=draft', 'title'), ['Bravo', 'Delta', 'Alpha', 'Charlie']);
    });

    test('unknown, hidden, relation, json and repeated sort fields are refused', async () => {
      const cases: [string, [string, string][]][] = [
        ['sort=nope', [['sort', 'unknown']]],
        ['sort=author', [['sort', 'unknown']]],
        ['sort=author.name', [['sort', 'unknown']]],
        ['sort=comments', [['sort', 'unknown']]],
        ['sort=-', [['sort', 'unknown']]],
        ['sort=title,', [['sort', 'unknown']]],
        ['sort=%2Btitle', [['sort', 'unknown']]],
        ['sort=--title', [['sort', 'unknown']]],
        ['sort=Title', [['sort', 'unknown']]],
        ['sort=title,title', [['sort', 'repeated']]],
        ['sort=title,-title', [['sort', 'repeated']]],
        ['sort=id,-id', [['sort', 'repeated']]],
        [
          'sort=title,nope,title',
          [
            ['sort', 'unknown'],
            ['sort', 'repeated'],
          ],
        ],
      ];
      for (const [query, expected] of cases) {
        const problem = await expectProblem(await server.fetch(`/v1/posts?${query}`), 400, 'KILN_QUERY_INVALID');
        assert.deepEqual(
          problem.errors?.map((e) => [e.path, e.code]),
          expected,
          query,
        );
      }
      const hidden = await expectProblem(await server.fetch('/v1/users?sort=passwordHash'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(
        hidden.errors?.map((e) => [e.path, e.code]),
        [['sort', 'unknown']],
      );
      assert.doesNotMatch(JSON.stringify(hidden), /secret|\$argon/);
    });

    test('at most five sort fields', async () => {
      assert.deepEqual(await listed(server, '/v1/posts?sort=status,body,-createdAt,title,-updatedAt', 'title'), ['Bravo', 'Delta', 'Alpha', 'Charlie']);
      const problem = await expectProblem(await server.fetch('/v1/posts?sort=status,body,createdAt,title,updatedAt,authorId'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(
        problem.errors?.map((e) => [e.path, e.code]),
        [['sort', 'tooMany']],
      );
    });
  });

  describe(`sort by every type, NULLs last (${backend})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(allTypesModel(), backend);
      await seedFilterItems(server);
    });
    after(() => server.close());

    test('nullable columns put NULLs last in both directions; ties break by id', async () => {
      assert.deepEqual(await listed(server, '/v1/items?sort=rank', 'code'), ['F-6', 'D-4', 'A-1', 'C-3', 'B-2', 'E-5']);
      assert.deepEqual(await listed(server, '/v1/items?sort=-rank', 'code'), ['A-1', 'C-3', 'D-4', 'F-6', 'B-2', 'E-5']);
      assert.deepEqual(await listed(server, '/v1/items?sort=-rank,-qty', 'code'), ['C-3', 'A-1', 'D-4', 'F-6', 'B-2', 'E-5']);
      // (How upper and lower case compare depends on the database collation, so only the NULLs are pinned.)
      assert.deepEqual((await listed(server, '/v1/items?sort=email', 'code')).slice(4), ['B-2', 'E-5']);
      assert.deepEqual((await listed(server, '/v1/items?sort=-email,-id', 'code')).slice(4), ['E-5', 'B-2']);
      assert.deepEqual(await listed(server, '/v1/items?sort=-ownerId,code', 'code'), ['B-2', 'E-5', 'A-1', 'D-4', 'C-3', 'F-6']);
    });

    test('numbers sort by value, not as text', async () => {
      assert.deepEqual(await listed(server, '/v1/items?sort=big', 'code'), ['F-6', 'B-2', 'C-3', 'D-4', 'A-1', 'E-5']);
      assert.deepEqual(await listed(server, '/v1/items?sort=-price', 'price'), ['99999999.99', '12.34', '10.50', '0.99', '0.00', '-1.00']);
      assert.deepEqual(await listed(server, '/v1/items?sort=ratio', 'ratio'), [-3.5, 0, 1e-7, 0.5, 1.25, 100]);
      assert.deepEqual(await listed(server, '/v1/items?sort=qty', 'qty'), [-7, 0, 1, 3, 5, 10]);
    });

    test('booleans, dates, datetimes, enums and uuids', async () => {
      assert.deepEqual(await listed(server, '/v1/items?sort=active,-day', 'code'), ['F-6', 'D-4', 'B-2', 'A-1', 'E-5', 'C-3']);
      assert.deepEqual(await listed(server, '/v1/items?sort=-at', 'code'), ['F-6', 'D-4', 'B-2', 'E-5', 'A-1', 'C-3']);
      assert.deepEqual(await listed(server, '/v1/items?sort=-kind,-id', 'code'), ['F-6', 'C-3', 'E-5', 'B-2', 'D-4', 'A-1']);
      assert.deepEqual(await listed(server, '/v1/items?sort=-token', 'code'), ['F-6', 'E-5', 'D-4', 'C-3', 'B-2', 'A-1']);
    });

    test('json and hidden fields cannot be sorted on', async () => {
      for (const field of ['meta', '-meta', 'secret', '-secret']) {
        const problem = await expectProblem(await server.fetch(`/v1/items?sort=${field}`), 400, 'KILN_QUERY_INVALID');
        assert.deepEqual(
          problem.errors?.map((e) => [e.path, e.code]),
          [['sort', 'unknown']],
        );
      }
    });
  });
}
