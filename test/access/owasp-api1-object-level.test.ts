/**
 * OWASP API Security Top 10 (2023), API1: broken object level authorization. On the blog as it ships,
 * Barbara (user B, an author) tries every REST path to Alan's draft (user A's private row), its
 * comments, and Ada's drafts: by id, by guessing ids, in lists and counts, by filters, through
 * relation filters, through includes at depth 2, by update, replace, delete and publish, by pointing a
 * new row at them, by linking, and in bulk. A hidden record must answer exactly as a missing one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, type TestResponse } from '../helpers/server.js';
import {
  ALAN,
  type BlogWorld,
  callers,
  GRACE,
  ids,
  SEEDED_DRAFTS,
  SEEDED_PUBLISHED,
  SEEDED_TAG_POSTS,
  seed,
  seededCommentsOn,
  sorted,
  startBlogWorld,
} from './blog-world.js';

const MISSING = 999_999;

/** Exactly the answer to an id that does not exist. */
async function expectNotFound(res: TestResponse, singular: string, id: number): Promise<void> {
  const body = await expectProblem(res, 404, 'KILN_NOT_FOUND');
  assert.deepEqual(body, {
    type: 'https://kiln.dev/errors/KILN_NOT_FOUND',
    title: 'Resource not found',
    status: 404,
    detail: `no such ${singular} (id ${id})`,
    code: 'KILN_NOT_FOUND',
    instance: res.headers.get('x-request-id'),
  });
}

/** A problem body without its request id, to compare two answers. */
const withoutInstance = ({ instance: _instance, ...rest }: Record<string, unknown>) => rest;

