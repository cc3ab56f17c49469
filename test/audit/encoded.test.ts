/**
 * Encoded AuditEvents (src/audit/encoded.ts): slabs are reused once the queues let go of their
 * events, and an event a queue still holds never changes, whatever is written after it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EventBytes,
  holdEvent,
  releaseEvent,
  transactionBundle,
  transactionBundleLength,
} from '../../src/audit/encoded.js';
import { seededRandom as random } from '../support/seeded-random.js';

describe('encoded AuditEvents', () => {
  test('held events keep their bytes while slabs are reused for later ones', () => {
    const next = random(20261130);
    const out = new EventBytes();
    const held: { event: Buffer; copy: Buffer; holds: number }[] = [];
    const slabs = new Set<ArrayBufferLike>();
    let bytes = 0;
    for (let n = 0; n < 3000; n++) {
      out.begin();
      out.bytes(Buffer.from(`{"n":${n},"pad":"`));
      const length = Math.floor(next() * 12_000);
      out.ascii('a'.repeat(length));
      out.ascii('"');
      if (next() < 0.2) {
        out.ascii(',"text":');
        out.json(`é中😀 "${n}"`);
      }
      out.ascii('}');
      const event = out.end();
      slabs.add(event.buffer);
      bytes += event.length;
      // One or two queues hold it, or none (a full queue drops it at once).
      const holds = next() < 0.1 ? 0 : next() < 0.7 ? 1 : 2;
      for (let h = 0; h < holds; h++) holdEvent(event);
      if (holds > 0) held.push({ event, copy: Buffer.from(event), holds });
      // Queues write and let go in any order; some events are held for long.
      while (held.length > 0 && next() < 0.55) {
        const index = Math.floor(next() * held.length);
        const item = held[index]!;
        releaseEvent(item.event);
        if (--item.holds === 0) held.splice(index, 1);
      }
      for (const item of held) {
        if (!item.event.equals(item.copy))
          assert.fail(`event ${item.copy.subarray(0, 12)} changed after event ${n}`);
      }
    }
    for (const item of held) JSON.parse(item.event.toString('utf8'));
    // About 18 MB were written; without reuse that is 70 slabs of 256 KB.
    assert.ok(bytes > 16 * 1024 * 1024, `${bytes} bytes written`);
    assert.ok(slabs.size < 40, `${slabs.size} slabs used for ${bytes} bytes`);
  });

  test('a transaction Bundle is written around the events, into the buffer given', () => {
    const out = new EventBytes();
    const events = ['{"resourceType":"AuditEvent","id":"1"}', '{"resourceType":"AuditEvent","id":"2"}'].map(
      (text) => {
        out.begin();
        out.text(text);
        return out.end();
      },
    );
    const into = Buffer.alloc(transactionBundleLength(events) + 10, 0x20);
    const bundle = JSON.parse(transactionBundle(events, into).toString('utf8'));
    assert.deepEqual(bundle, {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [1, 2].map((id) => ({
        resource: { resourceType: 'AuditEvent', id: String(id) },
        request: { method: 'POST', url: 'AuditEvent' },
      })),
    });
    assert.equal(transactionBundle(events, into).length, transactionBundleLength(events));
  });
});
