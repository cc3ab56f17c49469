/**
 * AuditEvents as UTF-8 bytes, written straight into shared slabs when they are recorded, and the
 * sinks' batches written around them without decoding or copying them again.
 *
 * Why bytes: an event of a 20-Patient search is ~6.4 KB of JSON. Built as a string it was a rope
 * of ~100 pieces, flattened once for the event and once more, with 99 others, when the HTTP client
 * encoded a ~640 KB batch on the event loop (measured 10-17 µs per event inside the gateway, and
 * every piece garbage for the young-generation collector). Written into a slab, an event's fixed
 * parts are copies of bytes made at load, it waits outside the JavaScript heap, and a batch is
 * copied once around them into a reused body buffer.
 */

/** Bytes per slab. Events are written one after another into the current slab. */
const SLAB_BYTES = 256 * 1024;
/** UTF-8 needs at most 3 bytes per UTF-16 code unit. */
const MAX_BYTES_PER_UNIT = 3;
/** Characters from which `Buffer#write` copies faster than a loop. */
const NATIVE_WRITE_ABOVE = 128;

/**
 * Slabs are reused, not left to the collector: every byte allocated outside the JavaScript heap
 * counts towards V8's external-memory limit, and at ~6 MB/s of events (1,000 audited searches/s)
 * fresh slabs started a full mark-compact every two seconds (21 against 1 in 40 s, audit on/off).
 * A queue holds each event it takes (`holdEvent`) and lets it go once written or dropped
 * (`releaseEvent`); a slab no longer written into, whose events are all let go, is kept for reuse.
 * An event never let go (a queue closed with events in it) only keeps its slab from reuse.
 */
interface SlabUse {
  readonly slab: Buffer;
  /** Events of this slab held by queues. */
  held: number;
  /** Written into no more. */
  retired: boolean;
}
const slabUses = new WeakMap<ArrayBufferLike, SlabUse>();
const spareSlabs: Buffer[] = [];
/** Spare slabs kept (of SLAB_BYTES or more); more are left to the collector. */
const SPARE_SLABS_MAX = 16;

function newSlab(bytes: number): Buffer {
  let slab: Buffer | undefined;
  while (slab === undefined && spareSlabs.length > 0) {
    const spare = spareSlabs.pop()!;
    if (spare.length >= bytes) slab = spare;
  }
  slab ??= Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bytes));
  slabUses.set(slab.buffer, { slab, held: 0, retired: false });
  return slab;
}

function spareIfFree(use: SlabUse): void {
  if (use.retired && use.held === 0 && spareSlabs.length < SPARE_SLABS_MAX) {
    use.retired = false;
    spareSlabs.push(use.slab);
  }
}

/** A queue takes the event. */
export function holdEvent(event: Buffer): void {
  const use = slabUses.get(event.buffer);
  if (use !== undefined) use.held++;
}

/** A queue is done with the event (written or dropped): its bytes may be written over. */
export function releaseEvent(event: Buffer): void {
  const use = slabUses.get(event.buffer);
  if (use === undefined || use.held === 0) return;
  use.held--;
  spareIfFree(use);
}

/**
 * Writes one event at a time into the current slab; `end()` hands out the event's bytes, a view
 * of the slab. Not reentrant: one event is written from `begin()` to `end()` without yielding,
 * and handed to the queues (which hold it) before the next one begins.
 */
export class EventBytes {
  private slab: Buffer = newSlab(SLAB_BYTES);
  /** Where the event being written starts, and where the next byte goes. */
  private start = 0;
  private at = 0;

  begin(): void {
    this.start = this.at;
  }

  /** Bytes made once (a constant part of every event). */
  bytes(part: Uint8Array): void {
    this.room(part.length);
    this.slab.set(part, this.at);
    this.at += part.length;
  }

  /**
   * Text that is ASCII by construction: FHIR ids (checked where they are found), instants, codes,
   * base64. One byte per character, written without a check: a character above U+00FF would lose
   * its high bits, so nothing else may come here.
   */
  ascii(text: string): void {
    const length = text.length;
    this.room(length);
    if (length > NATIVE_WRITE_ABOVE) {
      this.at += this.slab.write(text, this.at, 'latin1');
      return;
    }
    // Shorter texts are copied here: Buffer#write's argument checks cost more than the copy.
    const slab = this.slab;
    const at = this.at;
    for (let i = 0; i < length; i++) slab[at + i] = text.charCodeAt(i);
    this.at = at + length;
  }

  /** Any text, as UTF-8. */
  text(text: string): void {
    this.room(text.length * MAX_BYTES_PER_UNIT);
    this.at += this.slab.write(text, this.at);
  }

  /** A JSON string literal of `text`. */
  json(text: string): void {
    this.text(JSON.stringify(text));
  }

  /** The event written since `begin()`. */
  end(): Buffer {
    return this.slab.subarray(this.start, this.at);
  }

  /** Makes room for `bytes` more: the event so far moves to a new slab when the current one is short. */
  private room(bytes: number): void {
    if (this.at + bytes <= this.slab.length) return;
    const written = this.at - this.start;
    const next = newSlab(2 * (written + bytes));
    this.slab.copy(next, 0, this.start, this.at);
    const use = slabUses.get(this.slab.buffer);
    this.slab = next;
    this.start = 0;
    this.at = written;
    if (use !== undefined) {
      use.retired = true;
      spareIfFree(use);
    }
  }
}

const BUNDLE_OPEN = Buffer.from('{"resourceType":"Bundle","type":"transaction","entry":[');
const BUNDLE_CLOSE = Buffer.from(']}');
const ENTRY_OPEN = Buffer.from('{"resource":');
const NEXT_ENTRY_OPEN = Buffer.from(',{"resource":');
const ENTRY_CLOSE = Buffer.from(',"request":{"method":"POST","url":"AuditEvent"}}');
const NEWLINE = Buffer.from('\n');

/** The bytes of `transactionBundle(events)`. */
export function transactionBundleLength(events: readonly Buffer[]): number {
  let length = BUNDLE_OPEN.length + BUNDLE_CLOSE.length + ENTRY_OPEN.length - NEXT_ENTRY_OPEN.length;
  for (const event of events) length += NEXT_ENTRY_OPEN.length + event.length + ENTRY_CLOSE.length;
  return length;
}

/**
 * One transaction Bundle of `POST AuditEvent` entries, one per event, in order, written into `into`
 * (at least `transactionBundleLength(events)` long); returns that view of it.
 */
export function transactionBundle(events: readonly Buffer[], into: Buffer): Buffer {
  let at = 0;
  const put = (part: Uint8Array) => {
    into.set(part, at);
    at += part.length;
  };
  put(BUNDLE_OPEN);
  events.forEach((event, index) => {
    put(index === 0 ? ENTRY_OPEN : NEXT_ENTRY_OPEN);
    put(event);
    put(ENTRY_CLOSE);
  });
  put(BUNDLE_CLOSE);
  return into.subarray(0, at);
}

/** JSON lines: each event followed by a newline. */
export function jsonLines(events: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  for (const event of events) {
    parts.push(event, NEWLINE);
    length += event.length + 1;
  }
  return Buffer.concat(parts, length);
}
