import { resolve } from 'node:path';
import type { Model } from '../../src/model/ir.js';
import { loadModel } from '../../src/model/load.js';

export const BLOG_MODEL_PATH = resolve(import.meta.dirname, '../../examples/blog/kiln.config.ts');
export const BLOG_SEED_PATH = resolve(import.meta.dirname, '../../examples/blog/seed.json');

let cached: Promise<Model> | undefined;

/** The example blog model, loaded once per test process. */
export function blogModel(): Promise<Model> {
  cached ??= loadModel(BLOG_MODEL_PATH);
  return cached;
}
