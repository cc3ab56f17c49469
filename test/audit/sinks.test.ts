/**
 * Issue 12: where AuditEvents go and what happens when they cannot. Batches (one transaction
 * Bundle per write, counted at the FHIR server), the backend credentials at PROXY_TO and none
 * elsewhere, the JSON-lines file beside a FHIR sink, a sink that is down (replies unchanged,
 * drops counted and logged, the queue bounded, the events written once it is back), and a batch
 * the sink refuses (split until only the bad event is lost).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { createLogger } from '../../src/server/logger.js';
import {
  type LocalFhirServer,
  type RecordedRequest,
  seedPatients,
  startFhirServer,
} from '../support/fhir-server.js';
import { freePort } from '../support/free-port.js';
import { bearer, send } from '../support/http.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { type Stack, startStack } from '../support/stack.js';
import { auditEvents, auditPosts, type Json, requestIdOf } from './audit-kit.js';

let fhir: LocalFhirServer;
let issuer: LocalIssuer;
let token: string;

before(async () => {
  fhir = await startFhirServer({ seed: seedPatients(10) });
  issuer = await startIssuer();
  token = await issuer.mint({ sub: 'sink-tester' });
});
after(async () => {
  await fhir.close();
  await issuer.close();
});

/** A gateway in front of the shared FHIR server, with these AUDIT_* (and other) settings. */
function gateway(env: Record<string, string>, lines?: string[]): Promise<Stack> {
  return startStack({
    fhir,
    issuer,
    env,
    ...(lines ? { logger: createLogger('info', { write: (line: string) => void lines.push(line) }) } : {}),
  });
}

async function read(stack: Stack, path: string, id?: string) {
  return send(stack.gatewayUrl, { path, headers: bearer(token, id ? { 'x-request-id': id } : {}) });
}

/** The value of a metric's series with exactly these labels (0 when absent). */
async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const found = await registry.getSingleMetric(name)?.get();
  const series = found?.values.find((value) =>
    Object.entries(labels).every(([label, wanted]) => String(value.labels[label]) === wanted),
  );
  return series?.value ?? 0;
}

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    if (await condition()) return;
    await sleep(10);
  }
  throw new Error(`gave up waiting: ${what}`);
}

const entryCount = (body: string) => (JSON.parse(body) as { entry: unknown[] }).entry.length;

/** The events the FHIR server accepted: those of the audit posts it did not refuse. */
const accepted = (refused: Set<RecordedRequest>) =>
  auditEvents(
    fhir,
    auditPosts(fhir).filter((post) => !refused.has(post)),
  );

describe('batches at PROXY_TO', () => {
  test('one transaction Bundle per full batch, the rest written on close; backend credentials; only the letters asked for', async () => {
    fhir.clearRequests();
    const stack = await gateway({
      AUDIT_EVENT_ACTIONS_CONFIG: 'R',
      AUDIT_BATCH_MAX_EVENTS: '10',
      AUDIT_FLUSH_INTERVAL_MS: '600000',
      BACKEND_TYPE: 'BEARER',
      BACKEND_BEARER_TOKEN: 'backend-secret-4711',
    });
    try {
      for (let n = 1; n <= 25; n++)
        assert.equal((await read(stack, `/fhir/Patient/pat-${(n % 10) + 1}`)).status, 200);
      // A search is `E`, not asked for: no event.
      assert.equal((await read(stack, '/fhir/Patient?_count=3')).status, 200);
      await waitUntil('two full batches', () => auditPosts(fhir).length === 2);
      assert.deepEqual(
        auditPosts(fhir).map((post) => entryCount(post.body)),
        [10, 10],
      );
      for (const post of auditPosts(fhir)) {
        assert.equal(
          post.headers['authorization'],
          'Bearer backend-secret-4711',
          'the backend credentials apply',
        );
      }
    } finally {
      await stack.close();
    }
    assert.deepEqual(
      auditPosts(fhir).map((post) => entryCount(post.body)),
      [10, 10, 5],
      'the last 5 written on close',
    );
    const events = auditEvents(fhir);
    assert.ok(
      events.every((event) => event['action'] === 'R'),
      'only reads',
    );
    assert.ok(!JSON.stringify(events).includes('backend-secret-4711'), 'no backend secret in an event');
    const stored = await (await fetch(`${fhir.baseUrl}/AuditEvent?_summary=count`)).json();
    assert.ok((stored as { total: number }).total >= 25, 'the FHIR server stored them');
  });
});

