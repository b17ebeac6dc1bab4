/**
 * The subscriptions of this process, by resource: an event reaches only the listeners of its own
 * resource (one map lookup), and their number is bounded so a flood of subscriptions cannot take the
 * process down. Both buses deliver through it.
 */
import { KilnError } from '../core/errors.js';
import type { ContextLogger } from '../pipeline/context.js';
import type { ChangeEvent, ChangeListener } from './bus.js';

/** Subscriptions one process holds at most, over every connection and both transports. */
export const MAX_SUBSCRIPTIONS_PER_PROCESS = 10_000;

export class LocalListeners {
  readonly #byResource = new Map<string, Set<ChangeListener>>();
  readonly #max: number;
  readonly #log: ContextLogger;
  #size = 0;

  constructor(log: ContextLogger, max = MAX_SUBSCRIPTIONS_PER_PROCESS) {
    this.#log = log;
    this.#max = max;
  }

  get size(): number {
    return this.#size;
  }

  add(resource: string, listener: ChangeListener): () => void {
    if (this.#size >= this.#max) {
      throw new KilnError('KILN_SUBSCRIPTION_LIMIT', {
        detail: `this instance already holds ${this.#max} subscriptions; retry later or connect to another instance`,
        headers: { 'retry-after': '5' },
      });
    }
    let listeners = this.#byResource.get(resource);
    if (!listeners) {
      listeners = new Set();
      this.#byResource.set(resource, listeners);
    }
    // A wrapper of its own, so the same function subscribed twice is two subscriptions.
    const entry: ChangeListener = (event) => listener(event);
    listeners.add(entry);
    this.#size++;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      listeners.delete(entry);
      this.#size--;
      if (listeners.size === 0) this.#byResource.delete(resource);
    };
  }

  /**
   * Hands the event to its resource's listeners on a later turn of the event loop: the write that
   * published it answers first. A listener that throws is a bug of its own; the others still get it.
   */
  deliver(event: ChangeEvent): void {
    if (!this.#byResource.has(event.resource)) return;
    setImmediate(() => {
      const listeners = this.#byResource.get(event.resource);
      if (!listeners) return;
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          this.#log.error({ err: error, resource: event.resource }, 'a change listener failed');
        }
      }
    });
  }
}
