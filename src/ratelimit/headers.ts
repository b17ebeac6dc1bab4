/**
 * The RateLimit-Policy and RateLimit fields of draft-ietf-httpapi-ratelimit-headers, in their
 * structured-field form: `RateLimit-Policy: "default";q=100;w=60` (quota q per window w seconds) and
 * `RateLimit: "default";r=42;t=17` (r calls left now, the caller's token bucket is full again in t
 * seconds). A response lists every policy that counted a call of its request (a GraphQL document may
 * call several), one item each.
 */
import type { ResponseHeaders } from '../pipeline/context.js';
import type { Policy } from './policies.js';

export interface PolicyState {
  readonly policy: Policy;
  readonly remaining: number;
  /** Seconds until the caller's bucket is full again. */
  readonly resetS: number;
}

export const policyItem = (policy: Policy): string => `"${policy.name}";q=${policy.rate.points};w=${policy.rate.windowS}`;
export const stateItem = (state: PolicyState): string => `"${state.policy.name}";r=${state.remaining};t=${state.resetS}`;

/** The states reported so far to one answer, by policy name. */
const reported = new WeakMap<ResponseHeaders, Map<string, PolicyState>>();

/** Records `state` for the answer and (re)writes both fields with every policy reported to it. */
export function report(response: ResponseHeaders | undefined, state: PolicyState): Record<string, string> {
  let items: PolicyState[] = [state];
  if (response) {
    const states = reported.get(response) ?? new Map<string, PolicyState>();
    reported.set(response, states.set(state.policy.name, state));
    items = [...states.values()];
  }
  const fields = { 'ratelimit-policy': items.map((s) => policyItem(s.policy)).join(', '), ratelimit: items.map(stateItem).join(', ') };
  response?.set('ratelimit-policy', fields['ratelimit-policy']);
  response?.set('ratelimit', fields.ratelimit);
  return fields;
}
