/**
 * One sink's bounded queue of encoded AuditEvents (encoded.ts), written in batches off the request path.
 *
 * - At most `maxEvents`, and `maxBytes` of them, are held (queued, waiting for a retry, or being
 *   written); an event that finds the queue full is dropped, counted, and reported by a warn line
 *   (at most one per 10 s).
 * - A batch starts when `batchMax` events wait, or `intervalMs` after the first one came; up to
 *   MAX_WRITES_IN_FLIGHT batches are written at a time.
 * - A write that fails for a reason that may pass (network, timeout, 408, 429, 5xx, or a refusal of
 *   any Bundle such as 401 or 403: the sink says which, sinks.ts) is retried with exponential
 *   back-off; meanwhile nothing else is sent to that sink. A batch the sink refuses for good (400,
 *   422, ...) is split in two and each half written on its own, so one bad event costs only itself.
 * - `close(deadline)` writes everything left, retrying quickly, until the deadline; what is still
 *   held then is dropped and counted.
 */
import type { Logger } from '../access/contract.js';
import { holdEvent, releaseEvent } from './encoded.js';
import type { AuditMetrics } from './metrics.js';
import type { Sink, WriteResult } from './sinks.js';

export interface QueueOptions {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly batchMax: number;
  readonly intervalMs: number;
}

const MAX_WRITES_IN_FLIGHT = 4;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** While closing, a failed write is tried again this soon. */
const BACKOFF_CLOSING_MS = 100;
const DROP_WARN_EVERY_MS = 10_000;

export class SinkQueue {
  /** Events not yet in a batch. */
  private pending: Buffer[] = [];
  /** Batches to write before new ones are formed: retries and the halves of refused batches. */
  private readonly ready: Buffer[][] = [];
  private readyEvents = 0;
  private writingEvents = 0;
  /** Bytes of the events held. */
  private bytesHeld = 0;
  private writes = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private failures = 0;
  private retryAt = 0;
  private closing = false;
  private closed = false;
  private readonly abort = new AbortController();
  private idle: (() => void) | undefined;
  private lastDropWarn = 0;
  private unreportedDrops = 0;

  constructor(
    private readonly sink: Sink,
    private readonly options: QueueOptions,
    private readonly metrics: AuditMetrics,
    private readonly logger: Logger,
  ) {}

  get name(): string {
    return this.sink.name;
  }

  /** Bytes of the events held. */
  get heldBytes(): number {
    return this.bytesHeld;
  }

  /** Events held in memory: queued, waiting for a retry, or being written. */
  get held(): number {
    return this.pending.length + this.readyEvents + this.writingEvents;
  }

  push(event: Buffer): void {
    if (this.closed) {
      this.drop(1, 'shutdown');
      return;
    }
    if (this.held >= this.options.maxEvents) {
      this.drop(1, 'queue_full', 'AUDIT_QUEUE_MAX_EVENTS');
      return;
    }
    if (this.bytesHeld + event.length > this.options.maxBytes) {
      this.drop(1, 'queue_full', 'AUDIT_QUEUE_MAX_BYTES');
      return;
    }
    holdEvent(event);
    this.bytesHeld += event.length;
    this.pending.push(event);
    if (this.pending.length >= this.options.batchMax) this.pump(false);
    else this.arm(this.options.intervalMs);
  }

  /** Writes what is held until nothing is left or the deadline (ms since the epoch) passes. */
  async close(deadline: number): Promise<void> {
    this.closing = true;
    this.retryAt = Math.min(this.retryAt, Date.now() + BACKOFF_CLOSING_MS);
    this.pump(true);
    if (this.held > 0) {
      await new Promise<void>((resolve) => {
        const cut = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.idle = () => {
          clearTimeout(cut);
          resolve();
        };
      });
    }
    this.closed = true;
    clearTimeout(this.timer);
    const left = this.held;
    if (left > 0) {
      this.abort.abort();
      this.drop(left, 'shutdown');
      this.logger.warn(
        { sink: this.name, dropped: left },
        `audit: ${left} AuditEvents were not written to the ${this.name} sink before the shutdown grace ended (SHUTDOWN_GRACE_MS)`,
      );
    }
    await this.sink.close();
  }

