import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Prometheus metrics of one gateway instance (its own registry, so tests can run several). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'fhir_gateway_requests_total',
    help: 'Requests answered, by FHIR interaction and HTTP status',
    labelNames: ['interaction', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'fhir_gateway_request_duration_seconds',
    help: 'Time from request to the end of the answer, by FHIR interaction and HTTP status',
    labelNames: ['interaction', 'status'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: 'fhir_gateway_upstream_duration_seconds',
    help: 'Time until the FHIR server sent its response headers, by status',
    labelNames: ['status'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'fhir_gateway_access_decisions_total',
    help: 'Access decisions, by outcome and what decided',
    labelNames: ['outcome', 'by'] as const,
    registers: [this.registry],
  });
  readonly backendAuthFailures = new Counter({
    name: 'fhir_gateway_backend_auth_failures_total',
    help: 'Failures to authenticate to the FHIR server, by backend type and kind: no token could be obtained (token) or the server refused it (refused)',
    labelNames: ['backend_type', 'kind'] as const,
    registers: [this.registry],
  });
  readonly backendAuthUp = new Gauge({
    name: 'fhir_gateway_backend_auth_up',
    help: '0 from a failure to authenticate to the FHIR server until the next success, 1 otherwise',
    labelNames: ['backend_type'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'fhir_gateway_' });
  }
}
