import { dirname, resolve } from 'node:path';
import { FileReadError, readDeclarationFile } from '../config/read-file.js';
import { compileModel } from './compile.js';
import type { Model } from './ir.js';
import { isPlainObject } from './plain-data.js';
import { formatProblems, type ModelProblem } from './problems.js';

export class ModelError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly ModelProblem[],
  ) {
    super(formatProblems(file, problems));
    this.name = 'ModelError';
  }
}

/** Reads a model file (TypeScript, JavaScript, YAML or JSON) and compiles it, or throws ModelError listing every problem. */
export async function loadModel(path: string): Promise<Model> {
  const file = resolve(path);
  return compileOrThrow(file, await readModelDeclaration(file));
}

/**
 * The declaration a model file holds, as written, with the module its `extensions` names imported in
 * its place; a file that cannot be read is a ModelError too.
 */
export async function readModelDeclaration(file: string): Promise<unknown> {
  let declaration: unknown;
  try {
    declaration = await readDeclarationFile(file);
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    const problems =
      error.duplicates.length > 0
        ? error.duplicates.map((d) => ({ path: d.path, message: `written twice (again on line ${d.line})`, hint: error.hint }))
        : [{ path: '(file)', message: error.message, hint: error.hint }];
    throw new ModelError(file, problems);
  }
  return withExtensionsModule(file, declaration);
}

/** `extensions: ./blog-extensions.ts` → that module's default export, read like a TypeScript model file. */
async function withExtensionsModule(file: string, declaration: unknown): Promise<unknown> {
  if (!isPlainObject(declaration) || typeof declaration.extensions !== 'string') return declaration;
  const path = declaration.extensions;
  const problem = (message: string, hint: string) => new ModelError(file, [{ path: 'extensions', message, hint }]);
  if (!/\.(ts|mts|js|mjs)$/.test(path))
    throw problem(`"${path}" is not a TypeScript or JavaScript module`, 'name a .ts or .js file, relative to the model file');
  let module: unknown;
  try {
    module = await readDeclarationFile(resolve(dirname(file), path));
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    const hints: Record<string, string> = {
      'the file does not exist': 'the path is relative to the model file; check it',
      'has no default export': 'export default { hooks: { posts: { … } }, routes: [ … ] }',
    };
    throw problem(`the module "${path}" ${error.message}`, hints[error.message] ?? error.hint);
  }
  if (!isPlainObject(module)) {
    throw problem(`the default export of "${path}" is not an object`, 'export default { hooks: { posts: { … } }, routes: [ … ] }');
  }
  return { ...declaration, extensions: module };
}

export function compileOrThrow(source: string, declaration: unknown): Model {
  const result = compileModel(declaration);
  if (!result.ok) throw new ModelError(source, result.problems);
  return result.model;
}
