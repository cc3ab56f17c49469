import { runLoad } from './load.js';
import type { Plan } from './plan.js';
import { memoryOf, sampleRss } from './proc-stats.js';
import type { ProxyTarget } from './proxy-row.js';
import { LARGE_COUNT } from './searchset.js';

export interface ConcurrencyMemory {
  connections: number;
  rps: number;
  rssBeforeMb: number;
  /** Highest VmRSS sampled during the run. */
  rssPeakMb: number;
  non2xx: number;
}

/** RSS of the proxy while `plan.memoryConnections` clients fetch the 50 KB Bundle. */
export async function measureRssUnderLoad(
  target: ProxyTarget,
  pid: number,
  plan: Plan,
): Promise<ConcurrencyMemory> {
  const rssBeforeMb = memoryOf(pid).rssMb;
  const sampler = sampleRss(pid);
  const load = await runLoad({
    url: `${target.fhirBase}/Patient?_count=${LARGE_COUNT}`,
    headers: target.headers,
    connections: plan.memoryConnections,
    durationS: plan.memoryS,
  });
  return {
    connections: plan.memoryConnections,
    rps: load.rps,
    rssBeforeMb,
    rssPeakMb: sampler.stop(),
    non2xx: load.non2xx,
  };
}

export interface StreamingMemory {
  megabytes: number;
  bytesReceived: number;
  seconds: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  rssAfterMb: number;
  /** Peak minus before. */
  growthMb: number;
}

const PAUSE_AFTER_BYTES = 20 * 1024 * 1024;
const PAUSE_MS = 1000;

/**
 * Downloads a large body through the proxy, pausing once for a second after 20 MB so that
 * back-pressure, not only a fast reader, keeps the proxy's buffers small.
 */
export async function measureStreaming(
  target: ProxyTarget,
  pid: number,
  megabytes: number,
): Promise<StreamingMemory> {
  const rssBeforeMb = memoryOf(pid).rssMb;
  const sampler = sampleRss(pid, 20);
  const started = performance.now();
  const response = await fetch(`${target.fhirBase}/Binary/bench-stream?mb=${megabytes}`, {
    headers: target.headers,
  });
  if (response.status !== 200 || !response.body) {
    sampler.stop();
    throw new Error(`streaming: status ${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  let bytesReceived = 0;
  let paused = false;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytesReceived += value.byteLength;
    if (!paused && bytesReceived >= PAUSE_AFTER_BYTES) {
      paused = true;
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const rssPeakMb = sampler.stop();
  const rssAfterMb = memoryOf(pid).rssMb;
  return {
    megabytes,
    bytesReceived,
    seconds,
    rssBeforeMb,
    rssPeakMb,
    rssAfterMb,
    growthMb: rssPeakMb - rssBeforeMb,
  };
}
