import { Transform, type TransformCallback } from 'node:stream';

/**
 * Replaces every occurrence of `from` with `to` in a byte stream, including occurrences split
 * across chunk boundaries: the last `from.length - 1` bytes of each chunk are held back until the
 * next chunk (or the end) shows whether they start a match. Works on bytes, so multi-byte UTF-8
 * characters split across chunks are never decoded half-way.
 */
export class ReplaceStream extends Transform {
  private readonly from: Buffer;
  private readonly to: Buffer;
  private pending: Buffer = Buffer.alloc(0);

  constructor(from: string, to: string) {
    super();
    this.from = Buffer.from(from);
    this.to = Buffer.from(to);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const { output, rest } = replaceAll(data, this.from, this.to, true);
    this.pending = rest;
    if (output.length > 0) this.push(output);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.pending.length > 0) this.push(this.pending);
    this.pending = Buffer.alloc(0);
    callback();
  }
}

/** Replaces all matches in `data`; with `holdTail`, keeps back a trailing partial match. */
function replaceAll(
  data: Buffer,
  from: Buffer,
  to: Buffer,
  holdTail: boolean,
): { output: Buffer; rest: Buffer } {
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = data.indexOf(from, start); at !== -1; at = data.indexOf(from, start)) {
    parts.push(data.subarray(start, at), to);
    start = at + from.length;
  }
  let end = data.length;
  if (holdTail) end = Math.max(start, data.length - partialMatchLength(data, from, start));
  parts.push(data.subarray(start, end));
  return {
    output: parts.length === 1 ? parts[0]! : Buffer.concat(parts),
    rest: Buffer.from(data.subarray(end)),
  };
}

/** Length of the longest suffix of `data` (from `start` on) that is a proper prefix of `needle`. */
function partialMatchLength(data: Buffer, needle: Buffer, start: number): number {
  const max = Math.min(needle.length - 1, data.length - start);
  for (let len = max; len > 0; len--) {
    if (data.compare(needle, 0, len, data.length - len, data.length) === 0) return len;
  }
  return 0;
}

/** Replaces every occurrence in a whole buffer (small bodies read at once). */
export function replaceInBuffer(data: Buffer, from: string, to: string): Buffer {
  return replaceAll(data, Buffer.from(from), Buffer.from(to), false).output;
}

/** Replaces every occurrence in a whole string (headers, buffered bodies). */
export function replaceInString(text: string, from: string, to: string): string {
  return text.includes(from) ? text.split(from).join(to) : text;
}
