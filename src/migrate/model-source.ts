import { resolve } from 'node:path';
import { FileReadError, readDeclarationFile } from '../config/read-file.js';
import type { Model } from '../model/ir.js';
import { compileOrThrow, ModelError } from '../model/load.js';

export interface ModelSource {
  readonly model: Model;
  /** The declaration as written: migrations read its `renamedFrom` hints, which the compiled model leaves out. */
  readonly declaration: unknown;
}

/** loadModel, keeping the declaration too. */
export async function loadModelSource(path: string): Promise<ModelSource> {
  const file = resolve(path);
  let declaration: unknown;
  try {
    declaration = await readDeclarationFile(file);
  } catch (error) {
    if (error instanceof FileReadError) throw new ModelError(file, [{ path: '(file)', message: error.message, hint: error.hint }]);
    throw error;
  }
  return { model: compileOrThrow(file, declaration), declaration };
}
