/**
 * The cache of several instances (REDIS_URL): generations are Redis counters (INCR) and entries Redis
 * strings with a TTL, under KILN_REDIS_KEY_PREFIX, so a write on one instance makes the entries of
 * every instance stale. A lookup is one round trip (MGET of the generations and GET of the entry, pipelined).
 *
 * Redis is never in a request's way: while it cannot be reached, lookups answer "bypass" at once
 * (no offline queue) and the read goes to the database; the outage is logged once. A bump lost in an
 * outage would leave stale entries behind, so when the connection is back an epoch counter, part of
 * every entry's generations, is bumped first: every entry stored before is stale. Until that is done
 * lookups still bypass.
 *
 * A fill is claimed with SET NX PX under the key and its generations, so that of the instances that
 * miss one key at once only one runs its SQL (response-cache.ts); the claim holds this instance's
 * token, and only the holder deletes it.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ContextLogger } from '../pipeline/context.js';
import { openRedis } from '../redis/connect.js';
import { type CachedResponse, type CacheStore, decodeEntry, encodeEntry, type Lookup } from './store.js';

const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

export interface RedisStoreOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly log: ContextLogger;
}

export class RedisStore implements CacheStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #epoch: string;
  readonly #log: ContextLogger;
  /** Lookups bypass the cache until the connection is ready and, after an outage, the epoch bumped. */
  #usable = false;
  /** Whether the current outage was logged already: one line per outage. */
  #failing = false;
  #connected = false;
  /** What this instance writes in the fills it claims. */
  readonly #token = randomUUID();

  constructor(options: RedisStoreOptions) {
    this.#prefix = `${options.keyPrefix}cache:`;
    this.#epoch = `${this.#prefix}epoch`;
    this.#log = options.log;
    const connectionName = `kiln-cache:${options.keyPrefix.replace(/[^\w:.-]/g, '_')}`;
    this.#redis = openRedis(options.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000, connectionName, lazyConnect: true });
    this.#redis.on('error', (error: unknown) => this.#fault(error));
    this.#redis.on('close', () => {
      if (this.#connected) this.#fault(new Error('connection closed'));
    });
    this.#redis.on('ready', () => this.#ready());
  }

  /** Connects, or gives up after the connect timeout: the app starts without the cache and reconnects by itself. */
  async connect(): Promise<void> {
    await this.#redis.connect().catch((error: unknown) => this.#fault(error));
  }

  async lookup(key: string, resources: readonly string[]): Promise<Lookup | undefined> {
    if (!this.#usable) return undefined;
    try {
      const results = await this.#redis
        .pipeline()
        .mget(this.#epoch, ...resources.map((resource) => this.#generationKey(resource)))
        .get(this.#entryKey(key))
        .exec();
      const [counters, entry] = results ?? [];
      if (!counters || !entry || counters[0] || entry[0]) throw counters?.[0] ?? entry?.[0] ?? new Error('no answer');
      const generations = (counters[1] as (string | null)[]).map((value) => value ?? '0').join(',');
      const found = decodeEntry(entry[1] as string | null, generations);
      return found ? { generations, found } : { generations };
    } catch (error) {
      this.#fault(error);
      return undefined;
    }
  }

  save(key: string, generations: string, response: CachedResponse, ttlMs: number): void {
    if (!this.#usable) return;
    this.#redis.set(this.#entryKey(key), encodeEntry(generations, response), 'PX', ttlMs).catch((error: unknown) => this.#fault(error));
  }

  async claimFill(key: string, generations: string, ms: number): Promise<boolean> {
    if (!this.#usable) return true;
    try {
      return (await this.#redis.set(this.#fillKey(key, generations), this.#token, 'PX', ms, 'NX')) === 'OK';
    } catch (error) {
      this.#fault(error);
      return true;
    }
  }

  async fillClaimed(key: string, generations: string): Promise<boolean> {
    if (!this.#usable) return false;
    try {
      return (await this.#redis.exists(this.#fillKey(key, generations))) === 1;
    } catch (error) {
      this.#fault(error);
      return false;
    }
  }

  releaseFill(key: string, generations: string): void {
    if (!this.#usable) return;
    // Delete only our own claim: one that expired may have been claimed again by another instance.
    this.#redis.eval(RELEASE_SCRIPT, 1, this.#fillKey(key, generations), this.#token).catch((error: unknown) => this.#fault(error));
  }

  async bump(resources: readonly string[]): Promise<void> {
    try {
      const pipeline = this.#redis.pipeline();
      for (const resource of resources) pipeline.incr(this.#generationKey(resource));
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (failed) throw failed[0];
    } catch (error) {
      // Lost: the epoch is bumped when the connection is back (#ready).
      this.#fault(error);
    }
  }

  async close(): Promise<void> {
    this.#usable = false;
    this.#connected = false;
    this.#redis.disconnect();
  }

  #generationKey(resource: string): string {
    return `${this.#prefix}gen:${resource}`;
  }

  #fillKey(key: string, generations: string): string {
    return `${this.#prefix}fill:${key}/${generations}`;
  }

  #entryKey(key: string): string {
    return `${this.#prefix}entry:${key}`;
  }

  #ready(): void {
    this.#connected = true;
    if (!this.#failing) {
      this.#usable = true;
      return;
    }
    this.#redis.incr(this.#epoch).then(
      () => {
        this.#failing = false;
        this.#usable = true;
        this.#log.info({ prefix: this.#prefix }, 'response cache: Redis is back; cached reads are served again');
      },
      (error: unknown) => this.#fault(error),
    );
  }

  #fault(error: unknown): void {
    this.#usable = false;
    if (this.#failing) return;
    this.#failing = true;
    const message = error instanceof Error ? error.message : String(error);
    this.#log.warn({ err: { message }, prefix: this.#prefix }, 'response cache: Redis cannot be reached; reads go to the database, uncached, until it is back');
  }
}
