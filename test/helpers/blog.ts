import { resolve } from 'node:path';
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow, loadModel, readModelDeclaration } from '../../src/model/load.js';

export const BLOG_MODEL_PATH = resolve(import.meta.dirname, '../../examples/blog/kiln.config.ts');
export const BLOG_SEED_PATH = resolve(import.meta.dirname, '../../examples/blog/seed.json');

export type Declaration = Record<string, unknown> & {
  resources: Record<string, Record<string, unknown> & { fields: Record<string, Record<string, unknown>> }>;
};

let withRules: Promise<Model> | undefined;
let openAccess: Promise<Model> | undefined;

/**
 * The blog example as it ships: its roles and access rules, hooks and the publish route. For the
 * authorization suites (test/access/) and anything that must behave like `npm start`.
 */
export function blogModelWithRules(): Promise<Model> {
  withRules ??= loadModel(BLOG_MODEL_PATH);
  return withRules;
}

/**
 * The blog's data model with open access: its resources, fields, hooks and route, without its roles
 * and access rules (and with a plain `authorId` where the example sets it from the caller). For the
 * suites about REST behaviour (queries, includes, bulk writes, ETags…), which write as an anonymous
 * caller and set `authorId` themselves; what the rules change is tested in test/access/.
 */
export function blogModel(): Promise<Model> {
  openAccess ??= blogDeclaration().then((declaration) => compileOrThrow(`${BLOG_MODEL_PATH} (open access)`, declaration));
  return openAccess;
}

/** The declaration blogModel() compiles (open access), for suites that build a variant of the blog. */
export async function blogDeclaration(): Promise<Declaration> {
  return withoutRules((await readModelDeclaration(BLOG_MODEL_PATH)) as Declaration);
}

/**
 * The blog with open access and without its hooks and custom routes: for tests that count Kiln's own
 * statements (the example's slug hook adds a query per created post, which is the app's cost, not Kiln's).
 */
export async function blogModelWithoutCode(): Promise<Model> {
  const { routes: _routes, ...rest } = await blogDeclaration();
  const resources = Object.fromEntries(Object.entries(rest.resources).map(([name, { hooks: _hooks, ...data }]) => [name, data]));
  return compileOrThrow(`${BLOG_MODEL_PATH} (open access, without hooks and routes)`, { ...rest, resources });
}

/** A copy of the declaration without roles, resource `access`, field `read`/`write`, and `default: auth.id`. */
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

function plainField(options: Record<string, unknown>): Record<string, unknown> {
  const { read: _read, write: _write, ...plain } = options;
  if (plain.default === 'auth.id') delete plain.default;
  return plain;
}