describe('AUDIT_SINK_URL and AUDIT_LOG_FILE', () => {
  let audit: LocalFhirServer;
  before(async () => {
    audit = await startFhirServer();
  });
  after(() => audit.close());

  test('the events go to the other FHIR server, without the backend credentials, and to the file', async () => {
    fhir.clearRequests();
    const file = join(mkdtempSync(join(tmpdir(), 'audit-')), 'events.jsonl');
    const stack = await gateway({
      AUDIT_EVENT_ACTIONS_CONFIG: 'RE',
      AUDIT_SINK_URL: `${audit.baseUrl}/`,
      AUDIT_LOG_FILE: file,
      AUDIT_FLUSH_INTERVAL_MS: '10',
      BACKEND_TYPE: 'BEARER',
      BACKEND_BEARER_TOKEN: 'backend-secret-4711',
    });
    try {
      await read(stack, '/fhir/Patient/pat-1', 'to-sink-1');
      await read(stack, '/fhir/Patient?_count=2', 'to-sink-2');
      await waitUntil('both events at the audit server', () => auditEvents(audit).length === 2);
    } finally {
      await stack.close();
    }
    assert.deepEqual(auditPosts(fhir), [], 'nothing at PROXY_TO');
    for (const post of auditPosts(audit)) assert.equal(post.headers['authorization'], undefined);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const fromFile = lines.map((line) => JSON.parse(line) as Json);
    assert.deepEqual(fromFile.map(requestIdOf).sort(), ['to-sink-1', 'to-sink-2']);
    assert.deepEqual(
      fromFile.map((event) => event['resourceType']),
      ['AuditEvent', 'AuditEvent'],
    );
    assert.deepEqual(
      auditEvents(audit).map(requestIdOf).sort(),
      ['to-sink-1', 'to-sink-2'],
      'the same events in both sinks',
    );
  });
});

