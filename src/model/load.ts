import { resolve } from 'node:path';
import { FileReadError, readDeclarationFile } from '../config/read-file.js';
import { compileModel } from './compile.js';
import type { Model } from './ir.js';
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

/** The declaration a model file holds, as written; a file that cannot be read is a ModelError too. */
export async function readModelDeclaration(file: string): Promise<unknown> {
  try {
    return await readDeclarationFile(file);
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    const problems =
      error.duplicates.length > 0
        ? error.duplicates.map((d) => ({ path: d.path, message: `written twice (again on line ${d.line})`, hint: error.hint }))
        : [{ path: '(file)', message: error.message, hint: error.hint }];
    throw new ModelError(file, problems);
  }
}

export function compileOrThrow(source: string, declaration: unknown): Model {
  const result = compileModel(declaration);
  if (!result.ok) throw new ModelError(source, result.problems);
  return result.model;
}
