/**
 * Verified claims, cached so a token's signature is checked once rather than on every request
 * (jose's RS256 verify costs about 100 µs, close to the whole proxy cost). Keys are sha256 of the
 * token, so raw tokens are never held as keys. Entries live until the token's `exp`, at most five
 * minutes; callers must still check `exp` on every hit, because the LRU's clock is not theirs.
 */

import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { VerifiedToken } from '../access/contract.js';

const MAX_TTL_MS = 5 * 60 * 1000;

/** sha256 of the token, hex: the cache never holds a token itself. One-shot `hash` makes no Hash object. */
export function tokenCacheKey(token: string): string {
  return hash('sha256', token, 'hex');
}

export class ClaimsCache {
  readonly #entries: LRUCache<string, VerifiedToken>;

  constructor(max = 10_000) {
    this.#entries = new LRUCache({ max });
  }

  get(key: string): VerifiedToken | undefined {
    return this.#entries.get(key);
  }

  /** Caches until the token expires (capped); a token already expired at `nowMs` is not cached. */
  set(key: string, token: VerifiedToken, nowMs: number): void {
    const ttl = Math.min(token.expiresAt * 1000 - nowMs, MAX_TTL_MS);
    if (ttl >= 1) this.#entries.set(key, token, { ttl: Math.floor(ttl) });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
