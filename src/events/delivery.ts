/**
 * Delivery of one event to one subscriber: the record is read again AS THE SUBSCRIBER, through the
 * same list operation a REST or GraphQL read runs, with the subscription's filters and `id eq` the
 * event's id. Its read rule, its field rules and its filters are all decided in SQL; no row means
 * nothing is delivered. Nothing a subscriber receives was read with anyone else's rights.
 */
import { KilnError } from '../core/errors.js';
import type { Operations } from '../core/operations.js';
import type { Row } from '../core/query.js';
import { type RequestContext, readingPrimary } from '../pipeline/context.js';
import type { FilterArg, SelectionArgs } from '../pipeline/parse.js';
import type { ChangeEvent, ChangeType } from './bus.js';
import { shadowedBy } from './snapshot.js';

export interface SubscriptionSpec {
  /** The subscriber, as authenticated when it subscribed. */
  readonly ctx: RequestContext;
  /** The resource's name. */
  readonly resource: string;
  readonly filters: readonly FilterArg[];
  /** The kinds of change wanted. */
  readonly types: ReadonlySet<ChangeType>;
  /** What to read of created and updated records; every readable field when empty. */
  readonly selection: SelectionArgs;
}

export interface Delivery {
  readonly event: ChangeEvent;
  /** The record as the subscriber reads it now; null for a deletion. */
  readonly record: Row | null;
}

/**
 * Checks a subscription before it starts, by running its read once: filters and selection are
 * validated and the caller authorised exactly as for a list, so a bad filter or a caller who may not
 * read the resource is answered at once, with the list's own error.
 */
export async function checkSubscription(ops: Operations, spec: SubscriptionSpec, problems: SelectionArgs['problems']): Promise<void> {
  await ops.list(spec.ctx, spec.resource, { ...spec.selection, filters: spec.filters, ...(problems && { problems }), limit: 1 });
}

/**
 * A delivery is the server's push, not a call the subscriber made: no rate limit counts it (the
 * subscription was counted once, by checkSubscription), or a busy resource would use up its budget.
 */
const PUSHED = Object.freeze({ limited: true });

/** What `event` delivers to the subscriber of `spec`: undefined when it may not see the record, or its filters exclude it. */
export async function deliveryOf(ops: Operations, spec: SubscriptionSpec, event: ChangeEvent): Promise<Delivery | undefined> {
  const filters = [...spec.filters, { path: ['id'], operator: 'eq', value: event.id, source: 'id' }];
  try {
    if (event.type === 'deleted') {
      if (event.snapshot === undefined) return undefined;
      const table = ops.compiled.of(spec.resource).resource.table;
      const { rows } = await ops.list(
        spec.ctx,
        spec.resource,
        { fields: ['id'], filters, limit: 1 },
        { tx: shadowedBy(ops.db, table, event.snapshot), ...PUSHED },
      );
      return rows.length > 0 ? { event, record: null } : undefined;
    }
    // From the primary: a read replica may not have replayed the write the event announces yet.
    const { rows } = await ops.list(readingPrimary(spec.ctx), spec.resource, { ...spec.selection, filters, limit: 1 }, PUSHED);
    const record = rows[0];
    return record ? { event, record } : undefined;
  } catch (error) {
    // An id the resource's key type cannot hold (another program wrote to the channel) names no record.
    if (error instanceof KilnError && error.code === 'KILN_QUERY_INVALID') return undefined;
    throw error;
  }
}
