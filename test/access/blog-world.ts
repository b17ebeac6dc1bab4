/**
 * The blog example as it ships (its rules and seed), served for the authorization suites, with the
 * people they act as and the private rows they try to reach. The seed gives Ada (1) `admin` and Grace
 * (3) `editor`; Alan (2) is an author like anyone who signs up. Here Barbara (4), another author, is
 * added, and Alan writes a draft that only he and the editors may see: Barbara is "user B" of the OWASP
 * suites, Alan "user A". Ada's seeded drafts (1, 4, 7) are private to Barbara too.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BLOG_SEED_PATH, blogModelWithRules } from '../helpers/blog.js';
import { as } from '../helpers/callers.js';
import { type Backend, startTestServer, type TestResponse, type TestServer } from '../helpers/server.js';

type SeedRow = Record<string, unknown> & { id: number };
/** The records of examples/blog/seed.json, by resource. */
export const seed = JSON.parse(readFileSync(BLOG_SEED_PATH, 'utf8')) as Record<'users' | 'posts' | 'comments' | 'tags', SeedRow[]>;

export const ADA = 1;
export const ALAN = 2;
export const GRACE = 3;

/** The Authorization header of each caller; anonymous sends none. */
export const callers = {
  anonymous: {} as Record<string, string>,
  ada: as(ADA, ['admin']),
  alan: as(ALAN),
  grace: as(GRACE, ['editor']),
};

/** The seeded posts anyone may read, and the seeded drafts (all Ada's). */
export const SEEDED_PUBLISHED = seed.posts.filter((p) => p.status === 'published').map((p) => p.id);
export const SEEDED_DRAFTS = seed.posts.filter((p) => p.status === 'draft').map((p) => p.id);
/** Seeded comments by the post they are on. */
export const seededCommentsOn = (posts: readonly number[]) => seed.comments.filter((c) => posts.includes(c.postId as number)).map((c) => c.id);
export const SEEDED_TAG_POSTS = (tag: number) => seed.posts.filter((p) => (p.tags as number[]).includes(tag)).map((p) => p.id);

export interface BlogWorld {
  readonly server: TestServer;
  /** Barbara, user B: an author with no role. */
  readonly barbara: number;
  readonly asBarbara: Record<string, string>;
  /** Alan's draft, with tag 1, and the comments on it (Alan's own, and Grace's as an editor). */
  readonly alanDraft: { readonly id: number; readonly title: string; readonly comments: readonly number[] };
  /** Barbara's own draft, with one comment of hers. */
  readonly barbaraDraft: { readonly id: number; readonly comment: number };
  /** Barbara's comment on a published post of Alan's (post 2). */
  readonly barbaraComment: number;
  /** A call as `headers` (a caller of `callers`, or asBarbara). */
  call(headers: Record<string, string>, path: string, init?: RequestInit & { json?: unknown }): Promise<TestResponse>;
  /** A call that must answer `status`; its JSON body. */
  json(headers: Record<string, string>, path: string, status?: number, init?: RequestInit & { json?: unknown }): Promise<any>;
}

export async function startBlogWorld(backend: Backend): Promise<BlogWorld> {
  const server = await startTestServer(await blogModelWithRules(), backend, {}, BLOG_SEED_PATH);
  const call = (headers: Record<string, string>, path: string, init: RequestInit & { json?: unknown } = {}) =>
    server.fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } });
  const json = async (headers: Record<string, string>, path: string, status = 200, init: RequestInit & { json?: unknown } = {}) => {
    const res = await call(headers, path, init);
    const text = await res.text();
    assert.equal(res.status, status, `${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const created = async (headers: Record<string, string>, path: string, body: unknown) =>
    (await json(headers, path, 201, { method: 'POST', json: body })).data.id as number;

  const barbara = await created(callers.ada, '/v1/users', { email: 'barbara@example.com', name: 'Barbara Liskov' });
  const asBarbara = as(barbara);
  const title = 'Intelligent machinery (draft)';
  const alanDraft = await created(callers.alan, '/v1/posts', { title, body: 'Not for anyone yet.', tags: [1] });
  const alanComments = [
    await created(callers.alan, '/v1/comments', { body: 'Note to self', postId: alanDraft }),
    await created(callers.grace, '/v1/comments', { body: 'An editor notes', postId: alanDraft }),
  ];
  const barbaraDraft = await created(asBarbara, '/v1/posts', { title: 'Abstraction (draft)' });
  const barbaraDraftComment = await created(asBarbara, '/v1/comments', { body: 'Mine', postId: barbaraDraft });
  const barbaraComment = await created(asBarbara, '/v1/comments', { body: 'Lovely', postId: 2 });
  return {
    server,
    barbara,
    asBarbara,
    alanDraft: { id: alanDraft, title, comments: alanComments },
    barbaraDraft: { id: barbaraDraft, comment: barbaraDraftComment },
    barbaraComment,
    call,
    json,
  };
}

/** The ids of a list answer, in order. */
export const ids = (body: { data: { id: number }[] }) => body.data.map((r) => r.id);

/** Ascending, for comparing sets of ids. */
export const sorted = (list: readonly number[]) => [...list].sort((a, b) => a - b);
