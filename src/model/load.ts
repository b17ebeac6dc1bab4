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
  let declaration: unknown;
  try {
    declaration = await readDeclarationFile(file);
  } catch (error) {
    if (error instanceof FileReadError) throw new ModelError(file, [{ path: '(file)', message: error.message, hint: error.hint }]);
    throw error;
  }
  return compileOrThrow(file, declaration);
}

export function compileOrThrow(source: string, declaration: unknown): Model {
  const result = compileModel(declaration);
  if (!result.ok) throw new ModelError(source, result.problems);
  return result.model;
}
