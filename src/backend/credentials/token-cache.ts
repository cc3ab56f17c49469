/** A token and when it stops being good, as a token endpoint or library reports it. */
export interface FetchedToken {
  readonly token: string;
  /** Epoch milliseconds; unset when the endpoint gave no lifetime. */
  readonly expiresAt?: number;
  /** Epoch milliseconds at which the issuer asks for a refresh (Azure's `refresh_in`). */
  readonly refreshAt?: number;
}

/** Without a lifetime from the endpoint, a token is used this long. */
const DEFAULT_LIFETIME_MS = 5 * 60_000;
/** A token is replaced this long before it expires (at most half its lifetime). */
const REFRESH_MARGIN_MS = 60_000;

/**
 * One cached access token: reused until shortly before it expires, then fetched again, with at
 * most one fetch in flight however many requests wait for it.
 */
export class TokenCache {
  private current?: { token: string; refreshAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly fetch: () => Promise<FetchedToken>,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get(): Promise<string> {
    if (this.current && this.now() < this.current.refreshAt) return Promise.resolve(this.current.token);
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  invalidate(): void {
    this.current = undefined;
  }

  private async refresh(): Promise<string> {
    const fetchedAt = this.now();
    const fetched = await this.fetch();
    const expiresAt = fetched.expiresAt ?? fetchedAt + DEFAULT_LIFETIME_MS;
    const margin = Math.min(REFRESH_MARGIN_MS, Math.max(0, expiresAt - fetchedAt) / 2);
    const refreshAt = Math.min(fetched.refreshAt ?? Number.POSITIVE_INFINITY, expiresAt - margin);
    this.current = { token: fetched.token, refreshAt };
    return fetched.token;
  }
}
