import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  durationS: number;
  /** Fixed offered rate over all connections (requests/s); unlimited when absent. */
  overallRate?: number;
}

export interface LoadResult {
  requests: number;
  /** Completed 2xx requests per second. */
  rps: number;
  /** Latency percentiles in milliseconds, from autocannon's per-response timings (not its ms histogram). */
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * One autocannon run. Latencies are recorded from its `response` events, which carry
 * sub-millisecond timings; its own histogram rounds to whole milliseconds, too coarse for c=1.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let ok = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationS,
        headers: options.headers ?? {},
        timeout: 10,
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
      },
      (error, result) => {
        if (error) return reject(error);
        const sorted = Float64Array.from(latencies).sort();
        resolve({
          requests: ok,
          rps: ok / result.duration,
          p50Ms: percentile(sorted, 50),
          p99Ms: percentile(sorted, 99),
          non2xx: result.non2xx,
          errors: result.errors,
        });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) {
        ok++;
        latencies.push(ms);
      }
    });
  });
}
