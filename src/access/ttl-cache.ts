import { LRUCache } from 'lru-cache';

/**
 * An in-process LRU cache with a time-to-live, shared by the OpenSRP plugins (app config,
 * assignments, hierarchies, tag sets). A TTL of 0 disables it: every call loads. Concurrent
 * loads of one key share one promise; a failed load is not remembered.
 */
export class TtlCache<V> {
  private readonly entries: LRUCache<string, { value: V }> | undefined;
  private readonly pending = new Map<string, Promise<V>>();

  constructor(ttlSeconds: number, max = 5000) {
    this.entries =
      ttlSeconds > 0 ? new LRUCache<string, { value: V }>({ max, ttl: ttlSeconds * 1000 }) : undefined;
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
