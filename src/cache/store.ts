/**
 * Where cached responses and the generation counters live: the process's memory (one instance) or
 * Redis (REDIS_URL, every instance). An entry is stored with the generations of the resources it read;
 * a lookup reads the entry and the current generations together, and the entry counts only when they
 * are still the same (response-cache.ts says why this closes the race with a concurrent write).
 */

export interface CachedResponse {
  readonly etag: string;
  readonly body: string;
}

export interface Lookup {
  /** The current generations of the resources asked for, as one string (stored with a new entry). */
  readonly generations: string;
  /** The entry, when there is one stored under the same generations. */
  readonly found?: CachedResponse;
}

export interface CacheStore {
  /** Undefined when the store cannot be reached right now: the read goes to the database (bypass). */
  lookup(key: string, resources: readonly string[]): Promise<Lookup | undefined>;
  /** Stores a response read under `generations`; never waits, never throws. */
  save(key: string, generations: string, response: CachedResponse, ttlMs: number): void;
  /**
   * Claims the fill of `key` under `generations` for at most `ms`, on every instance: true for the one
   * caller that may fill it, false while another holds the claim. A store that cannot tell (one
   * process, or Redis unreachable) answers true: the fill goes ahead.
   */
  claimFill(key: string, generations: string, ms: number): Promise<boolean>;
  /** Whether a claim on the fill of `key` under `generations` is still held (false when it cannot tell). */
  fillClaimed(key: string, generations: string): Promise<boolean>;
  /** Gives back a claim this caller holds, once its entry is saved or its fill failed; never throws. */
  releaseFill(key: string, generations: string): void;
  /** Makes every entry that read one of `resources` stale, on every instance; never throws. */
  bump(resources: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** An entry as stored: generations, ETag and body on lines of their own (neither of the first two holds a newline). */
export function encodeEntry(generations: string, response: CachedResponse): string {
  return `${generations}\n${response.etag}\n${response.body}`;
}

/** The entry when it was stored under `generations`. */
export function decodeEntry(stored: string | null | undefined, generations: string): CachedResponse | undefined {
  if (!stored) return undefined;
  const first = stored.indexOf('\n');
  const second = stored.indexOf('\n', first + 1);
  if (first < 0 || second < 0 || stored.slice(0, first) !== generations) return undefined;
  return { etag: stored.slice(first + 1, second), body: stored.slice(second + 1) };
}
