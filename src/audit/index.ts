/**
 * The audit trail: BALP AuditEvents for the FHIR interactions named by AUDIT_EVENT_ACTIONS_CONFIG,
 * built after the answer went out and written asynchronously, in batches, to the sinks (a FHIR
 * server, a JSON-lines file). Nothing here runs before or delays a reply, and no failure here
 * reaches a client. See docs/audit.md.
 */
import { openSync } from 'node:fs';
import type { Registry } from 'prom-client';
import type { Logger } from '../access/contract.js';
import { Backend } from '../backend/backend.js';
import { type AuditSettings, ConfigError } from '../config/index.js';
import type { Exchange } from '../server/pipeline/exchange.js';
import { AnswerCapture } from './answer-capture.js';
import { auditEvent, type RequestContext } from './event.js';
import { type AnswerFacts, factsOf } from './facts.js';
import { isoInstant } from './instant.js';
import { AuditMetrics } from './metrics.js';
import { principalOf } from './principal.js';
import { SinkQueue } from './queue.js';
import { FhirSink, JsonLinesSink, type Sink } from './sinks.js';

export interface AuditDeps {
  /** The gateway's backend client: the FHIR sink when it is PROXY_TO. */
  readonly backend: Backend;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
}

/** One answered request, as the http edge saw it go out; what the answer showed is on `exchange.answerTap`. */
export interface Answered extends Omit<AnswerFacts, 'capture'> {
  readonly exchange: Exchange;
  /** The client's address (X-Forwarded-For only with TRUST_PROXY). */
  readonly clientAddress: string;
  /** Time from the request's arrival to the end of the answer. */
  readonly elapsedMs: number;
}

export class AuditTrail {
  private readonly queues: SinkQueue[];
  private readonly metrics: AuditMetrics;

  /** Throws ConfigError when AUDIT_LOG_FILE cannot be opened for appending. */
  constructor(
    private readonly settings: AuditSettings,
    private readonly deps: AuditDeps,
  ) {
    this.metrics = new AuditMetrics(deps.registry, () =>
      this.queues.map((q) => [q.name, q.held, q.heldBytes] as const),
    );
    const options = {
      maxEvents: settings.queueMaxEvents,
      maxBytes: settings.queueMaxBytes,
      batchMax: settings.batchMaxEvents,
      intervalMs: settings.flushIntervalMs,
    };
    this.queues = sinksOf(settings, deps).map(
      (sink) => new SinkQueue(sink, options, this.metrics, deps.logger),
    );
  }

  /** What the respond stage shows the answer to, for this exchange. */
  tap(exchange: Exchange): AnswerCapture {
    return new AnswerCapture(exchange.baseUrl, () => {
      const interaction = exchange.fhir?.interaction;
      return interaction === 'batch' || interaction === 'transaction';
    });
  }

  /**
   * Records an answered exchange, after its answer went out; never throws. Its events are built now
   * and queued. Building them later, in batches from warmer CPU caches, was tried and measured worse:
   * holding the exchanges and their answers for up to 20 ms made V8 run more full collections,
   * which cost more than the caches saved, most of all for large answers (docs/audit.md, "Cost").
   */
  record(answered: Answered): void {
    try {
      const capture =
        answered.exchange.answerTap instanceof AnswerCapture ? answered.exchange.answerTap : undefined;
      if (capture !== undefined && !capture.claim()) return;
      this.build(answered, capture, Date.now());
    } catch (error) {
      this.failed(error, answered.exchange.requestId);
    }
  }

  /** `endMs`: when the answer ended, in ms since the epoch. */
  private build(answered: Answered, capture: AnswerCapture | undefined, endMs: number): void {
    const { exchange } = answered;
    const facts = factsOf(exchange, capture ? { ...answered, capture } : answered, this.settings.actions);
    if (facts.length === 0) return;
    const principal = principalOf(exchange.token, exchange.decision);
    if (principal === undefined) return;
    const context: RequestContext = {
      principal,
      clientAddress: answered.clientAddress,
      gatewayBase: exchange.baseUrl,
      requestId: exchange.requestId,
      start: isoInstant(Math.trunc(endMs - answered.elapsedMs)),
      end: isoInstant(endMs),
    };
    for (const fact of facts) {
      const event = auditEvent(context, fact);
      for (const queue of this.queues) queue.push(event);
    }
  }

  private failed(error: unknown, requestId: string): void {
    this.metrics.buildFailures.inc();
    this.deps.logger.error(
      { err: error, requestId },
      'audit: the AuditEvents of a request could not be built',
    );
  }

  /** Writes what is held, until the deadline (ms since the epoch); then drops and counts the rest. */
  async close(deadline: number): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close(deadline)));
  }
}

function sinksOf(settings: AuditSettings, deps: AuditDeps): Sink[] {
  const sinks: Sink[] = [];
  if (settings.logFile !== undefined) sinks.push(new JsonLinesSink(openLogFile(settings.logFile)));
  if (settings.sinkUrl !== undefined) {
    const backend = settings.sinkIsBackend
      ? deps.backend
      : new Backend({
          baseUrl: settings.sinkUrl,
          connectTimeoutMs: deps.connectTimeoutMs,
          timeoutMs: deps.timeoutMs,
          connections: 4,
        });
    sinks.push(new FhirSink(backend, !settings.sinkIsBackend));
  }
  return sinks;
}

/** `-`: standard output (undefined). A path: opened for appending now, so a bad path stops the start. */
function openLogFile(path: string): number | undefined {
  if (path === '-') return undefined;
  try {
    return openSync(path, 'a');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError('AUDIT_LOG_FILE', `cannot open ${JSON.stringify(path)} for appending (${code})`);
  }
}
