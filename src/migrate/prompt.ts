import { createInterface } from 'node:readline/promises';
import type { Asker } from './renames.js';

/**
 * Asks questions on a terminal; undefined when stdin is not one (CI), so nothing waits for an answer.
 * The terminal stays in its ordinary line mode (`terminal: false`): Ctrl+C is then the signal it
 * always is, which stops `kiln migrate generate` or shuts `kiln dev` down, rather than a keypress the
 * prompt would swallow.
 */
export function terminalAsker(
  input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
  /** Ends an open question (kiln dev shutting down), which then rejects with an AbortError. */
  signal?: AbortSignal,
): Asker | undefined {
  if (!input.isTTY) return undefined;
  const ask = async (question: string) => {
    const rl = createInterface({ input, output, terminal: false });
    try {
      return await rl.question(question, signal ? { signal } : {});
    } finally {
      rl.close();
    }
  };
  return {
    confirm: async (question) => isYes(await ask(`${question} [y/N] `)),
    text: async (question) => (await ask(`${question} `)).trim(),
  };
}

export function isYes(answer: string): boolean {
  return /^\s*y(es)?\s*$/i.test(answer);
}
