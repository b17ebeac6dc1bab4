import type { CliOptions } from './main.js';

/** `kiln init [DIR]`: scaffolds a new project. */
export async function runInit(_options: CliOptions): Promise<number> {
  console.error('kiln init: not built yet');
  return 1;
}
