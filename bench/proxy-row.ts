import { type LoadResult, runLoad } from './load.js';
import type { Plan } from './plan.js';
import { cpuSecondsOf, memoryOf } from './proc-stats.js';
import { LARGE_COUNT, SMALL_COUNT } from './searchset.js';

/** Something to measure: a FHIR base URL that answers `Patient?_count=…` searches. */
export interface ProxyTarget {
  readonly name: string;
  /** e.g. `http://127.0.0.1:P/fhir`. */
  readonly fhirBase: string;
  readonly headers: Record<string, string>;
  /** The proxy's processes, for CPU and RSS; empty for the direct row (no proxy). */
  readonly pids: readonly number[];
  /** A Node proxy, whose JIT needs the long warm-up. */
  readonly jit?: boolean;
}

export interface CpuResult {
  offeredRate: number;
  achievedRate: number;
  cpuSeconds: number;
  /** Proxy CPU (user + system) per completed request, in µs. */
  usPerRequest: number;
}

export interface ProxyRow {
  name: string;
  latencyC1: LoadResult;
  throughput: LoadResult;
  throughputLarge: LoadResult;
  cpu?: CpuResult;
  cpuLarge?: CpuResult;
  /** Peak RSS (VmHWM) of the proxy's processes, summed, in MiB. */
  peakRssMb?: number;
  problems: string[];
}

const searchUrl = (base: string, count: number) => `${base}/Patient?_count=${count}`;

/** One request before the load, so that a misconfigured row fails loudly instead of timing errors. */
export async function checkTarget(target: ProxyTarget): Promise<void> {
  const response = await fetch(searchUrl(target.fhirBase, SMALL_COUNT), { headers: target.headers });
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`${target.name}: status ${response.status}: ${text.slice(0, 300)}`);
  const bundle = JSON.parse(text) as { entry?: unknown[] };
  if (bundle.entry?.length !== SMALL_COUNT)
    throw new Error(`${target.name}: unexpected Bundle: ${text.slice(0, 200)}`);
}

async function measureCpu(target: ProxyTarget, url: string, rate: number, durationS: number) {
  const before = cpuSecondsOf(target.pids);
  const load = await runLoad({
    url,
    headers: target.headers,
    connections: 20,
    durationS,
    overallRate: rate,
  });
  const cpuSeconds = cpuSecondsOf(target.pids) - before;
  const cpu: CpuResult = {
    offeredRate: rate,
    achievedRate: load.rps,
    cpuSeconds,
    usPerRequest: load.requests > 0 ? (cpuSeconds / load.requests) * 1e6 : Number.NaN,
  };
  return { cpu, load };
}

/**
 * The phases of one row, in order: warm-up (both Bundle sizes), c=50 throughput (5 KB, 50 KB),
 * c=1 latency, then proxy CPU at fixed offered rates.
 */
export async function measureProxyRow(target: ProxyTarget, plan: Plan): Promise<ProxyRow> {
  await checkTarget(target);
  const small = searchUrl(target.fhirBase, SMALL_COUNT);
  const large = searchUrl(target.fhirBase, LARGE_COUNT);
  const headers = target.headers;
  const warmupS = target.jit ? plan.gatewayWarmupS : plan.warmupS;
  await runLoad({ url: small, headers, connections: 20, durationS: warmupS });
  await runLoad({ url: large, headers, connections: 20, durationS: plan.warmupS });
  const throughput = await runLoad({
    url: small,
    headers,
    connections: plan.connections,
    durationS: plan.throughputS,
  });
  const throughputLarge = await runLoad({
    url: large,
    headers,
    connections: plan.connections,
    durationS: plan.largeThroughputS,
  });
  const latencyC1 = await runLoad({ url: small, headers, connections: 1, durationS: plan.latencyS });
  const row: ProxyRow = { name: target.name, latencyC1, throughput, throughputLarge, problems: [] };
  const loads = [latencyC1, throughput, throughputLarge];
  if (target.pids.length > 0) {
    const cpuSmall = await measureCpu(target, small, plan.cpuRate, plan.cpuS);
    const cpuLarge = await measureCpu(target, large, plan.largeCpuRate, plan.largeCpuS);
    row.cpu = cpuSmall.cpu;
    row.cpuLarge = cpuLarge.cpu;
    loads.push(cpuSmall.load, cpuLarge.load);
    row.peakRssMb = target.pids.reduce((sum, pid) => sum + memoryOf(pid).peakMb, 0);
  }
  const non2xx = loads.reduce((sum, l) => sum + l.non2xx, 0);
  const errors = loads.reduce((sum, l) => sum + l.errors, 0);
  if (non2xx > 0) row.problems.push(`${non2xx} non-2xx answers`);
  if (errors > 0) row.problems.push(`${errors} connection errors`);
  return row;
}
