import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ResourceDeclaration } from '../../src/model/declaration.js';
import { compileOrThrow } from '../../src/model/load.js';
import { allTypesDeclaration } from '../fixtures/all-types.js';
import { blogModelWithoutCode } from '../helpers/blog.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestResponse, type TestServer } from '../helpers/server.js';

/**
 * The all-types model with `code` unique (and free of its pattern): 18 written fields per item, so
 * 4,000 items in one INSERT would take 72,000 bind parameters, above PostgreSQL's 65,535.
 */
const wideModel = (() => {
  const declaration = allTypesDeclaration();
  const items = declaration.resources.items as ResourceDeclaration;
  items.fields.code = { type: 'string', maxLength: 20, unique: true };
  delete items.fields.secret;
  return compileOrThrow('bulk-wide', declaration);
})();

const BULK = 4000;
const hex = (i: number) => i.toString(16).padStart(12, '0');

/** One item with every field set. */
function wideItem(i: number, ownerId: number): Record<string, unknown> {
  return {
    label: `label ${i}`,
    code: `C-${i}`,
    email: `user${i}@example.com`,
    website: `https://example.com/${i}`,
    ref: `abcdef00-0000-4000-a000-${hex(i)}`,
    notes: `note ${i}`,
    qty: i,
    rank: i % 7,
    big: String(BigInt(i) * 3_000_000_000n),
    price: `${i}.25`,
    ratio: i / 8,
    active: i % 2 === 0,
    day: '2024-02-29',
    at: '2024-02-29T12:00:00.000Z',
    kind: ['alpha', 'beta', 'gamma'][i % 3],
    meta: { i },
    token: `00000000-0000-4000-8000-${hex(i)}`,
    ownerId,
  };
}

type Problem = { errors?: { path: string; code: string }[] };
const paths = (problem: Problem): string[] => (problem.errors ?? []).map((e) => e.path);

async function total(server: TestServer, resource: string): Promise<number> {
  const res = await server.fetch(`/v1/${resource}?count=true&limit=1`);
  assert.equal(res.status, 200);
  return (await res.json()).page.total;
}

async function created(res: TestResponse): Promise<Record<string, any>[]> {
  const text = await res.text();
  assert.equal(res.status, 201, text.slice(0, 2000));
  return JSON.parse(text).data;
}

async function createdOne(res: TestResponse): Promise<Record<string, any>> {
  const text = await res.text();
  assert.equal(res.status, 201, text);
  return JSON.parse(text).data;
}

/** The statements the server sends while `request` runs. */
async function statementsOf<T>(server: TestServer, request: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const stop = server.db.observe((text) => statements.push(text));
  try {
    return { result: await request(), statements };
  } finally {
    stop();
  }
}

