import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow, loadModel } from '../../src/model/load.js';
import { BLOG_MODEL_PATH, blogModelWithRules } from '../helpers/blog.js';

const YAML_PATH = resolve(import.meta.dirname, '../../examples/blog/kiln.yaml');

/**
 * The hooks and routes are code: each form reaches blog-extensions.ts its own way (kiln.config.ts
 * imports it, kiln.yaml names it), and each import is a module instance of its own, so the two models'
 * functions are equal in what they are, not in identity. The data is compared as it is; the code by
 * the hooks and routes each form declares.
 */
const data = (model: Model) => ({ ...model, extensions: undefined });
const code = (model: Model) => ({
  hooks: [...(model.extensions?.hooks ?? [])].map(([resource, hooks]) => [resource, Object.keys(hooks)]),
  routes: model.extensions?.routes.map((r) => [r.method, r.path, r.summary]),
});

describe('the blog example in YAML', () => {
  test('compiles to the same model as kiln.config.ts', async () => {
    const fromYaml = await loadModel(YAML_PATH);
    const fromTypeScript = await blogModelWithRules();
    assert.deepStrictEqual(data(fromYaml), data(fromTypeScript));
    assert.deepStrictEqual(code(fromYaml), code(fromTypeScript));
    assert.deepStrictEqual(code(fromYaml), { hooks: [['posts', ['beforeCreate']]], routes: [['POST', '/posts/:id/publish', 'Publish a post']] });
  });

  test('declares the same plain data as the TypeScript builders produce', async () => {
    const { default: declaration } = await import(BLOG_MODEL_PATH);
    const { extensions, ...yaml } = parse(readFileSync(YAML_PATH, 'utf8'));
    const { routes, ...typescript } = JSON.parse(JSON.stringify(declaration));
    for (const resource of Object.values(typescript.resources) as { hooks?: unknown }[]) delete resource.hooks;
    assert.equal(extensions, './blog-extensions.ts');
    assert.equal(routes.length, 1);
    assert.deepStrictEqual(yaml, typescript);
  });

  test('a change in the YAML shows up as a difference', async () => {
    const changed = parse(readFileSync(YAML_PATH, 'utf8'));
    delete changed.extensions;
    assert.deepStrictEqual(data(compileOrThrow('unchanged', changed)), data(await blogModelWithRules()));
    changed.resources.posts.fields.status.default = 'published';
    assert.notDeepStrictEqual(data(compileOrThrow('changed', changed)), data(await blogModelWithRules()));
  });
});
