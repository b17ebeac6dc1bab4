/**
 * The blog's own code: a post's slug is computed from its title when it is created, and
 * `POST /v1/posts/:id/publish` publishes a draft. kiln.config.ts uses these beside its resources;
 * kiln.yaml names this module with `extensions: ./blog-extensions.ts` (its default export).
 */
import { defineExtensions, defineHooks, defineRoute, KilnError, registerErrorCode } from 'kilnjs';

export const ALREADY_PUBLISHED = registerErrorCode('BLOG_ALREADY_PUBLISHED', { status: 409, title: 'Post already published' });

/** "Notes on the Analytical Engine!" → "notes-on-the-analytical-engine". */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
  return slug || 'post';
}

export const postHooks = defineHooks<{ title: string; slug?: string | null }>({
  /** The slug is readOnly for clients: the hook sets it, unique among posts (`-2`, `-3`… when taken). */
  async beforeCreate({ input, tx }) {
    const base = slugify(input.title);
    // Read in the write's transaction: the statement sees what the transaction wrote before.
    const taken = await tx.query<{ slug: string }>(`SELECT "slug" FROM "posts" WHERE "slug" = $1 OR "slug" LIKE $2`, [base, `${base}-%`]);
    const slugs = new Set(taken.map((t) => t.slug));
    let slug = base;
    for (let n = 2; slugs.has(slug); n++) slug = `${base}-${n}`;
    input.slug = slug;
    return input;
  },
});

export const publishPost = defineRoute<{ id: number }>({
  method: 'POST',
  path: '/posts/:id/publish',
  summary: 'Publish a post',
  description:
    "Sets the status of a draft to `published` and answers the post: an editor's or an admin's call (an author writes drafts and may not set their status: 403). A post already published is refused with 409 `BLOG_ALREADY_PUBLISHED`; one the caller cannot see, with 404.",
  params: { type: 'object', properties: { id: { type: 'integer', format: 'int64', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } }, required: ['id'] },
  response: { resource: 'posts' },
  errors: ['KILN_NOT_FOUND', 'KILN_FORBIDDEN', ALREADY_PUBLISHED],
  // Only a signed-in caller may change a post: an anonymous one hears 401 before anything is read.
  authenticated: true,
  async handler({ ctx, params, ops }) {
    // One transaction: the post is read and changed under the caller's rules, with no publish in between.
    // The update is an ordinary one: the posts update rule and the status write rule ([editor]) decide.
    return ops.transaction(async (tx) => {
      await tx.query(`SELECT 1 FROM "posts" WHERE "id" = $1 FOR UPDATE`, [params.id]);
      const post = await ops.get(ctx, 'posts', params.id, undefined, { tx });
      if (post.status === 'published') throw new KilnError(ALREADY_PUBLISHED, { detail: `post ${params.id} is already published` });
      return ops.update(ctx, 'posts', params.id, { status: 'published' }, { tx });
    });
  },
});

export default defineExtensions({ hooks: { posts: postHooks }, routes: [publishPost] });
