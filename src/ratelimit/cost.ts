/**
 * What one call weighs with KILN_RATE_LIMIT_COST_ROWS set: ⌈rows ÷ unit⌉ × (1 + included relations).
 * `rows` is the page asked (`limit`, the default page size without one, never above the largest page),
 * the records of a bulk create, or 1; every relation included, at any depth, multiplies the work once
 * more. The weight never exceeds the policy's whole budget, so one call always fits in an empty window.
 * Computed before the call is validated, from what the caller asked: a malformed limit weighs as the
 * default page, and the validate stage refuses it afterwards.
 */
import type { IncludeArg, ListArgs } from '../pipeline/parse.js';
import type { RateLimitCall } from '../pipeline/rate-limit.js';

export function costOf(call: RateLimitCall, unitRows: number, budget: number): number {
  if (unitRows <= 0) return 1;
  const rows = rowsOf(call);
  const includes = countIncludes(call.args?.include, 0);
  return Math.min(budget, Math.ceil(rows / unitRows) * (1 + includes));
}

function rowsOf(call: RateLimitCall): number {
  switch (call.operation) {
    case 'list': {
      const { pageDefaultLimit, pageMaxLimit } = call.ctx.limits;
      const asked = (call.args as ListArgs | undefined)?.limit;
      return typeof asked === 'number' && Number.isFinite(asked) && asked >= 1 ? Math.min(Math.floor(asked), pageMaxLimit) : pageDefaultLimit;
    }
    case 'createMany':
      return Math.min(Math.max(1, call.items ?? 1), call.ctx.limits.bulkMaxItems);
    default:
      return 1;
  }
}

/** Included relations at every depth; stops counting past a bound no valid request reaches (the validate stage refuses deeper ones). */
function countIncludes(includes: readonly IncludeArg[] | undefined, depth: number): number {
  if (!Array.isArray(includes) || depth > 10) return 0;
  let count = 0;
  for (const include of includes) count += 1 + countIncludes(include?.include, depth + 1);
  return Math.min(count, 1000);
}
