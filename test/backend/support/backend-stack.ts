/**
 * A real gateway configured with a BACKEND_TYPE, in front of the real local FHIR server, trusting
 * the real local issuer, with its log lines captured (every level) and its metrics port open, for
 * the backend credential tests.
 */
import pino from 'pino';
import type { AccessCheckerFactory } from '../../../src/access/contract.js';
import type { Gateway } from '../../../src/server/gateway.js';
import { type FhirServerOptions, type LocalFhirServer, startFhirServer } from '../../support/fhir-server.js';
import { freePort } from '../../support/free-port.js';
import { bearer, type RawResponse, send } from '../../support/http.js';
import type { LocalIssuer } from '../../support/issuer.js';
import { type Stack, startStack } from '../../support/stack.js';

/** The FHIR base of a Cloud Healthcare API store, as the local server serves it. */
export const GCP_STORE_PATH =
  '/v1/projects/p-test/locations/europe-west4/datasets/d-test/fhirStores/s-test/fhir';

export interface BackendStack {
  readonly gatewayUrl: string;
  readonly fhir: LocalFhirServer;
  readonly issuer: LocalIssuer;
  readonly gateway: Gateway;
  /** Every log line the gateway wrote, as JSON text. */
  readonly logs: string[];
  /** GET (or another method) on the gateway as a user of the local issuer. */
  call(
    path: string,
    options?: { method?: string; body?: string; headers?: Record<string, string>; token?: string },
  ): Promise<RawResponse>;
  /** The Prometheus text of METRICS_PORT. */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

export async function startBackendStack(options: {
  env: Record<string, string>;
  fhir?: FhirServerOptions;
  extraCheckers?: readonly AccessCheckerFactory[];
}): Promise<BackendStack> {
  const fhir = await startFhirServer(options.fhir ?? {});
  const metricsPort = await freePort();
  const logs: string[] = [];
  let stack: Stack;
  try {
    stack = await startStack({
      fhir,
      ...(options.extraCheckers ? { extraCheckers: options.extraCheckers } : {}),
      env: { METRICS_PORT: String(metricsPort), ...options.env },
      // No redaction configured here: the assertions check what the code itself writes.
      logger: pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) }),
    });
  } catch (error) {
    await fhir.close();
    throw error;
  }
  const { gatewayUrl, issuer, gateway } = stack;
  return {
    gatewayUrl,
    fhir,
    issuer,
    gateway,
    logs,
    async call(path, callOptions = {}) {
      const token = callOptions.token ?? (await issuer.mint({ sub: 'backend-test' }));
      return send(gatewayUrl, {
        method: callOptions.method ?? 'GET',
        path,
        headers: bearer(token, callOptions.headers),
        ...(callOptions.body === undefined ? {} : { body: callOptions.body }),
      });
    },
    async metrics() {
      const res = await send(`http://127.0.0.1:${metricsPort}`, { path: '/metrics' });
      return res.text;
    },
    async close() {
      await stack.close();
      await fhir.close();
    },
  };
}

/** The value of one sample of a metric, e.g. `metricValue(text, 'x_total', 'kind="token"')`. */
export function metricValue(text: string, name: string, labels = ''): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const [series, value] = line.split(' ');
    if (series === undefined || value === undefined) continue;
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    if (labels.split(',').every((label) => label === '' || series.includes(label))) return Number(value);
  }
  return 0;
}

/** Polls until `check` holds (after waits of 100 ms); for recoveries paced by the gateway's retry delay. */
export async function eventually(check: () => Promise<boolean>, what: string, attempts = 400): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`never happened: ${what}`);
}

/** Asserts no captured line contains any of the values (secrets, tokens). */
export function leakedIn(logs: readonly string[], values: readonly string[]): string[] {
  return values.filter((value) => logs.some((line) => line.includes(value)));
}
