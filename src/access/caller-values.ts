/**
 * `default: auth.id`: a field the server fills on create with the caller's id, so "the author is
 * whoever creates the post" needs no code. The client cannot send it (the field is read-only in the
 * API); an anonymous caller has no id to give, so a create that needs one asks them to sign in.
 */
import type { CompiledResource } from '../core/compiled-model.js';
import { KilnError } from '../core/errors.js';
import { UUID } from '../core/filter-values.js';
import type { WriteInput } from '../core/input.js';
import type { ColumnField } from '../model/ir.js';
import type { Principal } from '../pipeline/context.js';

const MAX_BIGINT = 2n ** 63n - 1n;

/**
 * The caller's id as a value of `field`, as text; undefined when it cannot be one: an external
 * subject (`auth0|123`, or digits beyond PostgreSQL's bigint) next to a bigint key, or any text next
 * to a uuid. A rule then matches no row, where the database would have failed on the value.
 */
export function callerIdAs(field: Pick<ColumnField, 'type'>, id: string | number): string | undefined {
  const text = String(id);
  switch (field.type) {
    case 'bigint':
      // Kiln's ids start at 1: a sign is never part of one.
      return /^\d{1,19}$/.test(text) && BigInt(text) <= MAX_BIGINT ? text : undefined;
    case 'uuid':
      return UUID.test(text) ? text : undefined;
    default:
      return text;
  }
}

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
    const id = callerIdAs(field, principal.id);
    if (id === undefined) {
      throw new KilnError('KILN_FORBIDDEN', {
        detail: `${r.resource.name}.${field.name} is set to the id of the account creating it, and this credential's identity is not such an id`,
      });
    }
    // A bigint as the API carries it (a number while it is exact), as a client's body would: hooks see one shape.
    values[field.name] = field.type === 'bigint' && Number.isSafeInteger(Number(id)) ? Number(id) : id;
  }
  return inputs.map((input) => ({ values: { ...input.values, ...values }, links: input.links }));
}
