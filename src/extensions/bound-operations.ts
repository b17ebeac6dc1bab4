/**
 * The operations bound to one transaction, as a before-hook gets them: each call runs the same stages
 * as any other (rate-limit, validate, authorize, execute, hooks), inside the hook's transaction, so
 * what the hook reads includes the transaction's own writes and what it writes commits or rolls back
 * with the write that ran it.
 */
import type { Operations } from '../core/operations.js';
import type { Queryable } from '../db/database.js';
import type { TransactionOperations } from './types.js';

export function bindOperations(ops: Operations, tx: Queryable): TransactionOperations {
  const options = { tx };
  return Object.freeze({
    tx,
    list: (ctx, resource, args) => ops.list(ctx, resource, args, options),
    get: (ctx, resource, id, args) => ops.get(ctx, resource, id, args, options),
    create: (ctx, resource, body) => ops.create(ctx, resource, body, options),
    createMany: (ctx, resource, bodies) => ops.createMany(ctx, resource, bodies, options),
    update: (ctx, resource, id, body) => ops.update(ctx, resource, id, body, options),
    replace: (ctx, resource, id, body) => ops.replace(ctx, resource, id, body, options),
    remove: (ctx, resource, id) => ops.remove(ctx, resource, id, options),
    setLinks: (ctx, resource, id, relation, ids) => ops.setLinks(ctx, resource, id, relation, ids, options),
  } satisfies TransactionOperations);
}
