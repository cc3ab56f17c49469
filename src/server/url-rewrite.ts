import { Transform, type TransformCallback } from 'node:stream';

/**
 * Rewrites what follows the base URL in each URL found (`Patient?_tag=…&_count=10`): gets the text
 * between the base URL and the end of the URL, returns its replacement. Called only for URLs with
 * a query: a rewrite leaves a URL without one as it is.
 */
export type UrlTailRewrite = (tail: string) => string;

/** What ends a URL inside a JSON string, an XML attribute or element, or a header. */
const URL_END = new Uint8Array(256);
for (const byte of [0x22, 0x27, 0x3c, 0x3e, 0x5c, 0x20, 0x09, 0x0a, 0x0d]) URL_END[byte] = 1;
const QUESTION_MARK = 0x3f;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
/** A URL still open at a chunk's end is held back up to this size, then passed on unchanged. */
const MAX_HELD_URL_BYTES = 4 * 1024 * 1024;

/**
 * Replaces every occurrence of `from` with `to` in a byte stream, including occurrences split
 * across chunk boundaries: the last `from.length - 1` bytes of each chunk are held back until the
 * next chunk (or the end) shows whether they start a match. Works on bytes, so multi-byte UTF-8
 * characters split across chunks are never decoded half-way. With `tail`, the rest of each URL
 * is held back until its end is seen, and rewritten too.
 */
export class ReplaceStream extends Transform {
  private readonly from: Buffer;
  private readonly to: Buffer;
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    from: string,
    to: string,
    private readonly tail?: UrlTailRewrite,
  ) {
    super();
    this.from = Buffer.from(from);
    this.to = Buffer.from(to);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const { output, rest } = replaceAll(data, this.from, this.to, this.tail, true);
    this.pending = rest;
    if (output.length > 0) this.push(output);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.pending.length > 0) {
      this.push(replaceAll(this.pending, this.from, this.to, this.tail, false).output);
    }
    this.pending = Buffer.alloc(0);
    callback();
  }
}

/** Replaces all matches in `data`; with `holdTail`, keeps back a trailing partial match or open URL. */
function replaceAll(
  data: Buffer,
  from: Buffer,
  to: Buffer,
  tail: UrlTailRewrite | undefined,
  holdTail: boolean,
): { output: Buffer; rest: Buffer } {
  const parts: Buffer[] = [];
  // Searched as latin1 text, one char per byte, so positions are byte offsets: String#indexOf runs
  // in the JIT, where each Buffer#indexOf is a call into C++ (most of the cost on a 200-entry page).
  const text = data.toString('latin1');
  const needle = from.toString('latin1');
  let start = 0;
  for (let at = text.indexOf(needle, start); at !== -1; at = text.indexOf(needle, start)) {
    if (!tail) {
      parts.push(data.subarray(start, at), to);
      start = at + from.length;
      continue;
    }
    if (at >= FULL_URL.length && text.startsWith(FULL_URL, at - FULL_URL.length)) {
      // A Bundle entry's fullUrl names one resource: no query to rewrite, and the most common case.
      parts.push(data.subarray(start, at), to);
      start = at + from.length;
      continue;
    }
    // A quote opens a quoted URL only when it is not escaped: `\"` + base is text inside a JSON string.
    const quoted = at > 0 && data[at - 1] === QUOTE && !(at > 1 && data[at - 2] === BACKSLASH);
    const url = scanUrl(data, at + from.length, quoted);
    if (url.end === -1 && holdTail && data.length - at <= MAX_HELD_URL_BYTES) {
      parts.push(data.subarray(start, at));
      return { output: Buffer.concat(parts), rest: Buffer.from(data.subarray(at)) };
    }
    const end = url.end === -1 ? data.length : url.end;
    if (!url.query) {
      // No query (a fullUrl, a Location): nothing for `tail` to change, and no string to build.
      parts.push(data.subarray(start, at), to);
      start = at + from.length;
      continue;
    }
    const original = data.toString('utf8', at + from.length, end);
    let rewritten = tail(original);
    // The backend's base URL may appear again inside the link, unencoded (`<base>?a=<base>?b`):
    // replaced there too, as everywhere else in the body (PROXY_TO is ASCII: its WHATWG form).
    if (rewritten.includes(needle)) rewritten = rewritten.split(needle).join(to.toString('utf8'));
    parts.push(
      data.subarray(start, at),
      to,
      rewritten === original ? data.subarray(at + from.length, end) : Buffer.from(rewritten),
    );
    start = end;
  }
  let end = data.length;
  if (holdTail) end = Math.max(start, data.length - partialMatchLength(data, from, start));
  parts.push(data.subarray(start, end));
  return {
    output: parts.length === 1 ? parts[0]! : Buffer.concat(parts),
    rest: Buffer.from(data.subarray(end)),
  };
}

/** What precedes a Bundle entry's fullUrl in JSON. */
const FULL_URL = '"fullUrl":"';

/**
 * Where the URL starting at `from` ends (-1: not within `data`), and whether it has a query. A
 * URL that opens a quoted string (JSON, an XML attribute) ends at the next quote or backslash,
 * found by native search: paging links of a large assignment are tens of KB long.
 */
function scanUrl(data: Buffer, from: number, quoted: boolean): { end: number; query: boolean } {
  if (quoted) {
    const quote = data.indexOf(QUOTE, from);
    const span = data.subarray(from, quote === -1 ? data.length : quote);
    // A link holds no backslash or space; text does (another base URL after them is its own URL).
    const stop = firstOf(span, BACKSLASH, SPACE);
    const inside = stop === -1 ? span : span.subarray(0, stop);
    return { end: stop === -1 ? quote : from + stop, query: inside.indexOf(QUESTION_MARK) !== -1 };
  }
  let query = false;
  for (let i = from; i < data.length; i++) {
    const byte = data[i]!;
    if (URL_END[byte] === 1) return { end: i, query };
    if (byte === QUESTION_MARK) query = true;
  }
  return { end: -1, query };
}

/** The first index of either byte in `data`, or -1. */
function firstOf(data: Buffer, a: number, b: number): number {
  const first = data.indexOf(a);
  const second = data.indexOf(b);
  if (first === -1) return second;
  return second === -1 || first < second ? first : second;
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
export function replaceInBuffer(data: Buffer, from: string, to: string, tail?: UrlTailRewrite): Buffer {
  return replaceAll(data, Buffer.from(from), Buffer.from(to), tail, false).output;
}

/** Replaces every occurrence in a whole string (headers, buffered bodies). */
export function replaceInString(text: string, from: string, to: string, tail?: UrlTailRewrite): string {
  if (!text.includes(from)) return text;
  if (!tail) return text.split(from).join(to);
  return replaceInBuffer(Buffer.from(text), from, to, tail).toString('utf8');
}
