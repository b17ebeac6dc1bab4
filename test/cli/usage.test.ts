import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { COMMANDS, commandUsage, generalUsage, type Invocation } from '../../src/cli/usage.js';

/** Runs the CLI in-process and captures what it prints (console only: the test runner owns stdout). */
async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...args: unknown[]) => out.push(args.join(' '));
  console.error = (...args: unknown[]) => err.push(args.join(' '));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const SIMPLE: Invocation[] = ['serve', 'dev', 'check', 'openapi'];

describe('kiln usage and argument errors', () => {
  test('no command prints the usage and exits 1; --help, -h and help exit 0', async () => {
    assert.deepEqual(await runCli([]), { code: 1, out: generalUsage(), err: '' });
    for (const flag of ['--help', '-h', 'help']) assert.deepEqual(await runCli([flag]), { code: 0, out: generalUsage(), err: '' }, flag);
    for (const name of Object.keys(COMMANDS)) assert.match(generalUsage(), new RegExp(`\\n  ${name} +\\S`), `the usage lists ${name}`);
  });

  test('--help on each command prints its options and exits 0', async () => {
    for (const name of SIMPLE) {
      for (const flag of ['--help', '-h']) {
        const result = await runCli([name, flag]);
        assert.deepEqual(result, { code: 0, out: commandUsage(name), err: '' }, `${name} ${flag}`);
      }
      assert.match(commandUsage(name), new RegExp(`^Usage: kiln ${name} \\[options\\]\\n`));
      assert.match(commandUsage(name), /--model PATH/);
      assert.match(commandUsage(name), /-h, --help/);
    }
    assert.match(commandUsage('serve'), /--port N/);
    assert.match(commandUsage('serve'), /--seed PATH/);
    assert.doesNotMatch(commandUsage('check'), /--port/);
  });

  test('an unknown command exits 2 with one line naming it, then the usage', async () => {
    const result = await runCli(['srve', '--model', 'x.ts']);
    assert.equal(result.code, 2);
    assert.equal(result.out, '');
    assert.equal(result.err, `kiln: unknown command "srve"\n\n${generalUsage()}`);
  });

  test('an unknown flag, or a flag the command does not take, exits 2 naming it, then the command usage', async () => {
    const cases: [string[], string][] = [
      [['serve', '--nope'], "kiln serve: Unknown option '--nope'"],
      [['check', '--port', '3000'], "kiln check: Unknown option '--port'"],
      [['openapi', '--seed', 'x.json'], "kiln openapi: Unknown option '--seed'"],
      [['check', 'extra-positional'], "kiln check: Unexpected argument 'extra-positional'"],
    ];
    for (const [argv, line] of cases) {
      const result = await runCli(argv);
      assert.equal(result.code, 2, argv.join(' '));
      assert.equal(result.out, '');
      const [first, blank, ...usage] = result.err.split('\n');
      assert.equal(first, line);
      assert.equal(blank, '');
      assert.equal(usage.join('\n'), commandUsage(argv[0] as Invocation));
    }
  });

  test('a flag without its value, or a bad --port, exits 2', async () => {
    const missing = await runCli(['check', '--model']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /^kiln check: Option '--model <value>' argument missing\n/);
    const dashed = await runCli(['serve', '--port', '-1']);
    assert.equal(dashed.code, 2);
    assert.equal(dashed.err, `kiln serve: Option '--port' argument is ambiguous\n\n${commandUsage('serve')}`, 'one line, then the usage');
    for (const port of ['abc', '70000', '1.5', '']) {
      const result = await runCli(['serve', '--port', port]);
      assert.equal(result.code, 2, port);
      assert.equal(result.err, `kiln serve: --port must be a whole number from 0 to 65535\n\n${commandUsage('serve')}`);
    }
  });
});
