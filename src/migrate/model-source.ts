import { resolve } from 'node:path';
import type { Model } from '../model/ir.js';
import { compileOrThrow, readModelDeclaration } from '../model/load.js';

export interface ModelSource {
  readonly model: Model;
  /** The declaration as written: migrations read its `renamedFrom` hints, which the compiled model leaves out. */
  readonly declaration: unknown;
}

/** loadModel, keeping the declaration too. */
export async function loadModelSource(path: string): Promise<ModelSource> {
  const file = resolve(path);
  const declaration = await readModelDeclaration(file);
  return { model: compileOrThrow(file, declaration), declaration };
}
