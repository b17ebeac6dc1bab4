/**
 * Change events: what the operations publish once a write committed, and what subscriptions (GraphQL
 * over WebSocket, Server-Sent Events) listen to. An event names the record, never carries it to the
 * subscriber: each subscriber reads the record again as itself (delivery.ts), so its read rule, its
 * field rules and its filters decide what it receives, in SQL, exactly as for a REST read.
 */

export const CHANGE_TYPES = ['created', 'updated', 'deleted'] as const;

export type ChangeType = (typeof CHANGE_TYPES)[number];

export interface ChangeEvent {
  /** The resource's name (`posts`). */
  readonly resource: string;
  readonly type: ChangeType;
  /** The record's id. */
  readonly id: string | number;
  /**
   * `deleted` only: every column of the row as it was, as PostgreSQL's `to_jsonb` wrote it. The row
   * is gone, so a subscriber checks its rule and filters against this copy (snapshot.ts).
   */
  readonly snapshot?: string;
}

export type ChangeListener = (event: ChangeEvent) => void;

/** What the operations need of a bus: to announce a committed write. Never throws, never waits. */
export interface ChangePublisher {
  publish(event: ChangeEvent): void;
}

export interface EventBus extends ChangePublisher {
  /**
   * Calls `listener` with every event of `resource` from now on (from every instance, on Redis);
   * returns the function that stops it. Refused with KILN_SUBSCRIPTION_LIMIT once the process holds
   * its maximum of subscriptions.
   */
  subscribe(resource: string, listener: ChangeListener): () => void;
  /** How many subscriptions this process holds. */
  readonly size: number;
  close(): Promise<void>;
}
