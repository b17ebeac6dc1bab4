/** The bus of a single instance (no REDIS_URL): events reach the subscribers of this process only. */
import type { ContextLogger } from '../pipeline/context.js';
import type { ChangeEvent, ChangeListener, EventBus } from './bus.js';
import { LocalListeners } from './local-listeners.js';

export class MemoryBus implements EventBus {
  readonly #listeners: LocalListeners;

  constructor(log: ContextLogger, maxSubscriptions?: number) {
    this.#listeners = new LocalListeners(log, maxSubscriptions);
  }

  get size(): number {
    return this.#listeners.size;
  }

  publish(event: ChangeEvent): void {
    this.#listeners.deliver(event);
  }

  subscribe(resource: string, listener: ChangeListener): () => void {
    return this.#listeners.add(resource, listener);
  }

  async close(): Promise<void> {}
}
