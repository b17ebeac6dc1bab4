/**
 * A resource's `cache` option (the response cache, docs/how-to/caching.md): `false` never caches its
 * reads, `true` uses KILN_CACHE_TTL, `{ ttl: seconds }` caches them that long whatever KILN_CACHE_TTL
 * says (`{ ttl: 0 }` is the same as `false`).
 */
import type { Resource } from './ir.js';
import { shown, type ValueCheck } from './option-values.js';
import { isPlainObject } from './plain-data.js';

/** The longest a resource may keep a cached read: one day. */
export const MAX_CACHE_TTL = 86_400;

const HINT = 'write cache: false, cache: true, or cache: { ttl: 30 } (seconds)';

export const cacheOption: ValueCheck = (value) => {
  if (typeof value === 'boolean') return undefined;
  if (!isPlainObject(value)) return { message: `cache must be true, false or { ttl }, not ${shown(value)}`, hint: HINT };
  const unknown = Object.keys(value).find((key) => key !== 'ttl');
  if (unknown !== undefined) return { message: `unknown cache option "${unknown}"`, hint: HINT };
  const ttl = value.ttl;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > MAX_CACHE_TTL) {
    return { message: `cache.ttl must be a whole number of seconds from 0 to ${MAX_CACHE_TTL}, not ${shown(ttl)}`, hint: HINT };
  }
  return undefined;
};

/** The IR of a checked `cache` option. */
export function cacheOf(value: unknown): Pick<Resource, 'cache'> {
  if (value === false) return { cache: false };
  if (isPlainObject(value) && typeof value.ttl === 'number') return { cache: value.ttl === 0 ? false : { ttl: value.ttl } };
  return {};
}
