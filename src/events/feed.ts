/**
 * One subscription's stream of deliveries, as an async iterator (what graphql-js's `subscribe` and a
 * `for await` loop consume). Events are queued as they arrive and read one at a time, in order, as
 * the subscriber (delivery.ts); an event the subscriber may not see is skipped. A subscriber that
 * falls too far behind is ended with KILN_SUBSCRIPTION_LIMIT rather than let the queue grow without
 * bound; a read that fails (the database is down) ends it with the read's error. Either way the
 * client learns it missed events and can subscribe again.
 */
import { KilnError } from '../core/errors.js';
import type { Operations } from '../core/operations.js';
import type { ChangeEvent, EventBus } from './bus.js';
import { type Delivery, deliveryOf, type SubscriptionSpec } from './delivery.js';

/** Events a subscription may have waiting before it is ended. */
export const MAX_PENDING_EVENTS = 1000;

export class ChangeFeed implements AsyncIterableIterator<Delivery> {
  readonly #ops: Operations;
  readonly #spec: SubscriptionSpec;
  readonly #pending: ChangeEvent[] = [];
  readonly #unsubscribe: () => void;
  #wake: (() => void) | undefined;
  #ended = false;
  #failure: unknown;

  /** Subscribes at once: events published from now on are queued. Throws KILN_SUBSCRIPTION_LIMIT when the process is full. */
  constructor(bus: EventBus, ops: Operations, spec: SubscriptionSpec) {
    this.#ops = ops;
    this.#spec = spec;
    this.#unsubscribe = bus.subscribe(spec.resource, (event) => this.#push(event));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Delivery>> {
    for (;;) {
      if (this.#failure !== undefined) {
        const failure = this.#failure;
        this.#failure = undefined;
        throw failure;
      }
      if (this.#ended) return { done: true, value: undefined };
      const event = this.#pending.shift();
      if (!event) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      try {
        const delivery = await deliveryOf(this.#ops, this.#spec, event);
        if (delivery) return { done: false, value: delivery };
      } catch (error) {
        this.#end();
        throw error;
      }
    }
  }

  /** The consumer stopped (the client unsubscribed or went away). */
  async return(): Promise<IteratorResult<Delivery>> {
    this.#end();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<Delivery>> {
    this.#end();
    throw error;
  }

  /** Ends the feed from outside (the server shuts down): a waiting `next` answers done. */
  end(): void {
    this.#end();
  }

  #push(event: ChangeEvent): void {
    if (this.#ended || !this.#spec.types.has(event.type)) return;
    if (this.#pending.length >= MAX_PENDING_EVENTS) {
      this.#failure = new KilnError('KILN_SUBSCRIPTION_LIMIT', {
        detail: `this subscription fell ${MAX_PENDING_EVENTS} events behind and was closed; subscribe again, and read events as fast as they come`,
      });
      this.#end();
      return;
    }
    this.#pending.push(event);
    this.#signal();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#pending.length = 0;
    this.#unsubscribe();
    this.#signal();
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
