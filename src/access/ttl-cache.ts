import { LRUCache } from 'lru-cache';

/** A bound on what a cache's values weigh, for caches whose values can be megabytes. */
export interface ByteBudget<V> {
  /** The most the cached values may weigh together; a value heavier than this is not kept. */
  readonly maxBytes: number;
  /** An estimate of what one value (with its key) holds in memory. */
  bytesOf(value: V, key: string): number;
}

/**
 * An in-process LRU cache with a time-to-live, shared by the OpenSRP plugins (app config,
 * assignments, hierarchies, tag sets). A TTL of 0 disables it: every call loads. Concurrent
 * loads of one key share one promise; a failed load is not remembered. Bounded by the number of
 * entries and, given a budget, by what they weigh: the least recently used go first.
 */
export class TtlCache<V> {
  private readonly entries: LRUCache<string, { value: V }> | undefined;
  private readonly pending = new Map<string, Promise<V>>();

  constructor(ttlSeconds: number, max = 5000, budget?: ByteBudget<V>) {
    this.entries =
      ttlSeconds > 0
        ? new LRUCache<string, { value: V }>({
            max,
            ttl: ttlSeconds * 1000,
            ...(budget
              ? {
                  maxSize: budget.maxBytes,
                  // lru-cache wants a positive integer.
                  sizeCalculation: (entry, key) => Math.max(1, Math.ceil(budget.bytesOf(entry.value, key))),
                }
              : {}),
          })
        : undefined;
  }

  get(key: string): V | undefined {
    return this.entries?.get(key)?.value;
  }

  set(key: string, value: V): void {
    this.entries?.set(key, { value });
  }

  delete(key: string): void {
    this.entries?.delete(key);
    this.pending.delete(key);
  }

  clear(): void {
    this.entries?.clear();
    this.pending.clear();
  }

  /** The cached value, or the result of `load` (stored when it succeeds). */
  async getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries?.get(key);
    if (hit) return hit.value;
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const loading = load().then(
      (value) => {
        if (this.pending.get(key) === loading) {
          this.pending.delete(key);
          this.set(key, value);
        }
        return value;
      },
      (error: unknown) => {
        if (this.pending.get(key) === loading) this.pending.delete(key);
        throw error;
      },
    );
    this.pending.set(key, loading);
    return loading;
  }
}

/** Bytes a V8 string of this many one-byte characters holds, with its header and a slot in its container. */
const STRING_OVERHEAD_BYTES = 40;

/** An estimate of what a collection of short strings (ids) holds: their characters and V8's overhead per string. */
export function stringsBytes(values: Iterable<string>): number {
  let bytes = 0;
  for (const value of values) bytes += value.length + STRING_OVERHEAD_BYTES;
  return bytes;
}
