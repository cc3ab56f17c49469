/**
 * What the audit trail keeps of one answer, bounded whatever its size. A body sent whole is kept
 * by reference (it is the buffer being sent) and read after the reply. A streamed body is scanned
 * for Patients chunk by chunk as it flows, and only its first bytes are kept, for an
 * OperationOutcome. A batch or transaction answer is kept up to BUNDLE_ANSWER_MAX_BYTES, to be
 * read entry by entry.
 */
import { type Readable, Transform } from 'node:stream';
import type { AnswerTap } from '../server/pipeline/exchange.js';
import { PatientScanner } from './patients.js';

/** Enough for any OperationOutcome worth recording. */
const HEAD_MAX_BYTES = 64 * 1024;
const BUNDLE_ANSWER_MAX_BYTES = 16 * 1024 * 1024;

export class AnswerCapture implements AnswerTap {
  /** The body sent whole. */
  private whole: Buffer | undefined;
  private readonly chunks: Buffer[] = [];
  private chunkBytes = 0;
  private scanner: PatientScanner | undefined;
  /** False while a streamed body flows, and after it was cut short or was too long to keep. */
  private ended = true;
  private recorded = false;

  /** `keepAll`: the answer of a batch or transaction, read entry by entry. */
  constructor(
    private readonly gatewayBase: string,
    private readonly keepAll: () => boolean,
  ) {}

  bytes(body: Buffer): void {
    this.whole = body;
  }

  stream(body: Readable): Readable {
    const keepAll = this.keepAll();
    if (!keepAll) this.scanner = new PatientScanner(this.gatewayBase);
    this.ended = false;
    const capture = this;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        capture.observe(chunk, keepAll);
        done(null, chunk);
      },
      flush(done) {
        capture.ended = !keepAll || capture.chunkBytes <= BUNDLE_ANSWER_MAX_BYTES;
        done();
      },
    });
    body.on('error', (error) => tap.destroy(error));
    return body.pipe(tap);
  }

  private observe(chunk: Buffer, keepAll: boolean): void {
    this.scanner?.push(chunk);
    const limit = keepAll ? BUNDLE_ANSWER_MAX_BYTES : HEAD_MAX_BYTES;
    if (this.chunkBytes < limit) this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
  }

  /** True once: the exchange is recorded when its answer ends, or when its client goes away. */
  claim(): boolean {
    const first = !this.recorded;
    this.recorded = true;
    return first;
  }

  /** False when a streamed answer was cut short: the client went away before its end. */
  get complete(): boolean {
    return this.ended || this.scanner === undefined;
  }

  /** The whole body, when it was sent whole or kept whole; undefined otherwise. */
  body(): Buffer | undefined {
    if (this.whole !== undefined) return this.whole;
    if (!this.ended || this.scanner !== undefined) return undefined;
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
  }

  /** The body's first bytes (up to 64 KiB), for an OperationOutcome. */
  head(): Buffer | undefined {
    if (this.whole !== undefined) return this.whole;
    if (this.chunks.length === 0) return undefined;
    return Buffer.concat(this.chunks).subarray(0, HEAD_MAX_BYTES);
  }

  /** The Patients the answer named, as far as it went out: a set of this answer's own. */
  patients(): Set<string> {
    if (this.whole !== undefined) {
      const scanner = new PatientScanner(this.gatewayBase);
      scanner.bytes(this.whole);
      return scanner.ids;
    }
    return this.scanner?.ids ?? new Set();
  }
}
