/**
 * The models in the access-rule docs compile: each recipe of docs/how-to/access-rules.md (and each
 * whole model of the reference) is written to a file of its own, read the way `kiln serve` reads a
 * model file, and compiled; a YAML model written right after a TypeScript one is the same model; and
 * the TypeScript recipes type-check against Kiln's declaration types, as they would in a project.
 * A recipe that stops working fails here, with its line in the docs, not in a reader's editor.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import ts from 'typescript';
import { compileModel } from '../../src/model/compile.js';
import type { Model } from '../../src/model/ir.js';
import { readModelDeclaration } from '../../src/model/load.js';
import { DOCS } from './markdown-table.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** Recipes import from 'kilnjs' as a project does; here that is this repository's source. */
const KILNJS = resolve(ROOT, 'src/index.js');

interface Block {
  readonly doc: string;
  readonly language: 'ts' | 'yaml';
  /** 1-based line of the opening fence, for failure messages. */
  readonly line: number;
  readonly code: string;
  /** The file the block is written to. */
  readonly file: string;
}

const dir = mkdtempSync(join(tmpdir(), 'kiln-access-recipes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The fenced TypeScript and YAML blocks of a doc, in order, each written to a file. */
function codeBlocks(doc: string): Block[] {
  const blocks: Block[] = [];
  const lines = readFileSync(resolve(DOCS, doc), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
    if (end < 0) throw new Error(`${doc}: the code block opened on line ${i + 1} is never closed`);
    const language = open[1] === 'ts' ? 'ts' : open[1] === 'yaml' ? 'yaml' : undefined;
    if (language) {
      const code = lines.slice(i + 1, end).join('\n');
      // .mts: an ES module wherever the temporary directory is, as a model file of an ESM project.
      const file = join(dir, `${doc.replace(/\W/g, '-')}-line-${i + 1}.${language === 'ts' ? 'mts' : 'yaml'}`);
      writeFileSync(file, language === 'ts' ? code.replace(/from 'kilnjs'/g, `from '${KILNJS}'`) : code);
      blocks.push({ doc, language, line: i + 1, code, file });
    }
    i = end;
  }
  return blocks;
}

/** A whole model file, not a fragment of one (the reference also shows single fields). */
const isModel = (b: Block) => (b.language === 'ts' ? /^export default defineModel\(\{$/m.test(b.code) : /^resources:$/m.test(b.code));
const where = (b: Block) => `docs/${b.doc}:${b.line}`;

const recipes = codeBlocks('how-to/access-rules.md');
const models = [...recipes, ...codeBlocks('reference/access-rules.md').filter(isModel)];

async function compiled(block: Block): Promise<{ model?: Model; problems: unknown[] }> {
  const result = compileModel(await readModelDeclaration(block.file));
  return result.ok ? { model: result.model, problems: [] } : { problems: [...result.problems] };
}

describe('the models of the access-rule docs', () => {
  test('every recipe of the how-to is a whole model file, in TypeScript and for the short ones in YAML too', () => {
    const fragments = recipes.filter((b) => !isModel(b)).map(where);
    assert.deepEqual(fragments, [], 'recipes are complete models a reader can start from');
    assert.ok(recipes.filter((b) => b.language === 'ts').length >= 6, 'a TypeScript model for each of the six recipes');
    assert.ok(recipes.filter((b) => b.language === 'yaml').length >= 3);
  });

  for (const block of models) {
    test(`${where(block)} (${block.language === 'ts' ? 'TypeScript' : 'YAML'}) compiles with no problem`, async () => {
      assert.deepEqual((await compiled(block)).problems, []);
    });
  }

  for (const [i, block] of models.entries()) {
    const before = models[i - 1];
    if (block.language !== 'yaml' || before?.language !== 'ts' || before.doc !== block.doc) continue;
    test(`${where(block)} in YAML is the same model as the TypeScript of ${where(before)}`, async () => {
      const [yaml, typescript] = await Promise.all([compiled(block), compiled(before)]);
      assert.ok(yaml.model && typescript.model);
      assert.deepEqual(yaml.model, typescript.model);
    });
  }

  test('a recipe with a broken rule is reported, so a recipe that compiles means something', async () => {
    const first = recipes[0] as Block;
    const code = first.code.replace("update: 'authorId == auth.id'", "update: 'authorId == auth.name'");
    assert.notEqual(code, first.code, 'the first recipe no longer holds the rule this test breaks: update the test');
    const file = join(dir, 'broken.mts');
    writeFileSync(file, code.replace(/from 'kilnjs'/g, `from '${KILNJS}'`));
    assert.deepEqual((await compiled({ ...first, file })).problems, [
      {
        path: 'resources.posts.access.update',
        message: 'auth has only id and roles, not "name" (at character 18 of "authorId == auth.name")',
        hint: 'fix the condition: the grammar is in docs/reference/access-rules.md',
      },
    ]);
  });

  test('the TypeScript models type-check against the declaration types a project gets', () => {
    const files = models.filter((b) => b.language === 'ts').map((b) => b.file);
    const config = ts.readConfigFile(resolve(ROOT, 'tsconfig.json'), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
    const program = ts.createProgram(files, { ...options, noEmit: true });
    const ours = new Set(files);
    const errors = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && ours.has(d.file.fileName))
      .map((d) => {
        const block = models.find((b) => b.file === d.file?.fileName) as Block;
        const line = (d.file as ts.SourceFile).getLineAndCharacterOfPosition(d.start ?? 0).line;
        return `docs/${block.doc}:${block.line + 1 + line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
      });
    assert.deepEqual(errors, []);
  });
});
