/**
 * What `kiln dev` watches (src/cli/dev-watch.ts): the model file and the project files it loads,
 * for a TypeScript model and for a YAML or JSON model naming an extensions module.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { modelFiles } from '../../src/cli/dev-watch.js';

describe('the files kiln dev watches', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'kiln-watch-')));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  mkdirSync(join(dir, 'hooks'));
  writeFileSync(join(dir, 'hooks', 'slug.ts'), 'export const slug = (s: string) => s.toLowerCase();\n');
  writeFileSync(
    join(dir, 'extensions.ts'),
    "import { slug } from './hooks/slug.ts';\nexport default { hooks: { posts: { beforeCreate({ input }: any) { input.slug = slug(input.title); } } } };\n",
  );

  test('a YAML model: the file, the extensions module it names and what that module imports', async () => {
    const file = join(dir, 'kiln.yaml');
    writeFileSync(file, 'extensions: ./extensions.ts\nresources:\n  posts:\n    fields:\n      title: string\n');
    assert.deepEqual((await modelFiles(file)).sort(), [join(dir, 'extensions.ts'), join(dir, 'hooks', 'slug.ts'), file].sort());
  });

  test('a JSON model without extensions: the file alone; a broken one is still watched', async () => {
    const file = join(dir, 'kiln.json');
    writeFileSync(file, '{"resources": {"posts": {"fields": {"title": "string"}}}}\n');
    assert.deepEqual(await modelFiles(file), [file]);
    writeFileSync(file, '{"resources": ');
    assert.deepEqual(await modelFiles(file), [file]);
  });

  test('a project that links kilnjs (npm install ../kiln): Kiln’s own files, reached by their real path, are not the project’s', async () => {
    const project = join(dir, 'linked');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    writeFileSync(join(project, 'package.json'), '{"type":"module"}\n');
    symlinkSync(resolve(import.meta.dirname, '../..'), join(project, 'node_modules', 'kilnjs'), 'dir');
    writeFileSync(join(project, 'fields.ts'), "import { field } from 'kilnjs';\nexport const title = field.string();\n");
    const file = join(project, 'kiln.config.ts');
    writeFileSync(file, "import { title } from './fields.ts';\nexport default { resources: { posts: { fields: { title } } } };\n");
    assert.deepEqual((await modelFiles(file)).sort(), [file, join(project, 'fields.ts')].sort());
  });

  test('a TypeScript model: the file and every project file it imports', async () => {
    const file = join(dir, 'kiln.config.ts');
    writeFileSync(file, "import ext from './extensions.ts';\nexport default { resources: { posts: { fields: { title: 'string' } } }, ...ext };\n");
    assert.deepEqual((await modelFiles(file)).sort(), [join(dir, 'extensions.ts'), join(dir, 'hooks', 'slug.ts'), file].sort());
  });
});
