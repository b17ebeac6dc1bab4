/**
 * The codes a resource's hooks may refuse with (`hooks: { errors: [...] }`) on the generated
 * operations those hooks run on: a before-hook's on its write, afterRead's on the reads. After-hooks
 * cannot change the answer, so they add none. Without this, an app code answered by a generated
 * route would not be in the document, and its `code` not in the Problem schema's list.
 */
import { ERRORS, type ErrorCode } from '../core/errors.js';
import type { JsonSchema } from '../core/schemas.js';
import type { HookName, ResourceHooks } from '../extensions/types.js';
import type { OperationErrors } from './access.js';
import { withOwnCodes } from './custom-paths.js';

const HOOKS_OF_METHOD: Readonly<Record<string, readonly HookName[]>> = {
  get: ['afterRead'],
  post: ['beforeCreate'],
  patch: ['beforeUpdate'],
  put: ['beforeUpdate'],
  delete: ['beforeDelete'],
};

export function addHookCodes(
  items: Record<string, JsonSchema>,
  hooks: ResourceHooks | undefined,
  context: { errors: OperationErrors; schemas: Record<string, JsonSchema> },
): void {
  const codes = hooks?.errors ?? [];
  if (!hooks || codes.length === 0) return;
  const builtIn = codes.filter((code): code is ErrorCode => Object.hasOwn(ERRORS, code));
  const own = codes.filter((code) => !Object.hasOwn(ERRORS, code));
  for (const item of Object.values(items)) {
    for (const [method, operation] of Object.entries(item as Record<string, JsonSchema>)) {
      if (!HOOKS_OF_METHOD[method]?.some((name) => hooks[name] !== undefined)) continue;
      const responses = operation.responses as Record<string, JsonSchema>;
      // The statuses the operation answers already keep their description; a new one is added.
      operation.responses = withOwnCodes({ ...context.errors.for(builtIn, []), ...responses }, own, context);
    }
  }
}
