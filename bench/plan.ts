/** Durations and rates of one run: the normal run fits in 5 minutes on 2 cores; `--quick` is a smoke run. */
export interface Plan {
  readonly quick: boolean;
  readonly profile: boolean;
  /** `--only=proxy` or `--only=opensrp`: run one half (for development). */
  readonly only?: 'proxy' | 'opensrp';
  /** Seconds per phase. The gateway's warm-up is long: V8 needs ~10k requests to optimize the hot path. */
  readonly warmupS: number;
  readonly gatewayWarmupS: number;
  readonly latencyS: number;
  readonly throughputS: number;
  readonly largeThroughputS: number;
  readonly cpuS: number;
  readonly largeCpuS: number;
  readonly memoryS: number;
  /** Connections of the throughput phases, and of the memory phase. */
  readonly connections: number;
  readonly memoryConnections: number;
  /** Offered requests/s of the CPU phases (5 KB and 50 KB Bundles). */
  readonly cpuRate: number;
  readonly largeCpuRate: number;
  readonly streamMegabytes: number;
  /** The whole run is aborted after this long. */
  readonly deadlineMs: number;
}

export function planFrom(argv: readonly string[]): Plan {
  const quick = argv.includes('--quick');
  const profile = argv.includes('--profile');
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  if (only !== undefined && only !== 'proxy' && only !== 'opensrp') {
    throw new Error(`--only must be proxy or opensrp, got '${only}'`);
  }
  const base = {
    quick,
    profile,
    ...(only ? { only: only as 'proxy' | 'opensrp' } : {}),
    connections: 50,
    memoryConnections: 100,
    cpuRate: 1000,
    largeCpuRate: 200,
    streamMegabytes: 100,
  };
  if (quick) {
    return {
      ...base,
      warmupS: 1,
      gatewayWarmupS: 2,
      latencyS: 1,
      throughputS: 1,
      largeThroughputS: 1,
      cpuS: 2,
      largeCpuS: 1,
      memoryS: 1,
      deadlineMs: 240_000,
    };
  }
  return {
    ...base,
    warmupS: 1,
    gatewayWarmupS: 4,
    latencyS: 3,
    throughputS: 8,
    largeThroughputS: 2,
    cpuS: 8,
    largeCpuS: 3,
    memoryS: 4,
    deadlineMs: 300_000,
  };
}
