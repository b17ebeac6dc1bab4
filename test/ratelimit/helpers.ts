/** Assertions shared by the rate-limit suites. */
import assert from 'node:assert/strict';
import type { TestResponse } from '../helpers/server.js';

/** `RateLimit: "<policy>";r=<remaining>;t=<seconds>`, t (until the caller's bucket is full again) being 1 to the window. */
export function assertState(res: TestResponse | Response, policy: string, remaining: number, windowS: number): void {
  const field = res.headers.get('ratelimit') ?? '';
  const match = new RegExp(`^"${policy.replace('.', '\\.')}";r=${remaining};t=(\\d+)$`).exec(field);
  assert.ok(match, `RateLimit is ${JSON.stringify(field)}, expected "${policy}";r=${remaining};t=…`);
  const t = Number(match[1]);
  assert.ok(t >= 1 && t <= windowS, `t=${t} is outside 1..${windowS}`);
}

/** The exact 429 problem of a policy used up, and its headers; returns Retry-After. */
export async function expectLimited(res: TestResponse | Response, policy: string, words: string, quota: string): Promise<number> {
  const text = await res.text();
  assert.equal(res.status, 429, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${res.headers.get('retry-after')}`);
  assert.deepEqual(JSON.parse(text), {
    type: 'https://kiln.dev/errors/KILN_RATE_LIMITED',
    title: 'Too many requests',
    status: 429,
    detail: `the rate limit "${policy}" (${words} per caller) is used up; retry in ${retryAfter} seconds`,
    code: 'KILN_RATE_LIMITED',
    instance: res.headers.get('x-request-id'),
  });
  assert.equal(res.headers.get('ratelimit-policy'), quota);
  assertState(res, policy, 0, Number(/;w=(\d+)/.exec(quota)?.[1]));
  // A token bucket: the refused call fits again once enough tokens are back (Retry-After), the bucket is full by t.
  const t = Number(/;t=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1]);
  assert.ok(retryAfter <= t, `Retry-After ${retryAfter} is at most t=${t}`);
  return retryAfter;
}
