import { Counter, Gauge, type Registry } from 'prom-client';

/** The audit trail's Prometheus metrics, in the gateway's registry. */
export class AuditMetrics {
  readonly written: Counter<'sink'>;
  readonly dropped: Counter<'sink' | 'reason'>;
  readonly writes: Counter<'sink' | 'result'>;
  readonly buildFailures: Counter;

  /**
   * `held`: each sink's name, and the events and bytes it holds now, read when scraped (nothing to
   * update per event).
   */
  constructor(registry: Registry, held: () => Iterable<readonly [string, number, number]>) {
    this.written = new Counter({
      name: 'fhir_gateway_audit_events_written_total',
      help: 'AuditEvents written, by sink (fhir, file)',
      labelNames: ['sink'] as const,
      registers: [registry],
    });
    this.dropped = new Counter({
      name: 'fhir_gateway_audit_events_dropped_total',
      help: 'AuditEvents lost, by sink and reason: the queue was full (queue_full), the sink refused the event (rejected), or the shutdown grace ended first (shutdown)',
      labelNames: ['sink', 'reason'] as const,
      registers: [registry],
    });
    this.writes = new Counter({
      name: 'fhir_gateway_audit_writes_total',
      help: 'Writes of a batch of AuditEvents, by sink and result (ok, retry, rejected)',
      labelNames: ['sink', 'result'] as const,
      registers: [registry],
    });
    this.buildFailures = new Counter({
      name: 'fhir_gateway_audit_build_failures_total',
      help: 'Requests whose AuditEvents could not be built (a gateway bug; logged at error)',
      registers: [registry],
    });
    new Gauge({
      name: 'fhir_gateway_audit_queue_events',
      help: 'AuditEvents a sink holds in memory (queued or being written), at most AUDIT_QUEUE_MAX_EVENTS',
      labelNames: ['sink'] as const,
      registers: [registry],
      collect() {
        for (const [sink, count] of held()) this.set({ sink }, count);
      },
    });
    new Gauge({
      name: 'fhir_gateway_audit_queue_bytes',
      help: 'Bytes of the AuditEvents a sink holds in memory, at most AUDIT_QUEUE_MAX_BYTES',
      labelNames: ['sink'] as const,
      registers: [registry],
      collect() {
        for (const [sink, , bytes] of held()) this.set({ sink }, bytes);
      },
    });
  }
}
