import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
