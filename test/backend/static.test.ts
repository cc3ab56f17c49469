/**
 * BACKEND_TYPE=BASIC and BEARER over real HTTP: the gateway's own credential on every upstream
 * request (forwarded requests, plugin lookups, readiness probes), never the client's; a refused
 * credential → 502 naming backend authentication, /readyz 503, a metric and a warn line, then
 * recovery by itself; secrets from `_FILE`; no secret in any log line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PERSONAS } from '../support/opensrp-dataset.js';
import { send } from '../support/http.js';
import { startSyncStack, type SyncStack } from '../opensrp/sync/sync-stack.js';
import {
  type BackendStack,
  eventually,
  leakedIn,
  metricValue,
  startBackendStack,
} from './support/backend-stack.js';

const PASSWORD = 'pa55-w0rd-never-logged';
const BEARER_TOKEN = 'static-backend-token-0123456789';

function outcomeText(text: string): string {
  const outcome = JSON.parse(text) as { resourceType: string; issue: { diagnostics?: string }[] };
  assert.equal(outcome.resourceType, 'OperationOutcome');
  return outcome.issue.map((issue) => issue.diagnostics ?? '').join(' ');
}

describe('BACKEND_TYPE=BASIC', () => {
  let s: BackendStack;
  const expected = `Basic ${Buffer.from(`gateway:${PASSWORD}`).toString('base64')}`;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backend-basic-'));
    writeFileSync(join(dir, 'password'), `${PASSWORD}\n`);
    s = await startBackendStack({
      env: {
        BACKEND_TYPE: 'BASIC',
        BACKEND_USERNAME: 'gateway',
        BACKEND_PASSWORD_FILE: join(dir, 'password'),
      },
    });
    // The FHIR server insists on the credential, as a server behind basic auth does.
    s.fhir.intercept((req, res) => {
      if (req.headers.authorization === expected) return false;
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fhir"' }).end();
      return true;
    });
  });
  after(() => s.close());

  test('every upstream request carries the configured user and password (read from BACKEND_PASSWORD_FILE), not the client token', async () => {
    s.fhir.clearRequests();
    const res = await s.call('/fhir/Patient');
    assert.equal(res.status, 200, res.text);
    assert.ok(s.fhir.requests.length > 0);
    for (const request of s.fhir.requests) assert.equal(request.headers.authorization, expected);
  });

  test('a refused credential → 502 naming backend authentication, readiness false, metric, warn; recovery by itself', async () => {
    s.fhir.intercept((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fhir", error="changed"' }).end();
      return true;
    });
    const before = metricValue(
      await s.metrics(),
      'fhir_gateway_backend_auth_failures_total',
      'kind="refused"',
    );
    const refused = await s.call('/fhir/Patient');
    assert.equal(refused.status, 502);
    assert.match(outcomeText(refused.text), /could not authenticate|refused the credentials/i);
    assert.match(outcomeText(refused.text), /backend authentication/);
    assert.ok(!refused.text.includes(PASSWORD) && !refused.text.includes(expected));
    assert.equal(refused.headers['www-authenticate'], undefined, 'the backend challenge is not the client’s');
    const ready = await send(s.gatewayUrl, { path: '/readyz' });
    assert.equal(ready.status, 503);
    const metrics = await s.metrics();
    assert.equal(
      metricValue(metrics, 'fhir_gateway_backend_auth_failures_total', 'kind="refused"'),
      before + 1,
    );
    assert.equal(metricValue(metrics, 'fhir_gateway_backend_auth_up', 'backend_type="BASIC"'), 0);
    assert.ok(
      s.logs.some((line) => /"level":40/.test(line) && /backend authentication failed/.test(line)),
      'a warn line',
    );

    s.fhir.intercept((req, res) => {
      if (req.headers.authorization === expected) return false;
      res.writeHead(401).end();
      return true;
    });
    await eventually(async () => (await s.call('/fhir/Patient')).status === 200, 'requests succeed again');
    await eventually(
      async () => (await send(s.gatewayUrl, { path: '/readyz' })).status === 200,
      'ready again',
    );
    assert.equal(metricValue(await s.metrics(), 'fhir_gateway_backend_auth_up', 'backend_type="BASIC"'), 1);
  });

  test('no log line carries the password or the header value', () => {
    assert.ok(s.logs.length > 0);
    assert.deepEqual(leakedIn(s.logs, [PASSWORD, expected, expected.slice('Basic '.length)]), []);
  });
});

describe('BACKEND_TYPE=BEARER: the plugins’ own lookups use the same credential', () => {
  let s: SyncStack;
  before(async () => {
    s = await startSyncStack({
      env: { BACKEND_TYPE: 'BEARER', BACKEND_BEARER_TOKEN: BEARER_TOKEN, LOG_LEVEL: 'silent' },
    });
    s.fhir.intercept((req, res) => {
      if (req.headers.authorization === `Bearer ${BEARER_TOKEN}`) return false;
      res.writeHead(401).end();
      return true;
    });
  });
  after(() => s.close());

  test('a narrowed sync search: the assignment lookups and the forwarded search all carry the backend token', async () => {
    const token = await s.token({ sub: PERSONAS.worker.sub });
    const res = await s.call(token, 'Patient?_summary=count');
    assert.equal(res.status, 200, res.text);
    const received = s.received();
    // Lookups of the practitioner's assignment first, then the search itself.
    assert.ok(received.length >= 2, `only ${received.length} upstream request(s)`);
    for (const request of received) {
      assert.equal(request.headers.authorization, `Bearer ${BEARER_TOKEN}`, request.url);
      assert.ok(!request.headers.authorization?.includes(token));
    }
  });
});
