import type { OpenSrpMeasurement, TimedCall } from './opensrp-rows.js';
import type { ProxyRow } from './proxy-row.js';
import { type BenchResults, measuredRow, ROW } from './results.js';
import { evaluateTargets } from './targets.js';

const int = (v: number | undefined) =>
  v === undefined || Number.isNaN(v) ? '–' : Math.round(v).toLocaleString('en-US');
const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** CPU per request of `row` as a multiple of `reference`'s, measured in the same run. */
function cpuRatio(row: ProxyRow, reference: ProxyRow | undefined): string {
  return row.cpu && reference?.cpu && row !== reference
    ? `${(row.cpu.usPerRequest / reference.cpu.usPerRequest).toFixed(2)}x`
    : '–';
}

function proxyCells(
  row: ProxyRow,
  direct: ProxyRow | undefined,
  nginx: ProxyRow | undefined,
  bareNode: ProxyRow | undefined,
): string[] {
  const addedUs = direct ? (row.latencyC1.p50Ms - direct.latencyC1.p50Ms) * 1000 : undefined;
  return [
    int(row.throughput.rps),
    `${ms(row.throughput.p50Ms)} / ${ms(row.throughput.p99Ms)}`,
    int(row.throughputLarge.rps),
    int(row.latencyC1.p50Ms * 1000),
    row === direct ? '–' : `${addedUs !== undefined && addedUs >= 0 ? '+' : ''}${int(addedUs)}`,
    int(row.cpu?.usPerRequest),
    int(row.cpuLarge?.usPerRequest),
    cpuRatio(row, nginx),
    cpuRatio(row, bareNode),
    row.peakRssMb === undefined ? '–' : row.peakRssMb.toFixed(0),
  ];
}

function mainTable(results: BenchResults): string {
  const direct = measuredRow(results, ROW.direct);
  const nginx = measuredRow(results, ROW.nginx);
  const bareNode = measuredRow(results, ROW.bareNode);
  const rows = results.rows.map((outcome) => {
    if ('missing' in outcome) return [outcome.missing.name, outcome.missing.reason, ...Array(9).fill('')];
    const cells = proxyCells(outcome.measured, direct, nginx, bareNode);
    const problems = outcome.measured.problems.length > 0 ? ` (${outcome.measured.problems.join('; ')})` : '';
    return [`${outcome.measured.name}${problems}`, ...cells];
  });
  const p = results.plan;
  return table(
    [
      'Path',
      `req/s c=${p.connections}, 5 KB`,
      `p50 / p99 ms c=${p.connections}`,
      `req/s c=${p.connections}, 50 KB`,
      'p50 µs c=1',
      'added p50 µs c=1',
      `CPU µs/req, 5 KB @${p.cpuRate}/s`,
      `CPU µs/req, 50 KB @${p.largeCpuRate}/s`,
      'CPU vs nginx',
      'CPU vs bare Node',
      'peak RSS MB',
    ],
    rows,
  );
}

function memoryTable(results: BenchResults): string {
  const { underLoad, streaming, missing } = results.memory;
  if (missing) return `Memory: ${missing}`;
  const rows: string[][] = [];
  if (underLoad) {
    rows.push([
      `RSS at c=${underLoad.connections} (permissive, 50 KB Bundles, ${int(underLoad.rps)} req/s)`,
      `peak ${underLoad.rssPeakMb.toFixed(0)} MB (before ${underLoad.rssBeforeMb.toFixed(0)} MB)`,
      '≤ 120 MB',
    ]);
  }
  if (streaming) {
    rows.push([
      `Streaming ${streaming.megabytes} MB through the gateway (${streaming.seconds.toFixed(1)} s, 1 s reader pause)`,
      `+${streaming.growthMb.toFixed(1)} MB (before ${streaming.rssBeforeMb.toFixed(0)}, peak ${streaming.rssPeakMb.toFixed(0)}, after ${streaming.rssAfterMb.toFixed(0)} MB)`,
      '< 30 MB growth',
    ]);
  }
  return table(['Memory check', 'Measured', 'Target'], rows);
}

function calls(call: TimedCall): string {
  const parts = Object.entries(call.backend.byType)
    .sort(([, a], [, b]) => b - a)
    .map(([type, n]) => `${type} ${n}`);
  return parts.length === 0 ? '0' : `${call.backend.total} (${parts.join(', ')})`;
}

