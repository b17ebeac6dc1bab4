import { resolveSettings } from '../../src/config/settings.js';
import type { Model } from '../../src/model/ir.js';
import { buildOpenApi, type DocumentOptions } from '../../src/openapi/document.js';

/** The document options of the settings from `env` (defaults otherwise), as `kiln openapi` passes them. */
export function documentOptions(env: NodeJS.ProcessEnv = {}): DocumentOptions {
  const settings = resolveSettings(env);
  return { prefix: settings.apiPrefix, publicUrl: settings.publicUrl, problemTypeBase: settings.problemTypeBase, limits: settings };
}

/** The document of a model, built without a server (what `kiln openapi` prints). */
export function documentOf(model: Model, env: NodeJS.ProcessEnv = {}): any {
  return buildOpenApi(model, documentOptions(env));
}
