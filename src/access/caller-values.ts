/**
 * `default: auth.id`: a field the server fills on create with the caller's id, so "the author is
 * whoever creates the post" needs no code. The client cannot send it (the field is read-only in the
 * API); an anonymous caller has no id to give, so a create that needs one asks them to sign in.
 */
import type { CompiledResource } from '../core/compiled-model.js';
import { KilnError } from '../core/errors.js';
import type { WriteInput } from '../core/input.js';
import type { Principal } from '../pipeline/context.js';

export function withCallerValues(r: CompiledResource, inputs: readonly WriteInput[], principal: Principal): WriteInput[] {
  const fields = r.fromCaller;
  if (fields.length === 0 || principal.kind === 'system') return inputs as WriteInput[];
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    if (principal.id === null) {
      if (field.nullable) {
        values[field.name] = null;
        continue;
      }
      throw new KilnError('KILN_UNAUTHENTICATED', { detail: `sign in to create ${r.resource.name}: ${field.name} is set to the signed-in caller's id` });
    }
    const id = String(principal.id);
    if (
      (field.type === 'bigint' && !/^\d{1,19}$/.test(id)) ||
      (field.type === 'uuid' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    ) {
      throw new KilnError('KILN_FORBIDDEN', {
        detail: `${r.resource.name}.${field.name} is set to the id of the account creating it, and this credential's identity is not such an id`,
      });
    }
    values[field.name] = field.type === 'bigint' ? id : principal.id;
  }
  return inputs.map((input) => ({ values: { ...input.values, ...values }, links: input.links }));
}
