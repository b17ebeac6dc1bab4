import type { Database } from './database.js';

/**
 * A database for assembling the app without serving it (`kiln openapi`): nothing is connected, and a
 * statement sent to it is a bug in what claims to run none, so it is refused loudly.
 */
export function noDatabase(): Database {
  const refuse = () => Promise.reject(new Error('this app was assembled to be described, not served: it has no database'));
  return {
    kind: 'postgres',
    query: refuse,
    transaction: refuse,
    ping: refuse,
    observe: () => () => {},
    onConnectionError: () => () => {},
    close: () => Promise.resolve(),
  };
}
