import { KilnError } from '../core/errors.js';
import type { Resource } from '../model/ir.js';

const BIGINT_ID = /^[1-9]\d{0,15}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Validates `:id` against the resource's id type before any SQL runs. */
export function parsePathId(resource: Resource, raw: string): number | string {
  if (resource.idType === 'uuid') {
    if (UUID.test(raw)) return raw.toLowerCase();
  } else if (BIGINT_ID.test(raw) && Number(raw) <= Number.MAX_SAFE_INTEGER) {
    return Number(raw);
  }
  const expected = resource.idType === 'uuid' ? 'a UUID' : 'a positive integer';
  throw new KilnError('KILN_PATH_INVALID', {
    detail: `"${raw.slice(0, 40)}" is not a valid ${resource.name} id: expected ${expected}`,
    errors: [{ path: 'id', code: 'type', message: `expected ${expected}` }],
  });
}