describe('a sink that is down', () => {
  test('replies are unchanged, drops are counted and logged, the queue stays bounded', async () => {
    const lines: string[] = [];
    const dead = `http://127.0.0.1:${await freePort()}/fhir`;
    const audited = await gateway(
      {
        AUDIT_EVENT_ACTIONS_CONFIG: 'CRUDE',
        AUDIT_SINK_URL: dead,
        AUDIT_QUEUE_MAX_EVENTS: '5',
        AUDIT_BATCH_MAX_EVENTS: '2',
        AUDIT_FLUSH_INTERVAL_MS: '10',
        SHUTDOWN_GRACE_MS: '300',
      },
      lines,
    );
    const plain = await gateway({});
    const registry = audited.gateway.deps.metrics.registry;
    try {
      const paths = [
        '/fhir/Patient/pat-1',
        '/fhir/Patient?_count=5',
        '/fhir/Patient/no-such',
        '/fhir/metadata',
      ];
      for (let round = 0; round < 8; round++) {
        for (const path of paths) {
          const [withAudit, without] = [await read(audited, path), await read(plain, path)];
          assert.equal(withAudit.status, without.status, path);
          const normalize = (text: string, stack: Stack) =>
            text.replaceAll(stack.gatewayUrl, 'GATEWAY').replace(/"date":"[^"]*"/, '');
          assert.equal(normalize(withAudit.text, audited), normalize(without.text, plain), path);
        }
      }
      assert.ok(
        (await metric(registry, 'fhir_gateway_audit_events_dropped_total', {
          sink: 'fhir',
          reason: 'queue_full',
        })) >= 20,
        'the drop counter rose',
      );
      const held = await metric(registry, 'fhir_gateway_audit_queue_events', { sink: 'fhir' });
      assert.ok(held > 0 && held <= 5, `held ${held}, at most AUDIT_QUEUE_MAX_EVENTS`);
      const warnings = lines.map((line) => JSON.parse(line) as Json).filter((line) => line['level'] === 40);
      assert.ok(
        warnings.some(
          (line) => /queue is full/.test(String(line['msg'])) && line['setting'] === 'AUDIT_QUEUE_MAX_EVENTS',
        ),
        'a warn line for the drops',
      );
      assert.ok(
        warnings.some((line) => /writing to the fhir sink failed/.test(String(line['msg']))),
        'a warn line for the failing sink',
      );
    } finally {
      await plain.close();
      await audited.close();
    }
    assert.equal(
      await metric(registry, 'fhir_gateway_audit_events_dropped_total', { sink: 'fhir', reason: 'shutdown' }),
      5,
      'what was held when the grace ended is counted too',
    );
  });

  test('the queue is bounded by bytes too: large events are dropped once AUDIT_QUEUE_MAX_BYTES is held', async () => {
    const lines: string[] = [];
    const dead = `http://127.0.0.1:${await freePort()}/fhir`;
    const audited = await gateway(
      {
        AUDIT_EVENT_ACTIONS_CONFIG: 'E',
        AUDIT_SINK_URL: dead,
        AUDIT_QUEUE_MAX_BYTES: '65536',
        AUDIT_FLUSH_INTERVAL_MS: '10',
        SHUTDOWN_GRACE_MS: '300',
      },
      lines,
    );
    const registry = audited.gateway.deps.metrics.registry;
    try {
      // Each search names its 10 Patients: an event of about 4.5 KB.
      for (let n = 0; n < 40; n++) assert.equal((await read(audited, '/fhir/Patient?_count=10')).status, 200);
      await waitUntil(
        'drops for the byte bound',
        async () =>
          (await metric(registry, 'fhir_gateway_audit_events_dropped_total', {
            sink: 'fhir',
            reason: 'queue_full',
          })) > 0,
      );
      const bytes = await metric(registry, 'fhir_gateway_audit_queue_bytes', { sink: 'fhir' });
      const events = await metric(registry, 'fhir_gateway_audit_queue_events', { sink: 'fhir' });
      assert.ok(bytes > 32_768 && bytes <= 65_536, `held ${bytes} bytes, at most AUDIT_QUEUE_MAX_BYTES`);
      assert.ok(events > 0 && events < 40, `held ${events} events`);
      assert.ok(
        lines.some((line) => {
          const fields = JSON.parse(line) as Json;
          return fields['setting'] === 'AUDIT_QUEUE_MAX_BYTES' && fields['limit'] === 65_536;
        }),
        'the warn line names the byte bound',
      );
    } finally {
      await audited.close();
    }
  });

  test('events held while the sink fails are written once it is back', async () => {
    fhir.clearRequests();
    let failing = true;
    const refused = new Set<RecordedRequest>();
    fhir.intercept((req, res) => {
      if (!failing || req.method !== 'POST' || req.path !== '/fhir') return false;
      refused.add(req);
      res
        .writeHead(503, { 'content-type': 'application/fhir+json' })
        .end('{"resourceType":"OperationOutcome"}');
      return true;
    });
    const stack = await gateway({ AUDIT_EVENT_ACTIONS_CONFIG: 'R', AUDIT_FLUSH_INTERVAL_MS: '10' });
    try {
      await read(stack, '/fhir/Patient/pat-2', 'held-1');
      await read(stack, '/fhir/Patient/pat-3', 'held-2');
      const registry = stack.gateway.deps.metrics.registry;
      await waitUntil(
        'a failed write',
        async () =>
          (await metric(registry, 'fhir_gateway_audit_writes_total', { sink: 'fhir', result: 'retry' })) > 0,
      );
      failing = false;
      await waitUntil('the held events written', () => accepted(refused).length === 2);
      assert.deepEqual(accepted(refused).map(requestIdOf).sort(), ['held-1', 'held-2']);
    } finally {
      fhir.intercept(undefined);
      await stack.close();
    }
  });

  test('a sink that refuses every Bundle (403) is retried with back-off, not split; its events are written once it accepts', async () => {
    fhir.clearRequests();
    let refusing = true;
    const refused = new Set<RecordedRequest>();
    fhir.intercept((req, res) => {
      if (!refusing || req.method !== 'POST' || req.path !== '/fhir') return false;
      refused.add(req);
      res.writeHead(403, { 'content-type': 'application/fhir+json' });
      res.end(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'forbidden', diagnostics: 'no AuditEvent writes' }],
        }),
      );
      return true;
    });
    const lines: string[] = [];
    // No flush by time: the first write starts when the eighth event is queued, so it holds all
    // eight (with a 10 ms flush, the events of the first reads could go out before the last).
    const stack = await gateway(
      { AUDIT_EVENT_ACTIONS_CONFIG: 'R', AUDIT_BATCH_MAX_EVENTS: '8', AUDIT_FLUSH_INTERVAL_MS: '600000' },
      lines,
    );
    const registry = stack.gateway.deps.metrics.registry;
    try {
      for (let n = 1; n <= 8; n++) await read(stack, `/fhir/Patient/pat-${n}`, `forbidden-${n}`);
      await waitUntil(
        'a refused write',
        async () =>
          (await metric(registry, 'fhir_gateway_audit_writes_total', { sink: 'fhir', result: 'retry' })) > 0,
      );
      await sleep(300);
      // Back-off starts at 500 ms: the first refusal and nothing else; split, it would be 15 writes.
      assert.equal(refused.size, 1, 'one Bundle refused, not its halves');
      assert.equal(entryCount([...refused][0]!.body), 8);
      assert.equal(
        await metric(registry, 'fhir_gateway_audit_writes_total', { sink: 'fhir', result: 'rejected' }),
        0,
      );
      assert.ok(
        lines.some((line) => line.includes('"level":40') && line.includes('HTTP 403: no AuditEvent writes')),
        'a warn line says why',
      );
      refusing = false;
      await waitUntil('the held events written', () => accepted(refused).length === 8);
      assert.equal(
        await metric(registry, 'fhir_gateway_audit_events_dropped_total', {
          sink: 'fhir',
          reason: 'rejected',
        }),
        0,
      );
    } finally {
      fhir.intercept(undefined);
      await stack.close();
    }
  });

  test('a batch the sink refuses is split until only the refused event is lost', async () => {
    fhir.clearRequests();
    const refused = new Set<RecordedRequest>();
    fhir.intercept((req, res) => {
      if (req.method !== 'POST' || req.path !== '/fhir' || !req.body.includes('poison')) return false;
      refused.add(req);
      res.writeHead(400, { 'content-type': 'application/fhir+json' });
      res.end(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'invalid', diagnostics: 'no poison' }],
        }),
      );
      return true;
    });
    const stack = await gateway({
      AUDIT_EVENT_ACTIONS_CONFIG: 'E',
      AUDIT_BATCH_MAX_EVENTS: '4',
      AUDIT_FLUSH_INTERVAL_MS: '600000',
    });
    const registry = stack.gateway.deps.metrics.registry;
    try {
      for (const name of ['a', 'poison', 'b', 'c'])
        await read(stack, `/fhir/Patient?name=${name}`, `split-${name}`);
      await waitUntil('the good three written', () => accepted(refused).length === 3);
      assert.deepEqual(accepted(refused).map(requestIdOf).sort(), ['split-a', 'split-b', 'split-c']);
      await waitUntil(
        'the poison dropped',
        async () =>
          (await metric(registry, 'fhir_gateway_audit_events_dropped_total', {
            sink: 'fhir',
            reason: 'rejected',
          })) === 1,
      );
      // 4 refused, then its half with the poison (2), then the poison alone.
      assert.equal(
        await metric(registry, 'fhir_gateway_audit_writes_total', { sink: 'fhir', result: 'rejected' }),
        3,
      );
    } finally {
      fhir.intercept(undefined);
      await stack.close();
    }
  });
});
