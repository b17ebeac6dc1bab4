/**
 * The bus of several instances (REDIS_URL): every event is published on one Redis channel, under
 * KILN_REDIS_KEY_PREFIX, and each instance hands what it hears to its own subscribers. An instance
 * delivers its own events at once, without the round trip, and ignores them when Redis echoes them.
 *
 * Redis is never in a write's way: publishing does not wait for Redis. While the connection is away
 * an event waits only until the next reconnection attempt fails (`maxRetriesPerRequest: 1`, at most
 * a couple of seconds), then is dropped for the other instances, logged once per outage rather than
 * once per write: nothing piles up in memory. The subscribing connection reconnects by itself and subscribes
 * again (ioredis `autoResubscribe`); events published while it was away are not replayed.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ContextLogger } from '../pipeline/context.js';
import { openRedis } from '../redis/connect.js';
import { CHANGE_TYPES, type ChangeEvent, type ChangeListener, type EventBus } from './bus.js';
import { LocalListeners } from './local-listeners.js';

interface Envelope {
  /** The instance that published it. */
  readonly from: string;
  readonly event: ChangeEvent;
}

export interface RedisBusOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly log: ContextLogger;
  readonly maxSubscriptions?: number;
}

export class RedisBus implements EventBus {
  readonly #instance = randomUUID();
  readonly #channel: string;
  readonly #listeners: LocalListeners;
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #log: ContextLogger;
  /** Whether the current outage was logged already: one line per outage, not one per write. */
  #failing = false;

  constructor(options: RedisBusOptions) {
    this.#log = options.log;
    // Pub/sub channels are not keys: ioredis's keyPrefix does not apply to them, so the prefix is written here.
    this.#channel = `${options.keyPrefix}events`;
    this.#listeners = new LocalListeners(options.log, options.maxSubscriptions);
    this.#publisher = this.#connect(options.url, 'publish');
    this.#subscriber = this.#connect(options.url, 'subscribe');
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) this.#receive(message);
    });
    this.#subscriber.subscribe(this.#channel).catch((error: unknown) => this.#fault('subscribe', error));
  }

  get size(): number {
    return this.#listeners.size;
  }

  publish(event: ChangeEvent): void {
    this.#listeners.deliver(event);
    const envelope: Envelope = { from: this.#instance, event };
    this.#publisher.publish(this.#channel, JSON.stringify(envelope)).catch((error: unknown) => this.#fault('publish', error));
  }

  subscribe(resource: string, listener: ChangeListener): () => void {
    return this.#listeners.add(resource, listener);
  }

  async close(): Promise<void> {
    this.#publisher.disconnect();
    this.#subscriber.disconnect();
  }

  #connect(url: string, role: string): Redis {
    // Named after the channel (CLIENT LIST shows which application a connection serves).
    const connectionName = `kiln-events-${role}:${this.#channel.replace(/[^\w:.-]/g, '_')}`;
    const redis = openRedis(url, { autoResubscribe: true, maxRetriesPerRequest: 1, connectTimeout: 5000, connectionName });
    redis.on('error', (error: unknown) => this.#fault(role, error));
    redis.on('ready', () => {
      if (!this.#failing) return;
      this.#failing = false;
      this.#log.info({ channel: this.#channel }, 'change events: Redis is back; events reach the other instances again');
    });
    return redis;
  }

  #fault(role: string, error: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    const message = error instanceof Error ? error.message : String(error);
    this.#log.warn(
      { err: { message }, channel: this.#channel, role },
      'change events: Redis cannot be reached; writes go on, but other instances miss their events until it is back',
    );
  }

  #receive(message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch {
      this.#log.warn({ channel: this.#channel }, 'change events: a message on the channel is not JSON; ignored');
      return;
    }
    if (envelope.from === this.#instance || !isChangeEvent(envelope.event)) return;
    this.#listeners.deliver(envelope.event);
  }
}

/** What another instance sent has the shape of an event (another program could share the channel). */
function isChangeEvent(value: unknown): value is ChangeEvent {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.resource === 'string' &&
    (CHANGE_TYPES as readonly unknown[]).includes(e.type) &&
    (typeof e.id === 'string' || typeof e.id === 'number') &&
    (e.snapshot === undefined || typeof e.snapshot === 'string')
  );
}
