/**
 * The response cache of the settings and the model: none when no resource is cached, in Redis when
 * REDIS_URL is set, in the process's memory otherwise. Several workers without Redis are refused:
 * the memory of one worker cannot be told of a write another one made, and it would serve stale reads.
 */
import type { Settings } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import type { Model } from '../model/ir.js';
import { NO_SIGNALS, type Signals } from '../observability/signals.js';
import type { ContextLogger } from '../pipeline/context.js';
import { MemoryStore } from './memory-store.js';
import { cacheTtls, ResponseCache } from './response-cache.js';

export interface CreateCacheOptions {
  readonly log: ContextLogger;
  readonly signals?: Signals;
  /** The access policy is the app's own, not the model's rules (response-cache.ts). */
  readonly customPolicy: boolean;
  /** False for a server assembled only to describe its API: no cache, no connection. */
  readonly connect: boolean;
}

type CacheSettings = Pick<Settings, 'cacheTtl' | 'redisUrl' | 'redisKeyPrefix'>;

export async function createResponseCache(settings: CacheSettings, model: Model, options: CreateCacheOptions): Promise<ResponseCache | undefined> {
  if (!options.connect || cacheTtls(model, settings.cacheTtl).size === 0) return undefined;
  const common = { model, ttl: settings.cacheTtl, signals: options.signals ?? NO_SIGNALS, customPolicy: options.customPolicy };
  if (!settings.redisUrl) return new ResponseCache({ ...common, store: new MemoryStore() });
  // Loaded only when used: ioredis stays out of the processes that do not need it.
  const { RedisStore } = await import('./redis-store.js');
  const store = new RedisStore({ url: settings.redisUrl, keyPrefix: settings.redisKeyPrefix, log: options.log });
  await store.connect();
  return new ResponseCache({ ...common, store });
}

/** `kiln serve --workers N` with the cache on and no Redis: refused at start, before any worker runs. */
export function refuseCacheAcrossWorkers(settings: CacheSettings, model: Model, workers: number): void {
  if (workers <= 1 || settings.redisUrl || cacheTtls(model, settings.cacheTtl).size === 0) return;
  throw new StartupError(
    `--workers ${workers} with the response cache on needs Redis (REDIS_URL): a worker's memory cache cannot hear of another worker's writes and would serve stale reads. Set REDIS_URL, set KILN_CACHE_TTL=0 and remove the resources' cache: { ttl }, or serve without --workers`,
  );
}
