import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The names `kiln` looks for, in order, when neither --model nor KILN_MODEL names the model file. */
export const MODEL_FILE_NAMES = [
  'kiln.config.ts',
  'kiln.config.mts',
  'kiln.config.cts',
  'kiln.config.js',
  'kiln.config.mjs',
  'kiln.config.cjs',
  'kiln.yaml',
  'kiln.yml',
  'kiln.json',
] as const;

/** The first model file of MODEL_FILE_NAMES in `dir`; `kiln.config.ts` when there is none, so the error names the usual file. */
export function defaultModelPath(dir: string = process.cwd()): string {
  return MODEL_FILE_NAMES.find((name) => existsSync(join(dir, name))) ?? 'kiln.config.ts';
}
