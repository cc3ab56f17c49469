/**
 * Issue 12: SIGTERM writes out the audit queue within the shutdown grace. A real `fhir-gateway
 * start` process holds events that no timer would flush (AUDIT_FLUSH_INTERVAL_MS of ten minutes);
 * on SIGTERM they reach the FHIR server in one transaction Bundle, and standard output
 * (AUDIT_LOG_FILE=-) carries them as whole JSON lines between the log lines, before exit 0.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { startGatewayProcess } from '../cli/cli-process.js';
import { type LocalFhirServer, seedPatients, startFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { auditEvents, auditPosts, type Json, requestIdOf } from './audit-kit.js';

let fhir: LocalFhirServer;
let issuer: LocalIssuer;

before(async () => {
  fhir = await startFhirServer({ seed: seedPatients(3) });
  issuer = await startIssuer();
});
after(async () => {
  await fhir.close();
  await issuer.close();
});

test('SIGTERM flushes the held AuditEvents to the FHIR server and standard output, then exits 0', async () => {
  const gateway = await startGatewayProcess({
    PROXY_TO: fhir.baseUrl,
    TOKEN_ISSUER: issuer.issuerUrl,
    ACCESS_CHECKER: 'permissive',
    RUN_MODE: 'DEV',
    AUDIT_EVENT_ACTIONS_CONFIG: 'RE',
    AUDIT_FLUSH_INTERVAL_MS: '600000',
    AUDIT_LOG_FILE: '-',
  });
  try {
    const exit = once(gateway.child, 'exit').then(([code]) => code as number | null);
    const token = await issuer.mint({ sub: 'leaving' });
    const ids = ['term-1', 'term-2', 'term-3'];
    for (const [n, id] of ids.entries()) {
      const res = await send(gateway.url, {
        path: n === 2 ? '/fhir/Patient?_count=2' : `/fhir/Patient/pat-${n + 1}`,
        headers: bearer(token, { 'x-request-id': id }),
      });
      assert.equal(res.status, 200);
    }
    assert.deepEqual(auditPosts(fhir), [], 'held: no timer would write them for ten minutes');

    gateway.child.kill('SIGTERM');
    assert.equal(await exit, 0, gateway.output());
    assert.equal(auditPosts(fhir).length, 1, 'one transaction Bundle');
    assert.deepEqual(auditEvents(fhir).map(requestIdOf), ids);

    const lines = gateway
      .output()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Json);
    const events = lines.filter((line) => line['resourceType'] === 'AuditEvent');
    assert.deepEqual(events.map(requestIdOf), ids, 'the same events on standard output');
    assert.ok(
      lines.some((line) => line['msg'] === 'draining in-flight requests'),
      'the log lines are still there, each whole',
    );
  } finally {
    gateway.child.kill('SIGKILL');
  }
});