for (const backend of BACKENDS) {
  describe(`bulk writes over PostgreSQL's parameter limit (${backend})`, () => {
    let server: TestServer;
    let ownerId: number;
    before(async () => {
      server = await startTestServer(wideModel, backend, { bulkMaxItems: 5000, bodyLimit: 50_000_000 });
      ownerId = (await createdOne(await server.fetch('/v1/owners', { method: 'POST', json: { name: 'Ada' } }))).id;
    });
    after(() => server.close());

    test('a bulk create of 4,000 records of 18 fields is split under the parameter limit and answers every record in order', async () => {
      const items = Array.from({ length: BULK }, (_, i) => wideItem(i, ownerId));
      const { result, statements } = await statementsOf(server, () => server.fetch('/v1/items/bulk', { method: 'POST', json: items }));
      const rows = await created(result);
      assert.ok(statements.filter((s) => /^INSERT INTO "items"/.test(s)).length >= 2, 'the rows went in more than one INSERT');
      assert.equal(rows.length, BULK);
      rows.forEach((row, i) => {
        assert.equal(row.code, `C-${i}`);
        assert.equal(row.big, items[i]?.big);
        assert.equal(row.ownerId, ownerId);
      });
      assert.equal(await total(server, 'items'), BULK);
    });

    test('a split bulk create is atomic: a unique violation in its last record writes nothing and names /3999/code', async () => {
      await createdOne(await server.fetch('/v1/items', { method: 'POST', json: { ...wideItem(90_000, ownerId), code: 'TAKEN' } }));
      const before = await total(server, 'items');
      const items = Array.from({ length: BULK }, (_, i) => wideItem(10_000 + i, ownerId));
      (items[BULK - 1] as Record<string, unknown>).code = 'TAKEN';
      const problem = await expectProblem(await server.fetch('/v1/items/bulk', { method: 'POST', json: items }), 409, 'KILN_UNIQUE_VIOLATION');
      assert.ok(paths(problem).includes(`/${BULK - 1}/code`), JSON.stringify(problem.errors));
      assert.equal(await total(server, 'items'), before, 'nothing was written');
    });
  });

  describe(`bulk writes: errors name the item, links in a fixed number of statements (${backend})`, () => {
    let server: TestServer;
    let authorId: number;
    let tagIds: number[];
    before(async () => {
      server = await startTestServer(await blogModelWithoutCode(), backend, { includeLimit: 50 });
      const author = { email: 'ada@example.com', name: 'Ada' };
      authorId = (await createdOne(await server.fetch('/v1/users', { method: 'POST', json: author }))).id;
      tagIds = (await created(await server.fetch('/v1/tags/bulk', { method: 'POST', json: Array.from({ length: 30 }, (_, i) => ({ name: `tag-${i}` })) }))).map(
        (t) => t.id,
      );
    });
    after(() => server.close());

    const post = (title: string, tags?: number[]) => ({ title, authorId, ...(tags ? { tags } : {}) });
    const tagsOf = async (postId: number): Promise<number[]> => {
      const res = await server.fetch(`/v1/posts/${postId}?include=tags`);
      assert.equal(res.status, 200);
      return ((await res.json()).data.tags as { id: number }[]).map((t) => t.id).sort((a, b) => a - b);
    };

    test('a unique violation against an existing row names the bulk item: /1/name', async () => {
      const before = await total(server, 'tags');
      const res = await server.fetch('/v1/tags/bulk', { method: 'POST', json: [{ name: 'new1' }, { name: 'tag-0' }] });
      const problem = await expectProblem(res, 409, 'KILN_UNIQUE_VIOLATION');
      assert.deepEqual(paths(problem), ['/1/name']);
      assert.equal(await total(server, 'tags'), before, 'nothing was written');
    });

    test('a belongsTo key pointing at a missing record names the bulk item: /2/authorId', async () => {
      const before = await total(server, 'posts');
      const body = [post('a'), post('b'), { title: 'c', authorId: 999_999 }];
      const problem = await expectProblem(await server.fetch('/v1/posts/bulk', { method: 'POST', json: body }), 422, 'KILN_REFERENCE_NOT_FOUND');
      assert.deepEqual(paths(problem), ['/2/authorId']);
      assert.equal(await total(server, 'posts'), before, 'nothing was written');
    });

    test('duplicates within one bulk request are reported naming both items, before any SQL', async () => {
      const before = await total(server, 'tags');
      const { result: res, statements } = await statementsOf(server, () =>
        server.fetch('/v1/tags/bulk', { method: 'POST', json: [{ name: 'a' }, { name: 'b' }, { name: 'a' }] }),
      );
      const problem = await expectProblem(res, 409, 'KILN_UNIQUE_VIOLATION');
      assert.match(String(problem.detail), /items 0 and 2\b/);
      assert.deepEqual(paths(problem), ['/0/name', '/2/name']);
      assert.deepEqual(statements, [], 'no statement was sent');
      assert.equal(await total(server, 'tags'), before, 'nothing was written');
    });

    test('links are written in a fixed number of statements: a bulk create of 5 or 50 posts, a PATCH of 3 or 30 tags', async () => {
      const three = tagIds.slice(0, 3);
      const bulk = (n: number) => server.fetch('/v1/posts/bulk', { method: 'POST', json: Array.from({ length: n }, (_, i) => post(`p${n}-${i}`, three)) });
      const five = await statementsOf(server, () => bulk(5));
      const fifty = await statementsOf(server, () => bulk(50));
      const [fiveRows, fiftyRows] = [await created(five.result), await created(fifty.result)];
      assert.ok(five.statements.length >= 2, 'the statements were observed');
      assert.equal(fifty.statements.length, five.statements.length, `5 posts: ${five.statements.length}, 50 posts: ${fifty.statements.length}`);
      for (const row of [fiveRows[0], fiveRows[4], fiftyRows[0], fiftyRows[49]]) assert.deepEqual(await tagsOf(row?.id), three);

      const target = fiveRows[0]?.id;
      const patch = (tags: number[]) => server.fetch(`/v1/posts/${target}`, { method: 'PATCH', json: { tags } });
      const few = await statementsOf(server, () => patch(tagIds.slice(3, 6)));
      assert.equal(few.result.status, 200, await few.result.text());
      assert.deepEqual(await tagsOf(target), tagIds.slice(3, 6));
      const many = await statementsOf(server, () => patch(tagIds));
      assert.equal(many.result.status, 200, await many.result.text());
      assert.deepEqual(
        await tagsOf(target),
        [...tagIds].sort((x, y) => x - y),
      );
      assert.ok(few.statements.length >= 2, 'the statements were observed');
      assert.equal(many.statements.length, few.statements.length, `3 tags: ${few.statements.length}, 30 tags: ${many.statements.length}`);
    });

    test('a link to a missing tag in a bulk create is 422 naming /1/tags, and nothing is written', async () => {
      const before = await total(server, 'posts');
      const body = [post('ok', [tagIds[0] as number]), post('bad', [tagIds[1] as number, 999_999])];
      const problem = await expectProblem(await server.fetch('/v1/posts/bulk', { method: 'POST', json: body }), 422, 'KILN_REFERENCE_NOT_FOUND');
      assert.deepEqual(paths(problem), ['/1/tags']);
      assert.equal(await total(server, 'posts'), before, 'nothing was written');
    });

    test('PATCH and PUT of links with If-Match replace the tags exactly; a stale ETag changes nothing', async () => {
      const [target] = await created(await server.fetch('/v1/posts/bulk', { method: 'POST', json: [post('conditional', tagIds.slice(0, 4))] }));
      const path = `/v1/posts/${target?.id}`;
      const etag = async () => (await server.fetch(path)).headers.get('etag') as string;
      const first = await etag();
      const patched = await server.fetch(path, { method: 'PATCH', json: { tags: [tagIds[5], tagIds[2]] }, headers: { 'if-match': first } });
      assert.equal(patched.status, 200, await patched.text());
      assert.deepEqual(await tagsOf(target?.id), [tagIds[2], tagIds[5]]);
      const stale = await server.fetch(path, { method: 'PATCH', json: { tags: [tagIds[7]] }, headers: { 'if-match': first } });
      await expectProblem(stale, 412, 'KILN_PRECONDITION_FAILED');
      assert.deepEqual(await tagsOf(target?.id), [tagIds[2], tagIds[5]]);
      const put = await server.fetch(path, { method: 'PUT', json: post('conditional', [tagIds[9] as number]), headers: { 'if-match': await etag() } });
      assert.equal(put.status, 200, await put.text());
      assert.deepEqual(await tagsOf(target?.id), [tagIds[9]]);
    });
  });
}
