/** The bus of the settings: Redis pub/sub when REDIS_URL is set (several instances), memory otherwise. */
import type { Settings } from '../config/settings.js';
import type { ContextLogger } from '../pipeline/context.js';
import type { EventBus } from './bus.js';
import { MemoryBus } from './memory-bus.js';

/** `connect: false`: a server assembled only to describe its API (`kiln openapi`) opens no connection. */
export async function createEventBus(settings: Pick<Settings, 'redisUrl' | 'redisKeyPrefix'>, log: ContextLogger, { connect = true } = {}): Promise<EventBus> {
  if (!settings.redisUrl || !connect) return new MemoryBus(log);
  // Loaded only when used: ioredis stays out of the processes that do not need it.
  const { RedisBus } = await import('./redis-bus.js');
  return new RedisBus({ url: settings.redisUrl, keyPrefix: settings.redisKeyPrefix, log });
}
