import { resolve } from 'node:path';
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow, loadModel } from '../../src/model/load.js';

export const BLOG_MODEL_PATH = resolve(import.meta.dirname, '../../examples/blog/kiln.config.ts');
export const BLOG_SEED_PATH = resolve(import.meta.dirname, '../../examples/blog/seed.json');

let cached: Promise<Model> | undefined;

/** The example blog model, loaded once per test process. */
export function blogModel(): Promise<Model> {
  cached ??= loadModel(BLOG_MODEL_PATH);
  return cached;
}

/**
 * The blog model without its hooks and custom routes: for tests that count Kiln's own statements
 * (the example's slug hook adds a query per created post, which is the app's cost, not Kiln's).
 */
export async function blogModelWithoutCode(): Promise<Model> {
  const { default: declaration } = (await import(BLOG_MODEL_PATH)) as { default: { resources: Record<string, Record<string, unknown>> } };
  const { routes: _routes, ...rest } = declaration as typeof declaration & { routes?: unknown };
  const resources = Object.fromEntries(Object.entries(rest.resources).map(([name, { hooks: _hooks, ...data }]) => [name, data]));
  return compileOrThrow('the blog model without hooks and routes', { ...rest, resources });
}
