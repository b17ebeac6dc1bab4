/**
 * What the parts of one Kiln app report as they work, for the metrics (GET /metrics) to count. Each
 * app has its own (tests run many apps in one process); without metrics every report goes nowhere.
 */
export interface Signals {
  /** A read looked up in the response cache: served from it, filled after a miss, or not cached (bypass: cache off or unreachable). */
  cache(resource: string, outcome: 'hit' | 'miss' | 'bypass'): void;
  /** A call refused by a rate limit (429). */
  rateLimited(resource: string, operation: string): void;
  /** A request refused by load shedding (503) before it did any work. */
  shed(reason: 'event-loop' | 'pool'): void;
}

const nothing = (): void => {};

/** The signals of an app without metrics. */
export const NO_SIGNALS: Signals = { cache: nothing, rateLimited: nothing, shed: nothing };
