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

/** An answered exchange whose events are not built yet. */
interface Unbuilt {
  readonly answered: Answered;
  readonly capture: AnswerCapture | undefined;
  /** When the answer ended, in ms since the epoch. */
  readonly endMs: number;
}

/** Exchanges whose events are built together: enough for the builder to run from warm caches. */
const RECORD_BATCH = 64;
/** Answer and request bytes those exchanges may hold before their events are built. */
const RECORD_BATCH_BYTES = 4 * 1024 * 1024;
/** Longest wait of an exchange before its events are built. */
const RECORD_DELAY_MS = 20;

export class AuditTrail {
  private readonly queues: SinkQueue[];
  private readonly metrics: AuditMetrics;
  private unbuilt: Unbuilt[] = [];
  private unbuiltBytes = 0;
  private buildTimer: NodeJS.Timeout | undefined;

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
   * Takes an answered exchange to be recorded; never throws. Its events are built a little later,
   * with others (see RECORD_BATCH): inside the request path, between two requests' work, the
   * builder's code and constants are evicted from the CPU caches, and the same work measured about
   * five times its cost in a loop. The instants are taken now.
   */
  record(answered: Answered): void {
    try {
      const capture =
        answered.exchange.answerTap instanceof AnswerCapture ? answered.exchange.answerTap : undefined;
      if (capture !== undefined && !capture.claim()) return;
      this.unbuilt.push({ answered, capture, endMs: Date.now() });
      this.unbuiltBytes += (capture?.heldBytes ?? 0) + (answered.exchange.body?.length ?? 0);
      if (this.unbuilt.length >= RECORD_BATCH || this.unbuiltBytes >= RECORD_BATCH_BYTES) this.buildAll();
      else if (this.buildTimer === undefined) {
        this.buildTimer = setTimeout(() => this.buildAll(), RECORD_DELAY_MS);
        this.buildTimer.unref();
      }
    } catch (error) {
      this.failed(error, answered.exchange.requestId);
    }
  }

  /** Builds the events of every exchange taken so far, and queues them. */
  private buildAll(): void {
    clearTimeout(this.buildTimer);
    this.buildTimer = undefined;
    const unbuilt = this.unbuilt;
    this.unbuilt = [];
    this.unbuiltBytes = 0;
    for (const item of unbuilt) {
      try {
        this.build(item);
      } catch (error) {
        this.failed(error, item.answered.exchange.requestId);
      }
    }
  }

  private build({ answered, capture, endMs }: Unbuilt): void {
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
    this.buildAll();
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