function timing(call: TimedCall): string {
  const status = call.status === 200 ? '' : ` status ${call.status}`;
  return `${ms(call.ms)}${call.backendMs > 0 ? ` (FHIR server busy ${ms(call.backendMs)})` : ''}${status}`;
}

function openSrpTable(results: BenchResults): string {
  if (!Array.isArray(results.opensrp)) return `OpenSRP: ${results.opensrp.missing}`;
  const label = (m: OpenSrpMeasurement) =>
    m.what === 'assignment' ? 'Sync request, assignment resolution' : '`/LocationHierarchy?_id=<root>`';
  const rows = results.opensrp.map((m) => [
    label(m),
    m.locations.toLocaleString('en-US'),
    timing(m.cold),
    calls(m.cold),
    timing(m.warm),
    calls(m.warm),
    m.cold.note === m.warm.note ? (m.cold.note ?? '') : `${m.cold.note ?? ''} / ${m.warm.note ?? ''}`,
  ]);
  return table(
    [
      'OpenSRP',
      'Locations',
      'Cold ms',
      'Cold backend calls',
      'Warm ms (median of 5)',
      'Warm backend calls (all 5)',
      'Note',
    ],
    rows,
  );
}

function targetsTable(results: BenchResults): string {
  const rows = evaluateTargets(results).map((t) => [
    t.target,
    t.measured,
    t.met === undefined ? '–' : t.met ? 'met' : '**missed**',
  ]);
  return table(['Target (issue 13)', 'Measured', ''], rows);
}

function syncTrafficLines(results: BenchResults): string[] {
  return Object.entries(results.syncTraffic).map(
    ([row, t]) =>
      `- ${row}: ${t.withTag} of ${t.patientSearches} upstream searches carried the injected \`_tag\` ` +
      `(${t.lastTagValues} values, sent as ${t.lastMethod}); ${t.lookups} backend lookups while warm.`,
  );
}

/** Issue 12: the audited row against the pass-through row it repeats, and what reached the sink. */
function auditLines(results: BenchResults): string[] {
  const audited = measuredRow(results, ROW.audited);
  const plain = measuredRow(results, ROW.permissive);
  if (audited === undefined || plain === undefined) return [];
  const added = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b <= 0 ? undefined : (a / b - 1) * 100;
  const small = added(audited.cpu?.usPerRequest, plain.cpu?.usPerRequest);
  const large = added(audited.cpuLarge?.usPerRequest, plain.cpuLarge?.usPerRequest);
  const percent = (v: number | undefined) => (v === undefined ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`);
  // Both columns: a 200-Patient event is ten times the size of a 20-Patient one.
  const verdict =
    small === undefined || large === undefined
      ? 'not measured'
      : small <= 10 && large <= 10
        ? 'met'
        : '**missed**';
  const traffic = results.audit;
  return [
    `- ${ROW.audited}: CPU per request ${percent(small)} (5 KB), ${percent(large)} (50 KB) over the pass-through row; ` +
      `target (issue 12) within 10% in both: ${verdict} (one run of separate gateways; ` +
      '`npm run bench:paired -- --row=audit --pin [--large]` measures the two side by side).' +
      (traffic
        ? ` The sink got ${int(traffic.events)} AuditEvents in ${int(traffic.bundles)} transaction Bundles ` +
          `(${(traffic.bytes / 1e6).toFixed(1)} MB); ${traffic.dropped === undefined ? '?' : int(traffic.dropped)} dropped.`
        : ''),
    '',
  ];
}

export function renderMarkdown(results: BenchResults): string {
  const m = results.machine;
  return [
    `Run ${results.startedAt} (${results.seconds.toFixed(0)} s${results.plan.quick ? ', --quick: short phases, rough figures' : ''}): ` +
      `${m.nproc} × ${m.cpuModel}, Node ${m.node}, ${m.nginx ?? 'no nginx'}, Linux ${m.kernel}; ` +
      `load average ${m.loadStart.toFixed(2)} at the start, ${m.loadEnd?.toFixed(2) ?? '?'} at the end.`,
    '',
    mainTable(results),
    '',
    ...syncTrafficLines(results),
    ...(Object.keys(results.syncTraffic).length > 0 ? [''] : []),
    ...auditLines(results),
    memoryTable(results),
    '',
    openSrpTable(results),
    '',
    targetsTable(results),
    ...(results.problems.length > 0 ? ['', 'Problems:', ...results.problems.map((p) => `- ${p}`)] : []),
    '',
  ].join('\n');
}
