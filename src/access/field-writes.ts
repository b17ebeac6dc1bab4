/**
 * Field write rules on a request body: a body that sets a field the caller may not write is refused
 * whole, with 403 naming every such field, before any SQL runs. Dropping the field and writing the
 * rest would tell the client its change was made when it was not.
 */
import { type FieldError, KilnError } from '../core/errors.js';
import type { WriteInput } from '../core/input.js';
import type { FieldAccess } from '../pipeline/authorize.js';

/** `bulk`: the bodies are the items of one bulk create, and paths start with the item's index. */
export function refuseUnwritable(access: FieldAccess | undefined, inputs: readonly WriteInput[], bulk: boolean): void {
  if (!access || access.unwritable.size === 0) return;
  const errors: FieldError[] = [];
  inputs.forEach((input, i) => {
    for (const field of Object.keys(input.values)) {
      if (access.unwritable.has(field)) {
        errors.push({ path: `${bulk ? `/${i}` : ''}/${field}`, code: 'forbidden', message: `you may not write "${field}"` });
      }
    }
  });
  if (errors.length === 0) return;
  const first = errors[0] as FieldError;
  const detail = errors.length === 1 ? `${first.path}: ${first.message}` : `the body sets ${errors.length} fields you may not write`;
  throw new KilnError('KILN_FORBIDDEN', { detail, errors });
}
