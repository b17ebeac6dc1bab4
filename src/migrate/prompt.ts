import { createInterface } from 'node:readline/promises';
import type { Asker } from './renames.js';

/** Asks yes/no questions on a terminal; undefined when stdin is not one (CI), so nothing waits for an answer. */
export function terminalAsker(
  input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Asker | undefined {
  if (!input.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input, output });
    try {
      return isYes(await rl.question(`${question} [y/N] `));
    } finally {
      rl.close();
    }
  };
}

export function isYes(answer: string): boolean {
  return /^\s*y(es)?\s*$/i.test(answer);
}
