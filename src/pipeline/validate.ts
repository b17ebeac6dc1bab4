/**
 * Stage "validate": the arguments of a call, checked against the model and the limits in force before
 * anything is authorised or run. Read arguments become a typed query (src/core/list-query.ts); bodies
 * are checked by the compiled validators (src/core/input.ts); ids by the resource's id type. Every
 * transport and every direct caller goes through here, so none can exceed a limit or write a field
 * the model does not let a client write.
 */
import { type FieldsOf, NO_FIELD_LIMITS, readableFor } from '../access/field-access.js';
import type { CompiledResource } from '../core/compiled-model.js';
import { KilnError } from '../core/errors.js';
import type { Variant, WriteInput } from '../core/input.js';
import { validationFailed } from '../core/input.js';
import type { Limits } from '../core/limits.js';
import { buildListQuery, buildSelection, type QueryEnvironment } from '../core/list-query.js';
import type { ListQuery, Selection } from '../core/query.js';
import { itemConflicts } from '../core/write-errors.js';
import type { ListArgs, SelectionArgs } from './parse.js';

const BIGINT_ID = /^[1-9]\d{0,15}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `fieldsOf`: the caller's field rules, for every resource the query reaches. */
export function validateList(
  env: QueryEnvironment,
  r: CompiledResource,
  args: ListArgs,
  limits: Limits,
  fieldsOf: FieldsOf = NO_FIELD_LIMITS,
  caller = '',
): ListQuery {
  return buildListQuery(env, r.resource, args, limits, fieldsOf, caller);
}

export function validateSelection(
  env: QueryEnvironment,
  r: CompiledResource,
  args: SelectionArgs | undefined,
  limits: Limits,
  fieldsOf: FieldsOf = NO_FIELD_LIMITS,
): Selection {
  if (args === undefined || (args.fields === undefined && !args.include?.length && !args.problems?.length)) {
    const access = fieldsOf(r.resource);
    return !access || access.unreadable.size === 0 ? r.everyField : { fields: readableFor(r, access), include: [] };
  }
  return buildSelection(env, r.resource, args, limits, fieldsOf);
}

/** A record id of the resource's id type: a positive integer (or its digits) or a UUID. */
export function validateId(r: CompiledResource, raw: unknown): number | string {
  const resource = r.resource;
  if (resource.idType === 'uuid') {
    if (typeof raw === 'string' && UUID.test(raw)) return raw.toLowerCase();
  } else if (typeof raw === 'number') {
    if (Number.isSafeInteger(raw) && raw >= 1) return raw;
  } else if (typeof raw === 'string' && BIGINT_ID.test(raw) && Number(raw) <= Number.MAX_SAFE_INTEGER) {
    return Number(raw);
  }
  const expected = resource.idType === 'uuid' ? 'a UUID' : 'a positive integer';
  throw new KilnError('KILN_PATH_INVALID', {
    detail: `"${String(raw).slice(0, 40)}" is not a valid ${resource.singular} id: expected ${expected}`,
    errors: [{ path: 'id', code: 'type', message: `expected ${expected}` }],
  });
}

/**
 * `kept`: fields the caller may not write. A replace keeps their stored values (src/core/operations.ts),
 * so they are not required of its body either: the caller could not send them.
 */
export function validateRecord(r: CompiledResource, variant: Variant, body: unknown, kept?: ReadonlySet<string>): WriteInput {
  if (body === undefined) throw new KilnError('KILN_BODY_MISSING', { detail: 'this request needs a JSON body' });
  if (variant !== 'Replace' || !kept || kept.size === 0) return r.input.parse(variant, body);
  const { errors, input } = r.input.check(variant, body, '');
  if (input) return input;
  const remaining = errors.filter((e) => !(e.code === 'required' && kept.has(e.path.slice(1))));
  if (remaining.length > 0) throw validationFailed(remaining);
  // Only kept fields were missing: the body is a valid replace of everything else, which Update's checks
  // accept as is, but for an empty body (Update asks for one field at least): a replace resets every field.
  if (Object.keys(body as object).length === 0) return { values: {}, links: new Map() };
  return r.input.parse('Update', body);
}

/** The records of a bulk create: an array of 1 to bulkMaxItems, every problem reported with its item's index. */
export function validateRecords(r: CompiledResource, body: unknown, limits: Limits): WriteInput[] {
  if (body === undefined) throw new KilnError('KILN_BODY_MISSING', { detail: 'this request needs a JSON body' });
  const max = limits.bulkMaxItems;
  if (!Array.isArray(body) || body.length === 0 || body.length > max) {
    throw validationFailed([{ path: '/', code: 'type', message: `the body must be an array of 1 to ${max} ${r.resource.singular} records` }]);
  }
  const inputs: WriteInput[] = [];
  const errors = body.flatMap((item, i) => {
    const checked = r.input.check('Create', item, `/${i}`);
    if (checked.input) inputs.push(checked.input);
    return checked.errors;
  });
  if (errors.length > 0) throw validationFailed(errors);
  const conflict = itemConflicts(
    r.resource,
    inputs.map((i) => i.values),
  );
  if (conflict) throw conflict;
  return inputs;
}
