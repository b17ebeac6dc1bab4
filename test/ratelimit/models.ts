/** Small models for the rate-limit suites: limits of their own on `notes`, the global one elsewhere. */
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow } from '../../src/model/load.js';
import type { Authenticator } from '../../src/pipeline/authenticate.js';

/** `notes`: 3 creates a minute, reads under its own 5 a minute; `tags`: under KILN_RATE_LIMIT. */
export function notesModel(rateLimit: Record<string, string> = { default: '5/min', create: '3/min' }): Model {
  return compileOrThrow('rate-limit test model', {
    resources: {
      notes: { fields: { title: { type: 'string', maxLength: 100 } }, rateLimit },
      tags: { fields: { name: { type: 'string', maxLength: 50 } } },
    },
  });
}

/**
 * Callers without an identity provider: `x-test-caller: account:1` or `apiKey:7` names the principal
 * (the way Kiln's own authenticators name accounts and API keys); anything else is anonymous.
 */
export const testCallers: Authenticator = ({ headers }) => {
  const named = headers['x-test-caller'];
  if (typeof named !== 'string') return undefined;
  const [kind, id] = named.split(':');
  if (kind !== 'account' && kind !== 'apiKey') return undefined;
  return { kind, id: Number(id), roles: ['authenticated'] };
};
