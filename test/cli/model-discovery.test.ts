import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'kiln-discovery-'));

/** A fresh folder holding the given files. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, 'project-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const yamlModel = (resource: string) => `resources:\n  ${resource}:\n    fields:\n      title: { type: string }\n`;
const tsModel = (resource: string) =>
  `import { defineModel, defineResource, field } from 'kilnjs';\n\nexport default defineModel({ resources: { ${resource}: defineResource({ fields: { title: field.string() } }) } });\n`;

/** The resources `kiln check` printed, from their heading lines. */
const resources = (out: string) => [...out.matchAll(/^(\w+) {2}\(table \w+\)$/gm)].map((m) => m[1]);

after(() => rmSync(root, { recursive: true, force: true }));

describe('kiln finds the model file when neither --model nor KILN_MODEL names it', () => {
  const env = { KILN_MODEL: undefined };

  test('a folder with only kiln.yaml: kiln check reads it', async () => {
    const dir = folder({ 'kiln.yaml': yamlModel('notes') });
    const { code, out, err } = await runCli(['check'], { cwd: dir, env });
    assert.equal(err, '');
    assert.equal(code, 0);
    assert.equal(out.split('\n')[0], 'kiln.yaml: the model is valid (1 resource)');
    assert.deepEqual(resources(out), ['notes']);
  });

  test('kiln.yml and kiln.json are found too', async () => {
    for (const [name, text] of [
      ['kiln.yml', yamlModel('notes')],
      ['kiln.json', '{ "resources": { "notes": { "fields": { "title": { "type": "string" } } } } }'],
    ] as const) {
      const { code, out } = await runCli(['check'], { cwd: folder({ [name]: text }), env });
      assert.equal(code, 0, name);
      assert.equal(out.split('\n')[0], `${name}: the model is valid (1 resource)`);
    }
  });

  test('kiln.config.ts wins over kiln.yaml, and kiln.yaml over kiln.json', async () => {
    const both = folder({
      'kiln.config.ts': "export default { resources: { fromTs: { fields: { a: { type: 'string' } } } } };\n",
      'kiln.yaml': yamlModel('fromYaml'),
    });
    const first = await runCli(['check'], { cwd: both, env });
    assert.equal(first.code, 0, first.err);
    assert.equal(first.out.split('\n')[0], 'kiln.config.ts: the model is valid (1 resource)');
    assert.deepEqual(resources(first.out), ['fromTs']);

    const data = folder({ 'kiln.json': '{ "resources": { "fromJson": { "fields": { "a": { "type": "string" } } } } }', 'kiln.yaml': yamlModel('fromYaml') });
    const second = await runCli(['check'], { cwd: data, env });
    assert.deepEqual(resources(second.out), ['fromYaml']);
  });

  test('--model and KILN_MODEL come before the files found', async () => {
    const dir = folder({ 'kiln.yaml': yamlModel('fromYaml'), 'other.yaml': yamlModel('fromOther'), 'third.yaml': yamlModel('fromThird') });
    assert.deepEqual(resources((await runCli(['check', '--model', 'other.yaml'], { cwd: dir, env })).out), ['fromOther']);
    assert.deepEqual(resources((await runCli(['check'], { cwd: dir, env: { KILN_MODEL: 'third.yaml' } })).out), ['fromThird']);
  });

  test('a folder without a model file: the error lists the names looked for and how to create one', async () => {
    const dir = folder({ 'README.md': '# nothing here\n' });
    const { code, out, err } = await runCli(['check'], { cwd: dir, env });
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.equal(
      err,
      `kiln check: no model file in ${dir} (looked for kiln.config.ts, kiln.config.mts, kiln.config.cts, kiln.config.js, kiln.config.mjs, kiln.config.cjs, kiln.yaml, kiln.yml, kiln.json)\n` +
        'Create a project with "npx kilnjs init", or name the model file with --model PATH.',
    );
  });

  test('a model file named with --model that does not exist: the file named and "check the path"', async () => {
    const dir = folder({ 'README.md': '# nothing here\n' });
    const { code, err } = await runCli(['check', '--model', 'missing.ts'], { cwd: dir, env });
    assert.equal(code, 1);
    assert.equal(err, `kiln check: ${join(dir, 'missing.ts')}: the model has 1 problem:\n  - (file): the file does not exist\n    fix: check the path`);
  });
});

/**
 * A TypeScript model importing 'kilnjs' (linked to this repository, as `npm install` would put it)
 * loads whatever kind of package surrounds it: tsx compiles it to CommonJS in a "type": "commonjs"
 * package, and the model is then the `default` inside the exports object.
 */
describe('a TypeScript model that imports kilnjs', () => {
  const project = (packageJson?: object) => {
    const dir = folder({ 'kiln.config.ts': tsModel('notes') });
    if (packageJson) writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules/kilnjs'), 'dir');
    return dir;
  };
  const cases: [string, object | undefined][] = [
    ['a CommonJS project ("type": "commonjs")', { name: 'cjs', type: 'commonjs' }],
    ['a package.json without "type" (CommonJS too)', { name: 'plain' }],
    ['a folder without package.json', undefined],
  ];
  for (const [name, packageJson] of cases) {
    test(`loads in ${name}`, async () => {
      const { code, out, err } = await runCli(['check'], { cwd: project(packageJson), env: { KILN_MODEL: undefined } });
      assert.equal(err, '');
      assert.equal(code, 0);
      assert.equal(out.split('\n')[0], 'kiln.config.ts: the model is valid (1 resource)');
      assert.deepEqual(resources(out), ['notes']);
    });
  }
});
