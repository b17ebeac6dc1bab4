/**
 * Kiln's own code: src/ and dist/ of the kilnjs package. A project that links kilnjs (npm link,
 * `npm install ../kiln`) reaches these files by their real path, outside node_modules, so "in
 * node_modules" alone does not tell them from the project's.
 */
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const KILN_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const KILN_CODE = [resolve(KILN_ROOT, 'src') + sep, resolve(KILN_ROOT, 'dist') + sep];

export function isKilnCode(path: string): boolean {
  return KILN_CODE.some((folder) => path.startsWith(folder));
}