  /** Starts the writes that may start: all that is held when `flush`, full batches otherwise. */
  private pump(flush: boolean): void {
    if (this.closed) return;
    while (this.writes < MAX_WRITES_IN_FLIGHT && this.ready.length + this.pending.length > 0) {
      const wait = this.retryAt - Date.now();
      if (wait > 0) {
        this.arm(wait);
        return;
      }
      let batch = this.ready.shift();
      if (batch !== undefined) this.readyEvents -= batch.length;
      else if (flush || this.closing || this.pending.length >= this.options.batchMax) {
        batch = this.pending.splice(0, this.options.batchMax);
      } else {
        this.arm(this.options.intervalMs);
        return;
      }
      this.write(batch);
    }
    if (this.held === 0) this.idle?.();
  }

  /** Runs `pump(true)` in `ms`, unless a timer set already runs it sooner. */
  private arm(ms: number): void {
    const due = Date.now() + ms;
    if (this.closed || (this.timer !== undefined && this.timerDue <= due)) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump(true);
    }, ms);
    this.timer.unref();
  }

  private write(batch: Buffer[]): void {
    this.writes++;
    this.writingEvents += batch.length;
    this.sink.write(batch, this.abort.signal).then(
      (result) => this.written(batch, result),
      (error: unknown) => this.written(batch, { ok: false, retry: true, reason: String(error) }),
    );
  }

  private written(batch: Buffer[], result: WriteResult): void {
    this.writes--;
    this.writingEvents -= batch.length;
    if (this.closed) return;
    if (result.ok) {
      this.release(batch);
      this.metrics.written.inc({ sink: this.name }, batch.length);
      this.metrics.writes.inc({ sink: this.name, result: 'ok' });
      if (this.failures > 0)
        this.logger.info({ sink: this.name }, `audit: the ${this.name} sink is writing again`);
      this.failures = 0;
      this.retryAt = 0;
    } else if (result.retry) {
      this.metrics.writes.inc({ sink: this.name, result: 'retry' });
      this.requeue(batch);
      this.failures++;
      const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (this.failures - 1));
      const delay = this.closing ? BACKOFF_CLOSING_MS : backoff * (0.8 + Math.random() * 0.4);
      this.retryAt = Date.now() + delay;
      if (this.failures === 1) {
        this.logger.warn(
          { sink: this.name, reason: result.reason, held: this.held },
          `audit: writing to the ${this.name} sink failed; the events are kept (up to AUDIT_QUEUE_MAX_EVENTS and AUDIT_QUEUE_MAX_BYTES) and retried`,
        );
      }
    } else {
      this.metrics.writes.inc({ sink: this.name, result: 'rejected' });
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        this.requeue(batch.slice(half));
        this.requeue(batch.slice(0, half));
      } else {
        this.release(batch);
        this.drop(1, 'rejected', result.reason);
      }
    }
    this.pump(false);
  }

  /** Lets the queue's events go: written, or refused for good. */
  private release(batch: readonly Buffer[]): void {
    for (const event of batch) {
      this.bytesHeld -= event.length;
      releaseEvent(event);
    }
  }

  private requeue(batch: Buffer[]): void {
    this.ready.unshift(batch);
    this.readyEvents += batch.length;
  }

  /** `detail`: the setting whose limit was reached (queue_full), or the server's refusal (rejected). */
  private drop(count: number, reason: 'queue_full' | 'rejected' | 'shutdown', detail?: string): void {
    this.metrics.dropped.inc({ sink: this.name, reason }, count);
    if (reason === 'shutdown') return;
    this.unreportedDrops += count;
    const now = Date.now();
    if (now - this.lastDropWarn < DROP_WARN_EVERY_MS) return;
    this.logger.warn(
      {
        sink: this.name,
        reason,
        dropped: this.unreportedDrops,
        ...(reason === 'queue_full'
          ? {
              setting: detail,
              limit: detail === 'AUDIT_QUEUE_MAX_BYTES' ? this.options.maxBytes : this.options.maxEvents,
            }
          : detail !== undefined
            ? { detail }
            : {}),
      },
      reason === 'queue_full'
        ? `audit: AuditEvents dropped: the ${this.name} sink's queue is full`
        : `audit: AuditEvents dropped: the ${this.name} sink refused them`,
    );
    this.lastDropWarn = now;
    this.unreportedDrops = 0;
  }
}
