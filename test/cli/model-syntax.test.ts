import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { main } from '../../src/cli/main.js';

async function check(path: string): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const { log, error } = console;
  console.log = () => {};
  console.error = (...args: unknown[]) => err.push(args.join(' '));
  try {
    return { code: await main(['check', '--model', path]), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('a TypeScript model with a syntax error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-syntax-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('names the file, line and column in one line, without a stack', async () => {
    const path = join(dir, 'kiln.config.ts');
    writeFileSync(path, "export default {\n  resources: {\n    posts: { fields: { title: 'string' } },\n  },\n  x: 1 +,\n};\n");
    const { code, err } = await check(path);
    assert.equal(code, 1);
    assert.equal(
      err,
      `kiln check: ${path}: the model has 1 problem:\n  - (file): syntax error at ${path}:5:8: Unexpected ","\n    fix: fix the syntax at that line and column`,
    );
  });
});

describe('a model file that throws while it loads (a typo, not a syntax error)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-throws-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const source =
    "const field = { string: () => ({ type: 'string' }) };\n\nexport default {\n  resources: {\n    posts: { fields: { title: (field as any).strin() } },\n  },\n};\n";

  /** Checks the throwing model in a project of the given module type. */
  async function checkIn(type: 'module' | 'commonjs'): Promise<{ path: string; code: number; err: string }> {
    const project = join(dir, type);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), `{"type":"${type}"}\n`);
    const path = join(project, 'kiln.config.ts');
    writeFileSync(path, source);
    return { path, ...(await check(path)) };
  }

  test('in an ES module project: the message says what failed and where, not "syntax error"', async () => {
    const { path, code, err } = await checkIn('module');
    assert.equal(code, 1);
    assert.equal(
      err,
      `kiln check: ${path}: the model has 1 problem:\n  - (file): failed while loading at ${path}:5:46: field.strin is not a function\n    fix: fix the code that throws: the file runs each time the model is loaded`,
    );
  });

  test('in a CommonJS project, whose compiled text has no positions of the file: what failed, and no wrong place', async () => {
    const { code, err } = await checkIn('commonjs');
    assert.equal(code, 1);
    assert.match(
      err,
      /^kiln check: .*: the model has 1 problem:\n {2}- \(file\): failed while loading: \S*field\.strin is not a function\n {4}fix: fix the code that throws/,
    );
  });
});