for (const backend of BACKENDS) {
  describe(`OWASP API1: object level authorization on the blog (${backend})`, () => {
    let w: BlogWorld;
    let B: Record<string, string>;
    /** What Barbara may see, and what she may not. */
    let visiblePosts: number[];
    let hiddenPosts: number[];
    let visibleComments: number[];
    let hiddenComments: number[];

    before(async () => {
      w = await startBlogWorld(backend);
      B = w.asBarbara;
      visiblePosts = sorted([...SEEDED_PUBLISHED, w.barbaraDraft.id]);
      hiddenPosts = sorted([...SEEDED_DRAFTS, w.alanDraft.id]);
      visibleComments = sorted([...seededCommentsOn(SEEDED_PUBLISHED), w.barbaraDraft.comment, w.barbaraComment]);
      hiddenComments = sorted([...seededCommentsOn(SEEDED_DRAFTS), ...w.alanDraft.comments]);
    });
    after(() => w.server.close());

    test('the private rows exist: Alan and the editor read them', async () => {
      assert.equal((await w.json(callers.alan, `/v1/posts/${w.alanDraft.id}`)).data.status, 'draft');
      assert.deepEqual(ids(await w.json(callers.alan, `/v1/comments?postId=${w.alanDraft.id}`)), w.alanDraft.comments);
      assert.deepEqual(ids(await w.json(callers.grace, '/v1/posts?fields=id&limit=100')), sorted([...visiblePosts, ...hiddenPosts]));
      assert.equal((await w.json(callers.grace, '/v1/comments?count=true&limit=1')).page.total, visibleComments.length + hiddenComments.length);
    });

    test('by id: each hidden post and comment answers 404, the very answer of an id that does not exist', async () => {
      for (const id of [...hiddenPosts, MISSING]) {
        await expectNotFound(await w.call(B, `/v1/posts/${id}`), 'post', id);
        await expectNotFound(await w.call(B, `/v1/posts/${id}?fields=id&include=comments`), 'post', id);
      }
      for (const id of [...hiddenComments, MISSING]) {
        await expectNotFound(await w.call(B, `/v1/comments/${id}`), 'comment', id);
        await expectNotFound(await w.call(B, `/v1/comments/${id}?include=post`), 'comment', id);
      }
    });

    test('guessing ids: walking every id finds exactly the visible records', async () => {
      const walk = async (headers: Record<string, string>, resource: string, last: number) => {
        const found: number[] = [];
        for (let id = 1; id <= last; id++) {
          const res = await w.call(headers, `/v1/${resource}/${id}?fields=id`);
          await res.arrayBuffer();
          assert.ok(res.status === 200 || res.status === 404, `${resource}/${id}: ${res.status}`);
          if (res.status === 200) found.push(id);
        }
        return found;
      };
      const lastPost = Math.max(...visiblePosts, ...hiddenPosts) + 3;
      const lastComment = Math.max(...visibleComments, ...hiddenComments) + 3;
      assert.deepEqual(await walk(B, 'posts', lastPost), visiblePosts);
      assert.deepEqual(await walk(B, 'comments', lastComment), visibleComments);
      assert.deepEqual(await walk(callers.anonymous, 'posts', lastPost), SEEDED_PUBLISHED);
      assert.deepEqual(await walk(callers.anonymous, 'comments', lastComment), sorted([...seededCommentsOn(SEEDED_PUBLISHED), w.barbaraComment]));
    });

    test('lists and counts leave hidden rows out, on every page', async () => {
      const all = await w.json(B, '/v1/posts?fields=id&count=true&limit=100');
      assert.deepEqual([ids(all), all.page.total], [visiblePosts, visiblePosts.length]);
      const comments = await w.json(B, '/v1/comments?fields=id&count=true&limit=100');
      assert.deepEqual([ids(comments), comments.page.total], [visibleComments, visibleComments.length]);
      const paged: number[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await w.json(B, `/v1/posts?fields=id&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        paged.push(...ids(page));
        cursor = page.page.nextCursor;
      } while (cursor);
      assert.deepEqual(paged, visiblePosts);
      const anonymous = await w.json(callers.anonymous, '/v1/posts?fields=id&count=true');
      assert.deepEqual([ids(anonymous), anonymous.page.total], [SEEDED_PUBLISHED, SEEDED_PUBLISHED.length]);
    });

    test('filters that name a hidden row match nothing, and counts agree', async () => {
      const alan = w.alanDraft.id;
      const cases: [string, number[]][] = [
        [`/v1/posts?id=${alan}`, []],
        [`/v1/posts?id[in]=${[...hiddenPosts].join(',')}`, []],
        [`/v1/posts?title=${encodeURIComponent(w.alanDraft.title)}`, []],
        ['/v1/posts?title[icontains]=intelligent', []],
        ['/v1/posts?slug=intelligent-machinery-draft', []],
        ['/v1/posts?status=draft', [w.barbaraDraft.id]],
        ['/v1/posts?status[ne]=published', [w.barbaraDraft.id]],
        [`/v1/posts?authorId=${ALAN}`, [2, 5, 8]],
        [`/v1/posts?authorId=${ALAN}&status=draft`, []],
        [`/v1/comments?postId=${alan}`, []],
        [`/v1/comments?postId[in]=${[...hiddenPosts].join(',')}`, []],
        [`/v1/comments?id[in]=${hiddenComments.join(',')}`, []],
        [`/v1/comments?authorId=${GRACE}`, []],
        ['/v1/comments?body[icontains]=note to self', []],
      ];
      for (const [path, expected] of cases) {
        const page = await w.json(B, `${path}&count=true&fields=id`.replace('?&', '?'));
        assert.deepEqual([ids(page), page.page.total], [expected, expected.length], path);
      }
    });

    test('relation filters cannot reach through to a hidden row', async () => {
      const title = encodeURIComponent(w.alanDraft.title);
      assert.deepEqual(ids(await w.json(callers.alan, `/v1/comments?post.title=${title}`)), w.alanDraft.comments, 'Alan matches his own');
      assert.deepEqual(ids(await w.json(B, `/v1/comments?post.title=${title}&count=true`)), []);
      assert.deepEqual(ids(await w.json(B, '/v1/comments?post.status=draft')), [w.barbaraDraft.comment]);
      assert.deepEqual(ids(await w.json(B, `/v1/comments?post.authorId=${ALAN}&limit=100`)), sorted([...seededCommentsOn([2, 5, 8]), w.barbaraComment]));
      assert.deepEqual(ids(await w.json(B, '/v1/posts?author.name=Alan Turing')), [2, 5, 8]);
    });

    test('a relation filter on a field the caller may not read is refused: author.email= on posts', async () => {
      assert.deepEqual(ids(await w.json(callers.ada, '/v1/posts?author.email=alan@example.com')), [2, 5, 8, w.alanDraft.id], 'an admin filters by email');
      // Barbara reads an email on her own record only: filtering by it would reveal it on the others.
      for (const email of ['alan@example.com', 'barbara@example.com']) {
        const res = await w.call(B, `/v1/posts?author.email=${email}`);
        const body = await expectProblem(res, 400, 'KILN_QUERY_INVALID');
        const message = 'cannot filter by "author.email": you may read "email" on some users only';
        assert.deepEqual(withoutInstance(body), {
          type: 'https://kiln.dev/errors/KILN_QUERY_INVALID',
          title: 'Invalid query parameter',
          status: 400,
          detail: `author.email: ${message}`,
          code: 'KILN_QUERY_INVALID',
          errors: [{ path: 'author.email', code: 'restricted', message }],
        });
      }
      // Anonymous callers read no email at all: to them the field does not exist.
      const unknown = await expectProblem(await w.call(callers.anonymous, '/v1/posts?author.email=alan@example.com'), 400, 'KILN_QUERY_INVALID');
      const nope = await expectProblem(await w.call(callers.anonymous, '/v1/posts?author.nope=alan@example.com'), 400, 'KILN_QUERY_INVALID');
      assert.deepEqual(withoutInstance(unknown), JSON.parse(JSON.stringify(withoutInstance(nope)).replaceAll('nope', 'email')));
    });

    test('includes at depth 1 and 2 leave hidden rows out', async () => {
      const postsWithComments = (user: any) =>
        Object.fromEntries(user.posts.map((p: { id: number; comments: { id: number }[] }) => [p.id, p.comments.map((c) => c.id)]));
      const alanAsB = (await w.json(B, `/v1/users/${ALAN}?include=posts.comments`)).data;
      assert.deepEqual(postsWithComments(alanAsB), {
        2: sorted([...seededCommentsOn([2]), w.barbaraComment]),
        5: seededCommentsOn([5]),
        8: seededCommentsOn([8]),
      });
      const alanAsAlan = (await w.json(callers.alan, `/v1/users/${ALAN}?include=posts.comments`)).data;
      assert.deepEqual(postsWithComments(alanAsAlan)[w.alanDraft.id], w.alanDraft.comments, 'Alan sees his draft and its comments');
      assert.deepEqual((await w.json(B, '/v1/users/1?include=posts.comments')).data.posts, [], "Ada's posts are all drafts");

      const alanComments = (await w.json(B, `/v1/users/${ALAN}?include=comments.post`)).data.comments;
      assert.deepEqual(
        alanComments.map((c: { id: number; post: { id: number; status: string } }) => [c.id, c.post.id, c.post.status]),
        seed.comments.filter((c) => c.authorId === ALAN && SEEDED_PUBLISHED.includes(c.postId as number)).map((c) => [c.id, c.postId, 'published']),
        "Alan's comments on published posts only, each with its post",
      );
      assert.deepEqual((await w.json(B, `/v1/users/${GRACE}?include=comments.post`)).data.comments, [], "Grace's only comment is on Alan's draft");

      assert.deepEqual((await w.json(B, '/v1/tags/1?include=posts.comments')).data.posts, [], 'tag 1 is on drafts only');
      assert.deepEqual(
        ids({ data: (await w.json(B, '/v1/tags/2?include=posts.author')).data.posts }),
        SEEDED_TAG_POSTS(2).filter((id) => visiblePosts.includes(id)),
      );
      const comment = (await w.json(B, `/v1/comments/${w.barbaraComment}?include=post.author`)).data;
      assert.deepEqual([comment.post.id, comment.post.author.id], [2, ALAN]);

      // Every comment inside a list of posts with their comments and authors is one Barbara may see.
      const list = await w.json(B, '/v1/posts?limit=100&include=comments.author');
      assert.deepEqual(ids(list), visiblePosts);
      const nested = list.data.flatMap((p: { comments: { id: number }[] }) => p.comments.map((c) => c.id));
      assert.deepEqual(sorted(nested), visibleComments);
    });

    test('update, replace, delete and publish of a hidden row answer 404 as for a missing id, and change nothing', async () => {
      const alan = w.alanDraft.id;
      const before = await w.call(callers.alan, `/v1/posts/${alan}`);
      const etag = before.headers.get('etag') as string;
      const stored = (await before.json()).data;
      for (const id of [alan, MISSING]) {
        await expectNotFound(await w.call(B, `/v1/posts/${id}`, { method: 'PATCH', json: { title: 'Mine now' } }), 'post', id);
        await expectNotFound(await w.call(B, `/v1/posts/${id}`, { method: 'PUT', json: { title: 'Mine now' } }), 'post', id);
        await expectNotFound(await w.call(B, `/v1/posts/${id}`, { method: 'PATCH', json: { title: 'Mine now' }, headers: { 'if-match': etag } }), 'post', id);
        await expectNotFound(await w.call(B, `/v1/posts/${id}`, { method: 'DELETE' }), 'post', id);
        await expectNotFound(await w.call(B, `/v1/posts/${id}`, { method: 'DELETE', headers: { 'if-match': etag } }), 'post', id);
        await expectNotFound(await w.call(B, `/v1/posts/${id}/publish`, { method: 'POST' }), 'post', id);
      }
      for (const id of [w.alanDraft.comments[0] as number, MISSING]) {
        await expectNotFound(await w.call(B, `/v1/comments/${id}`, { method: 'PATCH', json: { body: 'Mine now' } }), 'comment', id);
        await expectNotFound(await w.call(B, `/v1/comments/${id}`, { method: 'DELETE' }), 'comment', id);
      }
      const after = await w.call(callers.alan, `/v1/posts/${alan}`);
      assert.equal(after.headers.get('etag'), etag, 'the draft is as it was');
      assert.deepEqual((await after.json()).data, stored);
      assert.deepEqual(ids(await w.json(callers.alan, `/v1/comments?postId=${alan}`)), w.alanDraft.comments);
    });

    test("rows Barbara reads but may not change (Alan's published post, his comment, his account) answer 404 too", async () => {
      const comment = (seed.comments.find((c) => c.authorId === ALAN && c.postId === 2) as { id: number }).id;
      await expectNotFound(await w.call(B, '/v1/posts/2', { method: 'PATCH', json: { title: 'Mine now' } }), 'post', 2);
      await expectNotFound(await w.call(B, '/v1/posts/2', { method: 'DELETE' }), 'post', 2);
      await expectNotFound(await w.call(B, `/v1/comments/${comment}`, { method: 'PATCH', json: { body: 'Mine now' } }), 'comment', comment);
      await expectNotFound(await w.call(B, `/v1/comments/${comment}`, { method: 'DELETE' }), 'comment', comment);
      await expectNotFound(await w.call(B, `/v1/users/${ALAN}`, { method: 'PATCH', json: { name: 'Mine now' } }), 'user', ALAN);
      assert.equal((await w.json(B, '/v1/posts/2')).data.title, 'On Computable Numbers');
      assert.equal((await w.json(B, `/v1/users/${ALAN}`)).data.name, 'Alan Turing');
    });

    test('a new or moved row cannot point at a hidden post: refused exactly as a missing one, in bulk too', async () => {
      const answer = async (path: string, init: RequestInit & { json?: unknown }) => {
        const res = await w.call(B, path, init);
        return withoutInstance(await expectProblem(res, 422, 'KILN_REFERENCE_NOT_FOUND'));
      };
      const before = (await w.json(callers.grace, '/v1/comments?count=true&limit=1')).page.total;
      const missing = await answer('/v1/comments', { method: 'POST', json: { body: 'Hello', postId: MISSING } });
      assert.deepEqual(missing, {
        type: 'https://kiln.dev/errors/KILN_REFERENCE_NOT_FOUND',
        title: 'Related record not found',
        status: 422,
        detail: 'relation "post" points at a record that does not exist',
        code: 'KILN_REFERENCE_NOT_FOUND',
        errors: [{ path: '/postId', code: 'reference', message: 'no such post' }],
      });
      for (const hidden of hiddenPosts) {
        assert.deepEqual(await answer('/v1/comments', { method: 'POST', json: { body: 'Hello', postId: hidden } }), missing, `post ${hidden}`);
      }
      const moved = { method: 'PATCH', json: { postId: w.alanDraft.id } };
      assert.deepEqual(
        await answer(`/v1/comments/${w.barbaraComment}`, moved),
        await answer(`/v1/comments/${w.barbaraComment}`, { ...moved, json: { postId: MISSING } }),
      );
      const bulk = (postId: number) => ({
        method: 'POST',
        json: [
          { body: 'Fine', postId: 2 },
          { body: 'Hello', postId },
        ],
      });
      const bulkHidden = await answer('/v1/comments/bulk', bulk(w.alanDraft.id));
      assert.deepEqual(bulkHidden.errors, [{ path: '/1/postId', code: 'reference', message: 'no such post' }]);
      assert.deepEqual(bulkHidden, await answer('/v1/comments/bulk', bulk(MISSING)));
      assert.equal((await w.json(callers.grace, '/v1/comments?count=true&limit=1')).page.total, before, 'nothing was written');
      assert.equal((await w.json(B, `/v1/comments/${w.barbaraComment}`)).data.postId, 2, 'the comment stayed on its post');
    });

    test("links: Barbara can neither relink nor unlink Alan's draft", async () => {
      const alan = w.alanDraft.id;
      await expectNotFound(await w.call(B, `/v1/posts/${alan}`, { method: 'PATCH', json: { tags: [] } }), 'post', alan);
      await expectNotFound(await w.call(B, `/v1/posts/${alan}`, { method: 'PUT', json: { title: 'x', tags: [2, 3] } }), 'post', alan);
      // The tag side of the link is the editors' to change.
      const tagged = await expectProblem(await w.call(B, '/v1/tags/1', { method: 'PATCH', json: { posts: [] } }), 403, 'KILN_FORBIDDEN');
      assert.equal(tagged.detail, 'your roles do not allow you to update tags');
      assert.deepEqual(
        (await w.json(callers.alan, `/v1/posts/${alan}?include=tags`)).data.tags.map((t: { id: number }) => t.id),
        [1],
      );
      // The link is still there, as an editor sees it.
      assert.deepEqual(
        (await w.json(callers.grace, '/v1/tags/1?include=posts')).data.posts.map((p: { id: number }) => p.id),
        sorted([...SEEDED_TAG_POSTS(1), alan]),
      );
    });
  });
}
