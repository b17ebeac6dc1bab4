/**
 * Stage "rate-limit": whether the caller may make this call now. Limiters run in order before the
 * call is validated; one that refuses throws KILN_RATE_LIMITED (429) with `Retry-After`. Kiln's own
 * limits (per account, per IP, per operation) plug in here; with none configured the stage is free.
 */
import type { RequestContext } from './context.js';
import type { ListArgs, SelectionArgs } from './parse.js';

/** The operations every transport calls, by name. */
export type OperationName = 'list' | 'get' | 'create' | 'createMany' | 'update' | 'replace' | 'remove' | 'setLinks';

export interface RateLimitCall {
  readonly ctx: RequestContext;
  readonly operation: OperationName;
  readonly resource: string;
  /** What a read asked for, not yet validated (a cost-aware limiter weighs the page and the includes). */
  readonly args?: ListArgs | SelectionArgs;
  /** The records a bulk create sent, not yet validated. */
  readonly items?: number;
}

export type RateLimiter = (call: RateLimitCall) => void | Promise<void>;

/** Runs every limiter; synchronous unless one of them is not. */
export function rateLimit(limiters: readonly RateLimiter[], call: RateLimitCall): void | Promise<void> {
  for (let i = 0; i < limiters.length; i++) {
    const pending = (limiters[i] as RateLimiter)(call);
    if (pending instanceof Promise) return pending.then(() => rateLimit(limiters.slice(i + 1), call));
  }
}
