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
import { resolve } from 'node:path';
import type { Model } from '../src/model/ir.js';
import { compileOrThrow, readModelDeclaration } from '../src/model/load.js';

export type BenchModel = 'open' | 'rule';

export const BENCH_MODELS: readonly BenchModel[] = ['open', 'rule'];

/** The row rule measured: what a blog's readers typically get (published posts, and their own). */
export const ROW_RULE = "status == 'published' || authorId == auth.id";

const BLOG = resolve(import.meta.dirname, '../examples/blog/kiln.config.ts');

type Options = Record<string, unknown>;
type Declaration = Options & { resources: Record<string, Options & { fields: Record<string, Options> }> };

export async function benchModel(kind: BenchModel): Promise<Model> {
  const open = withoutRules((await readModelDeclaration(BLOG)) as Declaration);
  if (kind === 'open') return compileOrThrow(`${BLOG} (bench: open access)`, open);
  const { users, posts } = open.resources;
  const resources = { ...open.resources, users: { ...users, access: { read: 'public' } }, posts: { ...posts, access: { read: ROW_RULE } } };
  return compileOrThrow(`${BLOG} (bench: a row rule on posts)`, { ...open, resources });
}

/** The declaration without roles, resource `access`, field `read`/`write` and `default: auth.id`. */
function withoutRules(declaration: Declaration): Declaration {
  const { roles: _roles, ...rest } = declaration;
  const resources = Object.fromEntries(
    Object.entries(declaration.resources).map(([name, { access: _access, fields, ...resource }]) => [
      name,
      { ...resource, fields: Object.fromEntries(Object.entries(fields).map(([field, options]) => [field, plainField(options)])) },
    ]),
  );
  return { ...rest, resources };
}

function plainField(options: Options): Options {
  const { read: _read, write: _write, ...plain } = options;
  if (plain.default === 'auth.id') delete plain.default;
  return plain;
}
