/**
 * The models the benchmark serves, both built from the blog example's data model so the tables, the
 * data and the answers stay those of the blog:
 *   open  the blog without any access rule: what the reads against the hand-written baseline measure
 *         (the baseline has no rules either, so both do the same work);
 *   rule  the same, with one row rule on posts, ROW_RULE, and users readable by anyone (for the
 *         included author): the same list under it, against `open`, is the cost of a row rule.
 * The example's own rules are left out of both: they would change the answers (drafts, emails) and
 * mix field rules into a measure meant for one row rule.
 */
import type { Model } from '../src/model/ir.js';
import { compileOrThrow } from '../src/model/load.js';
import { BLOG_MODEL_PATH, blogDeclaration } from '../test/helpers/blog.js';

export type BenchModel = 'open' | 'rule';

export const BENCH_MODELS: readonly BenchModel[] = ['open', 'rule'];

/** The row rule measured: what a blog's readers typically get (published posts, and their own). */
export const ROW_RULE = "status == 'published' || authorId == auth.id";

const BLOG = BLOG_MODEL_PATH;

export async function benchModel(kind: BenchModel): Promise<Model> {
  // The blog's data model with open access: the same one the REST suites use.
  const open = await blogDeclaration();
  if (kind === 'open') return compileOrThrow(`${BLOG} (bench: open access)`, open);
  const { users, posts } = open.resources;
  const resources = { ...open.resources, users: { ...users, access: { read: 'public' } }, posts: { ...posts, access: { read: ROW_RULE } } };
  return compileOrThrow(`${BLOG} (bench: a row rule on posts)`, { ...open, resources });
}
