/**
 * The response cache of REST reads (get and list): the JSON body and its ETag, stored under a key
 * made of the request (resource, id, parsed query) and the caller's rights, with the generations of
 * every resource the read depends on (dependencies.ts). A committed write bumps the generations of
 * what it changed; an entry stored under older generations no longer counts.
 *
 * The race with a concurrent write is closed by the order of things: a fill reads the generations
 * *before* its SQL runs and stores the entry under them, and a write bumps them *after* it committed.
 * A fill whose SQL saw the data before the write therefore carries the generations before the bump,
 * and is stale from the moment the bump lands; no bump before the write is needed. What the bump
 * cannot cover: a write that commits without it (a process killed between commit and bump, a write
 * made outside Kiln's operations, or in a transaction opened outside them) — the TTL bounds those.
 *
 * Concurrent misses of one key in one process share one fill (single flight), and across instances
 * the fill is claimed in the store: the instance that claims it fills, the others wait for its entry
 * (or fill themselves if the claim goes away without one, or after FILL_CLAIM_MS).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChangeType } from '../events/bus.js';
import type { Model } from '../model/ir.js';
import type { Signals } from '../observability/signals.js';
import type { Principal } from '../pipeline/context.js';
import type { ListArgs, SelectionArgs } from '../pipeline/parse.js';
import { CacheDependencies } from './dependencies.js';
import type { CachedResponse, CacheStore } from './store.js';

export type ReadKind = 'list' | 'get';

/** How long a fill claimed across instances is awaited by the others, at most; also the claim's life. */
export const FILL_CLAIM_MS = 2000;
/** How often an instance waiting for another's fill looks for the entry. */
const FILL_POLL_MS = 10;

/** How a response was answered: from the cache, filled after a miss, or without the cache (bypass). */
export type CacheOutcome = 'hit' | 'miss' | 'bypass';

export interface ResponseCacheOptions {
  readonly model: Model;
  readonly store: CacheStore;
  /** Seconds an entry lives, for a resource that does not set its own (KILN_CACHE_TTL); 0: only resources that set one are cached. */
  readonly ttl: number;
  readonly signals: Signals;
  /**
   * The access policy is the app's own (not the model's rules): what it decides may depend on the
   * caller's id, so every signed-in caller has entries of their own.
   */
  readonly customPolicy: boolean;
}

export interface CachedRead {
  readonly response: CachedResponse;
  readonly outcome: CacheOutcome;
}

export class ResponseCache {
  readonly #store: CacheStore;
  readonly #signals: Signals;
  readonly #dependencies: CacheDependencies;
  /** Milliseconds by resource; absent: not cached. */
  readonly #ttls = new Map<string, number>();
  readonly #idMatters: boolean;
  readonly #flights = new Map<string, Promise<CachedResponse>>();

  constructor(options: ResponseCacheOptions) {
    this.#store = options.store;
    this.#signals = options.signals;
    this.#dependencies = new CacheDependencies(options.model);
    this.#idMatters = options.customPolicy || this.#dependencies.readsCallerId;
    for (const [resource, seconds] of cacheTtls(options.model, options.ttl)) this.#ttls.set(resource, seconds * 1000);
  }

  /** Whether reads of `resource` are cached. */
  caches(resource: string): boolean {
    return this.#ttls.has(resource);
  }

