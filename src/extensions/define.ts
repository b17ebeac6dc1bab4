/**
 * Typed identity helpers for the app's code, like defineModel for the data: they give editor
 * completion and return what they are given, for the loader to check.
 */
import type { ExtensionsDeclaration, RecordShape, ResourceHooks, RouteDefinition } from './types.js';

/**
 * A custom route. Type the parts the schemas describe with the type parameters:
 * `defineRoute<{ id: string }>({ method: 'POST', path: '/posts/:id/publish', … })`.
 */
export function defineRoute<P = Record<string, string>, Q = Record<string, string | string[]>, B = unknown>(
  route: RouteDefinition<P, Q, B>,
): RouteDefinition<P, Q, B> {
  return route;
}

/** The hooks of one resource, written apart from the model (an extensions module): `I` is the input's shape, `R` the record's. */
export function defineHooks<I extends RecordShape = RecordShape, R extends RecordShape = RecordShape>(hooks: ResourceHooks<I, R>): ResourceHooks<I, R> {
  return hooks;
}

/** The default export of an extensions module, which a YAML or JSON model names with `extensions: ./file.ts`. */
export function defineExtensions(extensions: ExtensionsDeclaration): ExtensionsDeclaration {
  return extensions;
}
