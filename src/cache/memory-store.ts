/**
 * The cache of one process: generations and entries in maps. The number of entries is bounded
 * (the oldest stored goes first), so a crawl of many distinct URLs cannot grow the heap without end.
 */
import { type CachedResponse, type CacheStore, decodeEntry, encodeEntry, type Lookup } from './store.js';

/** The most entries one process keeps. */
export const MEMORY_CACHE_ENTRIES = 10_000;

interface Stored {
  readonly value: string;
  readonly expires: number;
}

export class MemoryStore implements CacheStore {
  readonly #generations = new Map<string, number>();
  readonly #entries = new Map<string, Stored>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async lookup(key: string, resources: readonly string[]): Promise<Lookup> {
    const generations = resources.map((resource) => this.#generations.get(resource) ?? 0).join(',');
    const stored = this.#entries.get(key);
    if (stored && stored.expires <= this.#now()) this.#entries.delete(key);
    const found = stored && stored.expires > this.#now() ? decodeEntry(stored.value, generations) : undefined;
    return found ? { generations, found } : { generations };
  }

  save(key: string, generations: string, response: CachedResponse, ttlMs: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= MEMORY_CACHE_ENTRIES) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value: encodeEntry(generations, response), expires: this.#now() + ttlMs });
  }

  // One process: its misses of one key already share one fill (response-cache.ts), so there is nothing to claim.
  async claimFill(): Promise<boolean> {
    return true;
  }

  async fillClaimed(): Promise<boolean> {
    return false;
  }

  releaseFill(): void {}

  async bump(resources: readonly string[]): Promise<void> {
    for (const resource of resources) this.#generations.set(resource, (this.#generations.get(resource) ?? 0) + 1);
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }
}
