import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadModel, ModelError } from '../../src/model/load.js';

describe('loadModel reads the file it is given', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-model-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const model = "{ resources: { posts: { fields: { title: { type: 'string' } } } } }";
  const module = (type: string) => {
    const folder = mkdtempSync(join(dir, `${type}-`));
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ type }));
    return folder;
  };

  for (const type of ['module', 'commonjs']) {
    test(`a TypeScript model in a ${type} package: the default export is the model`, async () => {
      const file = join(module(type), 'kiln.config.ts');
      writeFileSync(file, `export default ${model};\n`);
      const loaded = await loadModel(file);
      assert.deepEqual(
        loaded.resources.map((r) => r.name),
        ['posts'],
      );
    });

    test(`a TypeScript model in a ${type} package without a default export says so, instead of reading as an empty model`, async () => {
      const file = join(module(type), 'kiln.config.ts');
      writeFileSync(file, `export const model = ${model};\n`);
      const error = await loadModel(file).catch((e: unknown) => e);
      assert.ok(error instanceof ModelError);
      assert.deepEqual(error.problems, [
        {
          path: '(file)',
          message: 'has no default export',
          hint: 'export the declaration as the default: export default defineModel({ … }) (or export default { … })',
        },
      ]);
    });
  }

  test('a YAML model is checked like any other: a string where a number belongs is reported at its path', async () => {
    const file = join(dir, 'kiln.yaml');
    writeFileSync(file, 'resources:\n  posts:\n    fields:\n      title: { type: string, maxLength: "1); DROP TABLE x; --", required: "no" }\n');
    const error = await loadModel(file).catch((e: unknown) => e);
    assert.ok(error instanceof ModelError);
    assert.deepEqual(
      error.problems.map((p) => p.path),
      ['resources.posts.fields.title.maxLength', 'resources.posts.fields.title.required'],
    );
    assert.match(error.message, /the model has 2 problems/);
  });
});
