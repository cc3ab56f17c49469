/**
 * Where AuditEvents are written. Each sink takes a batch of events, already encoded (encoded.ts),
 * and says whether it was written, may be retried, or was refused for good.
 */
import { close as closeFd, write as writeFd } from 'node:fs';
import { promisify } from 'node:util';
import type { Backend } from '../backend/backend.js';
import { GatewayError } from '../fhir/errors.js';
import { jsonLines, transactionBundle, transactionBundleLength } from './encoded.js';

export type WriteResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly retry: boolean; readonly reason: string };

export interface Sink {
  /** The `sink` label of the metrics and logs. */
  readonly name: 'fhir' | 'file';
  /** `events`: each one AuditEvent's JSON as UTF-8. */
  write(events: readonly Buffer[], signal: AbortSignal): Promise<WriteResult>;
  close(): Promise<void>;
}

const OK: WriteResult = { ok: true };
/** A batch body is at least this big, so that one buffer serves batches of most sizes. */
const MIN_BODY_BYTES = 1024 * 1024;
/** As many as writes in flight per sink (queue.ts). */
const SPARE_BODIES_MAX = 4;

/**
 * A FHIR server: one `transaction` Bundle of `POST AuditEvent` entries per batch, through a Backend
 * (the gateway's own when the sink is PROXY_TO, so its credentials apply).
 */
export class FhirSink implements Sink {
  readonly name = 'fhir';

  constructor(
    private readonly backend: Backend,
    /** Closed with the sink: a client of its own (AUDIT_SINK_URL), not the gateway's backend. */
    private readonly owned: boolean,
  ) {}

  /**
   * Bodies of writes the server took whole, kept for the next writes: a fresh one per batch counted
   * towards V8's external-memory limit (see encoded.ts). One whose write failed is left to the
   * collector, as the socket may still be sending it.
   */
  private readonly spareBodies: Buffer[] = [];

  async write(events: readonly Buffer[], signal: AbortSignal): Promise<WriteResult> {
    const length = transactionBundleLength(events);
    let buffer = this.spareBodies.pop();
    if (buffer === undefined || buffer.length < length)
      buffer = Buffer.allocUnsafeSlow(Math.max(length, MIN_BODY_BYTES));
    const body = transactionBundle(events, buffer);
    let response: Awaited<ReturnType<Backend['send']>>;
    try {
      response = await this.backend.send({
        method: 'POST',
        target: '',
        headers: {
          'content-type': 'application/fhir+json',
          accept: 'application/fhir+json',
          prefer: 'return=minimal',
        },
        body,
        signal,
      });
    } catch (error) {
      return { ok: false, retry: true, reason: failureText(error) };
    }
    if (response.status >= 200 && response.status < 300) {
      await response.body.dump();
      if (this.spareBodies.length < SPARE_BODIES_MAX) this.spareBodies.push(buffer);
      return OK;
    }
    const text = await response.body.text().catch(() => '');
    return {
      ok: false,
      retry: refusesAnyBundle(response.status),
      reason: `HTTP ${response.status}${diagnosticsOf(text)}`,
    };
  }

  async close(): Promise<void> {
    if (this.owned) await this.backend.close();
  }
}

/**
 * Statuses that say nothing about the events in the Bundle: the server is busy or failing (408,
 * 429, 5xx), or refuses every Bundle until someone fixes its access or address (401, 403, 404,
 * 405, 406, 407, 415). They are retried with back-off, the events kept. Any other refusal (400,
 * 409, 412, 413, 422, ...) may be one event's fault, and the batch is split to find it: splitting
 * for a status that refuses everything would send each batch about twice per halving, for nothing.
 */
function refusesAnyBundle(status: number): boolean {
  return status >= 500 || ANY_BUNDLE_REFUSED.has(status);
}
const ANY_BUNDLE_REFUSED = new Set([401, 403, 404, 405, 406, 407, 408, 415, 429]);

function failureText(error: unknown): string {
  if (error instanceof GatewayError)
    return error.detail ? `${error.message} (${error.detail})` : error.message;
  return error instanceof Error ? error.message : String(error);
}

/** `: <diagnostics>` of an OperationOutcome answer, shortened; '' when there is none. */
function diagnosticsOf(text: string): string {
  try {
    const issue = (JSON.parse(text) as { issue?: { diagnostics?: unknown }[] }).issue?.[0];
    if (typeof issue?.diagnostics === 'string') return `: ${issue.diagnostics.slice(0, 300)}`;
  } catch {
    // Not JSON: the status says enough.
  }
  return '';
}

const writeAll = promisify(writeFd);

/** JSON lines, one AuditEvent per line, appended to a file (opened by the caller) or standard output. */
export class JsonLinesSink implements Sink {
  readonly name = 'file';

  /** `fd` undefined: standard output. */
  constructor(private readonly fd: number | undefined) {}

  async write(events: readonly Buffer[]): Promise<WriteResult> {
    try {
      if (this.fd === undefined) await writeLines(events);
      else {
        let bytes = jsonLines(events);
        while (bytes.length > 0) {
          const { bytesWritten } = await writeAll(this.fd, bytes);
          bytes = bytes.subarray(bytesWritten);
        }
      }
      return OK;
    } catch (error) {
      return { ok: false, retry: true, reason: (error as Error).message };
    }
  }

  close(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return Promise.resolve();
    return new Promise((resolve) => closeFd(fd, () => resolve()));
  }
}

/**
 * Standard output is shared with the log lines: one write per line, through process.stdout (written
 * synchronously to files and pipes on Linux), so that no log line lands inside an event.
 */
function writeLines(events: readonly Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    events.forEach((event, index) => {
      process.stdout.write(jsonLines([event]), (error) => {
        if (error && !failed) {
          failed = true;
          reject(error);
        } else if (index === events.length - 1) resolve();
      });
    });
  });
}
