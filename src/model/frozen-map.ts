/**
 * A read-only map for the compiled model. `Object.freeze` does not freeze a `Map` (its entries live
 * in internal slots, so `set`, `delete` and `clear` keep working on a frozen one); this type keeps
 * its entries in a private `Map` and has no method that changes them, so the model's lookup tables
 * are as immutable as the rest of it. It implements `ReadonlyMap`, so readers cannot tell the
 * difference.
 */
export class FrozenMap<K, V> implements ReadonlyMap<K, V> {
  readonly #entries: ReadonlyMap<K, V>;

  constructor(entries: Iterable<readonly [K, V]>) {
    this.#entries = new Map(entries);
    Object.freeze(this);
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.#entries) callback.call(thisArg, value, key, this);
  }

  keys(): MapIterator<K> {
    return this.#entries.keys();
  }

  values(): MapIterator<V> {
    return this.#entries.values();
  }

  entries(): MapIterator<[K, V]> {
    return this.#entries.entries();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.#entries.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'FrozenMap';
  }
}

// Nobody can give every FrozenMap a `set` afterwards either.
Object.freeze(FrozenMap.prototype);
Object.freeze(FrozenMap);

/**
 * Freezes an object graph: every object and array reachable from `value`, and every value held by a
 * FrozenMap in it.
 */
export function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  Object.freeze(value);
  const children = value instanceof FrozenMap ? value.values() : Object.values(value);
  for (const child of children) deepFreeze(child, seen);
  return value;
}
