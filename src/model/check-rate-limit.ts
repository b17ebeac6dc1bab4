/**
 * The `rateLimit` option of a resource: `{ default: '100/min', create: '10/min', list: 'off' }`. Keys
 * are `default` (every operation of the resource without its own entry) and the operations of access
 * rules; values are rates (src/ratelimit/rate.ts) or `off`. Checked here so a typo fails at load,
 * never as a limit silently missing in production.
 */
import { parseRate, type Rate } from '../ratelimit/rate.js';
import { ACCESS_OPERATIONS, type ResourceRateLimits } from './ir.js';
import { shown } from './option-values.js';
import { isPlainObject } from './plain-data.js';
import type { ProblemList } from './problems.js';

export const RATE_LIMIT_KEYS = ['default', ...ACCESS_OPERATIONS] as const;

const EXAMPLE = "rateLimit: { default: '100/min', create: '10/min' }";

export function checkRateLimit(value: unknown, path: string, problems: ProblemList): void {
  if (value === undefined) return;
  if (!isPlainObject(value)) {
    problems.add(path, `rateLimit must be an object of rates by operation, not ${shown(value)}`, `e.g. ${EXAMPLE}`);
    return;
  }
  for (const [key, rate] of Object.entries(value)) {
    if (!(RATE_LIMIT_KEYS as readonly string[]).includes(key)) {
      problems.add(`${path}.${key}`, `unknown rateLimit key "${key}"`, `use one of: ${RATE_LIMIT_KEYS.join(', ')}`);
      continue;
    }
    if (typeof rate !== 'string' || parseRate(rate) === undefined) {
      problems.add(
        `${path}.${key}`,
        `${shown(rate)} is not a rate`,
        `write calls per window, e.g. ${key}: '100/min' (units s, min, h, day; '20/15min' for 20 per 15 minutes; a window of at most one day), or ${key}: 'off'`,
      );
    }
  }
}

/** The IR of a checked `rateLimit`: a Rate, or null for `off`, by key. */
export function rateLimitsOf(value: unknown): ResourceRateLimits | undefined {
  if (!isPlainObject(value)) return undefined;
  const out: Partial<Record<(typeof RATE_LIMIT_KEYS)[number], Rate | null>> = {};
  for (const key of RATE_LIMIT_KEYS) {
    const text = value[key];
    if (typeof text === 'string') out[key] = parseRate(text) ?? null;
  }
  return out;
}
