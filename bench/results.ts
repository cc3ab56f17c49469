import type { ConcurrencyMemory, StreamingMemory } from './memory.js';
import type { OpenSrpMeasurement } from './opensrp-rows.js';
import type { Plan } from './plan.js';
import type { ProxyRow } from './proxy-row.js';

/** A row that could not be measured, and why ("pending: …" while a feature is still being written). */
export interface Missing {
  name: string;
  reason: string;
}

export type RowOutcome = { measured: ProxyRow; note?: string } | { missing: Missing };

export interface Machine {
  nproc: number;
  cpuModel: string;
  node: string;
  nginx?: string;
  kernel: string;
  /** /proc/loadavg's 1-minute figure when the run started and ended: other work on the machine skews every row. */
  loadStart: number;
  loadEnd?: number;
}

/** During the OpenSRP sync rows' load: what reached the upstream. */
export interface SyncTraffic {
  patientSearches: number;
  withTag: number;
  lastTagValues: number;
  lastMethod: string;
  /** Lookups (Composition, Practitioner, Location, …) the gateway made while warm: should be 0. */
  lookups: number;
}

/** During the audit row: what reached its AuditEvent sink, and what the gateway counted. */
export interface AuditTraffic {
  bundles: number;
  events: number;
  bytes: number;
  /** From the gateway's `fhir_gateway_audit_events_dropped_total`; undefined when it could not be read. */
  dropped?: number;
}

export interface BenchResults {
  startedAt: string;
  seconds: number;
  machine: Machine;
  plan: Plan;
  rows: RowOutcome[];
  syncTraffic: Record<string, SyncTraffic>;
  memory: { underLoad?: ConcurrencyMemory; streaming?: StreamingMemory; missing?: string };
  /** Absent in runs from before the audit row. */
  audit?: AuditTraffic;
  opensrp: OpenSrpMeasurement[] | { missing: string };
  problems: string[];
}

export const ROW = {
  direct: 'direct (no proxy)',
  nginx: 'nginx, 1 worker, upstream keep-alive',
  bareNode: 'bare Node proxy (node:http + undici, no auth)',
  permissive: 'gateway, permissive (pass-through)',
  audited: 'gateway, permissive + AuditEvents (CRUDE, FHIR sink)',
  syncTree: 'gateway, OpenSRP sync, whole 1,000-Location tree',
  syncFacility: 'gateway, OpenSRP sync, one facility (11 Locations)',
  postProcessed: 'gateway, post-processed Bundle',
} as const;

export function measuredRow(results: BenchResults, name: string): ProxyRow | undefined {
  for (const outcome of results.rows) {
    if ('measured' in outcome && outcome.measured.name === name) return outcome.measured;
  }
  return undefined;
}