  /**
   * The response of a read: from the cache when an entry of the same request, the same rights and
   * the current generations is there; otherwise from `fill`, stored for the next caller. `fill`'s
   * errors are thrown, never stored.
   */
  async read(
    principal: Principal,
    resource: string,
    kind: ReadKind,
    id: string | undefined,
    args: ListArgs | SelectionArgs | undefined,
    fill: () => Promise<CachedResponse>,
  ): Promise<CachedRead> {
    const ttl = this.#ttls.get(resource);
    if (ttl === undefined || args?.problems?.length) return this.#bypass(resource, fill);
    const key = requestKey(resource, kind, id, args, this.#fingerprint(principal, kind));
    const resources = this.#dependencies.ofRead(resource, args);
    const lookup = await this.#store.lookup(key, resources);
    if (!lookup) return this.#bypass(resource, fill);
    if (lookup.found) {
      this.#signals.cache(resource, 'hit');
      return { response: lookup.found, outcome: 'hit' };
    }
    this.#signals.cache(resource, 'miss');
    // Keyed with the generations: a fill begun before a write is not shared with readers after it.
    const flightKey = `${key}/${lookup.generations}`;
    let flight = this.#flights.get(flightKey);
    if (!flight) {
      flight = this.#fill(key, lookup.generations, resources, ttl, fill);
      const started = flight;
      this.#flights.set(flightKey, started);
      const forget = () => {
        if (this.#flights.get(flightKey) === started) this.#flights.delete(flightKey);
      };
      started.then(forget, forget);
    }
    return { response: await flight, outcome: 'miss' };
  }

  /** This process's one fill of `key`: run here unless another instance claimed it and saves its entry in time. */
  async #fill(key: string, generations: string, resources: readonly string[], ttl: number, fill: () => Promise<CachedResponse>): Promise<CachedResponse> {
    const claimed = await this.#store.claimFill(key, generations, FILL_CLAIM_MS);
    if (!claimed) {
      const filled = await this.#filledElsewhere(key, generations, resources);
      if (filled) return filled;
    }
    try {
      const response = await fill();
      this.#store.save(key, generations, response, ttl);
      return response;
    } finally {
      if (claimed) this.#store.releaseFill(key, generations);
    }
  }

  /** The entry another instance is filling, once saved; undefined when its claim ends without one, a write changes the generations, or time runs out. */
  async #filledElsewhere(key: string, generations: string, resources: readonly string[]): Promise<CachedResponse | undefined> {
    const deadline = performance.now() + FILL_CLAIM_MS;
    while (performance.now() < deadline) {
      await sleep(FILL_POLL_MS);
      // The claim first: one released before the lookup was released after its entry was saved.
      const held = await this.#store.fillClaimed(key, generations);
      const lookup = await this.#store.lookup(key, resources);
      if (!lookup || lookup.generations !== generations) return undefined;
      if (lookup.found) return lookup.found;
      if (!held) return undefined;
    }
    return undefined;
  }

  /** A committed write: makes stale every entry that read what it changed. */
  changed(resource: string, type: ChangeType): Promise<void> {
    return this.#store.bump(this.#dependencies.changedBy(resource, type));
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  async #bypass(resource: string, fill: () => Promise<CachedResponse>): Promise<CachedRead> {
    this.#signals.cache(resource, 'bypass');
    return { response: await fill(), outcome: 'bypass' };
  }

  /**
   * The caller's rights as a key: anonymous callers share; a signed-in caller is known by kind and
   * roles (inheritance is the model's, the same for all), and by id when rules compare a field with
   * it, or for a list, whose cursors are bound to the caller who was given them (core/list-query.ts).
   */
  #fingerprint(principal: Principal, kind: ReadKind): string {
    if (principal.kind === 'anonymous') return 'anonymous';
    const roles = [...principal.roles].sort().join(',');
    const id = kind === 'list' || this.#idMatters ? `:${JSON.stringify(principal.id)}` : '';
    return `${principal.kind}:${roles}${id}`;
  }
}

/** Seconds each cached resource's entries live: its own `cache.ttl`, or the default; none when `cache: false` or both are 0. */
export function cacheTtls(model: Model, defaultTtl: number): Map<string, number> {
  const ttls = new Map<string, number>();
  const accounts = model.auth?.accounts?.resource;
  for (const resource of model.resources) {
    // Account flows (verification, roles, disabling) write their fields outside the operations: cached only when asked for by name.
    const fallback = resource.name === accounts ? 0 : defaultTtl;
    const seconds = resource.cache === undefined ? fallback : resource.cache === false ? 0 : resource.cache.ttl;
    if (seconds > 0) ttls.set(resource.name, seconds);
  }
  return ttls;
}

function requestKey(resource: string, kind: ReadKind, id: string | undefined, args: unknown, fingerprint: string): string {
  const text = `${resource}\u0000${kind}\u0000${id ?? ''}\u0000${args === undefined ? '' : JSON.stringify(args)}\u0000${fingerprint}`;
  return `${resource}:${createHash('sha256').update(text).digest('base64url')}`;
}
