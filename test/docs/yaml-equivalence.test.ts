import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { compileOrThrow, loadModel } from '../../src/model/load.js';
import { BLOG_MODEL_PATH, blogModel } from '../helpers/blog.js';

const YAML_PATH = resolve(import.meta.dirname, '../../examples/blog/kiln.yaml');

describe('the blog example in YAML', () => {
  test('compiles to the same model as kiln.config.ts', async () => {
    const fromYaml = await loadModel(YAML_PATH);
    const fromTypeScript = await blogModel();
    assert.deepStrictEqual(fromYaml, fromTypeScript);
  });

  test('declares the same plain data as the TypeScript builders produce', async () => {
    const { default: declaration } = await import(BLOG_MODEL_PATH);
    assert.deepStrictEqual(parse(readFileSync(YAML_PATH, 'utf8')), JSON.parse(JSON.stringify(declaration)));
  });

  test('a change in the YAML shows up as a difference', async () => {
    const changed = parse(readFileSync(YAML_PATH, 'utf8'));
    changed.resources.posts.fields.status.default = 'published';
    assert.notDeepStrictEqual(compileOrThrow('changed', changed), await blogModel());
  });
});
