import { type BenchResults, measuredRow, ROW } from './results.js';

export interface TargetCheck {
  target: string;
  measured: string;
  /** undefined when the measurement is missing. */
  met?: boolean;
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 ? a / b : undefined;

/** CPU per request of `row` as a multiple of `reference`'s, both measured in this run. */
function cpuRatio(results: BenchResults, row: string, reference: string): number | undefined {
  return ratio(
    measuredRow(results, row)?.cpu?.usPerRequest,
    measuredRow(results, reference)?.cpu?.usPerRequest,
  );
}

function check(
  target: string,
  value: number | undefined,
  limit: number,
  format: (v: number) => string,
): TargetCheck {
  if (value === undefined || Number.isNaN(value)) return { target, measured: 'not measured' };
  return { target, measured: format(value), met: value <= limit };
}

/** The targets of issue 13 (and issue 4's lookup bounds), each with the measured value and whether it is met. */
export function evaluateTargets(results: BenchResults): TargetCheck[] {
  const times = (of: string) => (v: number) => `${v.toFixed(2)}x ${of}`;
  const direct = measuredRow(results, ROW.direct)?.latencyC1.p50Ms;
  const permissive = measuredRow(results, ROW.permissive)?.latencyC1.p50Ms;
  const checks: TargetCheck[] = [
    check(
      'Pass-through: gateway CPU per request ≤ 1.3x the bare Node proxy',
      cpuRatio(results, ROW.permissive, ROW.bareNode),
      1.3,
      times('bare Node'),
    ),
    check(
      'OpenSRP sync, warm, one facility: CPU per request ≤ 1.15x pass-through',
      cpuRatio(results, ROW.syncFacility, ROW.permissive),
      1.15,
      times('pass-through'),
    ),
    check(
      'OpenSRP sync, warm, whole tree (1,000 Locations): CPU per request ≤ 2x pass-through',
      cpuRatio(results, ROW.syncTree, ROW.permissive),
      2,
      times('pass-through'),
    ),
    check(
      'Post-processed (buffered and filtered) Bundle: CPU per request ≤ 1.5x pass-through',
      cpuRatio(results, ROW.postProcessed, ROW.permissive),
      1.5,
      times('pass-through'),
    ),
    check(
      'Pass-through: added p50 latency ≤ 150 µs at c=1',
      direct !== undefined && permissive !== undefined ? permissive - direct : undefined,
      0.15,
      (v) => `+${(v * 1000).toFixed(0)} µs`,
    ),
  ];
  const traffic = Object.values(results.syncTraffic);
  checks.push(
    traffic.length === 0
      ? { target: 'OpenSRP sync, warm: zero extra backend calls', measured: 'not measured' }
      : {
          target: 'OpenSRP sync, warm: zero extra backend calls',
          measured: `${traffic.reduce((s, t) => s + t.lookups, 0)} lookups during ${traffic.reduce((s, t) => s + t.patientSearches, 0)} sync requests`,
          met: traffic.every((t) => t.lookups === 0),
        },
  );
  checks.push(
    check(
      'RSS ≤ 120 MB at concurrency 100',
      results.memory.underLoad?.rssPeakMb,
      120,
      (v) => `${v.toFixed(0)} MB`,
    ),
    check(
      'Streaming 100 MB grows RSS by < 30 MB',
      results.memory.streaming?.growthMb,
      29.999,
      (v) => `+${v.toFixed(1)} MB`,
    ),
  );
  const opensrp = Array.isArray(results.opensrp) ? results.opensrp : [];
  const biggest = Math.max(0, ...opensrp.map((m) => m.locations));
  const hierarchy = opensrp.find(
    (m) => m.what === 'hierarchy' && m.locations === biggest && m.cold.status === 200,
  );
  const assignment = opensrp.find(
    (m) => m.what === 'assignment' && m.locations === biggest && m.cold.status === 200,
  );
  const label = biggest > 0 ? biggest.toLocaleString('en-US') : '10,000';
  checks.push(
    check(
      `/LocationHierarchy cold < 2 s (${label} Locations)`,
      hierarchy?.cold.ms,
      1999.999,
      (v) => `${v.toFixed(0)} ms`,
    ),
    check(
      `/LocationHierarchy warm < 100 ms (${label} Locations)`,
      hierarchy?.warm.ms,
      99.999,
      (v) => `${v.toFixed(1)} ms`,
    ),
  );
  // One search per level (4 levels below and including the root) plus paging, not one per Location:
  // the bound allows pages as small as 100.
  const locationCalls = assignment?.cold.backend.byType.Location;
  const allowed = biggest > 0 ? 4 + Math.ceil(biggest / 100) : 0;
  checks.push(
    locationCalls === undefined
      ? { target: 'Cold assignment: one search per tree level (+ paging)', measured: 'not measured' }
      : {
          target: 'Cold assignment: one search per tree level (+ paging)',
          measured:
            `${locationCalls} Location searches for ${label} Locations in 4 levels ` +
            `(bound: 4 + one per 100 Locations = ${allowed}; one per Location would be ${label})`,
          met: locationCalls <= allowed,
        },
  );
  return checks;
}
