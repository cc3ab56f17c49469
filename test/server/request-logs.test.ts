/**
 * The access log (issue 9): one request id field per line, a meaningful interaction name for
 * every route (not `gateway` for all that are not FHIR), and health probes at debug so that an
 * orchestrator's probes do not fill the info log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/server/logger.js';
import { startFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { APP_IDS, buildOpenSrpDataset, PERSONAS } from '../support/opensrp-dataset.js';
import { type Stack, startStack } from '../support/stack.js';

const lines: string[] = [];
let stack: Stack;
let token: string;

before(async () => {
  const fhir = await startFhirServer({ seed: buildOpenSrpDataset().resources });
  stack = await startStack({
    fhir,
    env: { ACCESS_CHECKER: 'permission', RUN_MODE: 'PROD', LOG_LEVEL: 'debug' },
    logger: createLogger('debug', { write: (line: string) => void lines.push(line) }),
  });
  token = await stack.issuer.mint({
    sub: PERSONAS.worker.sub,
    fhir_core_app_id: APP_IDS.Location,
    realm_access: { roles: ['ANDROID_CLIENT', 'GET_PATIENT', 'GET_LOCATION', 'GET_PRACTITIONER'] },
  });
});
after(async () => {
  await stack.close();
  await stack.fhir.close();
});

/** The access-log line of the one request made with this X-Request-ID. */
async function accessLine(path: string, id: string, headers: Record<string, string> = {}) {
  await send(stack.gatewayUrl, { path, headers: { ...headers, 'x-request-id': id } });
  const line = lines.find((raw) => raw.includes(`"${id}"`) && raw.includes('"msg":"request"'));
  assert.ok(line, `an access line for ${path}`);
  return { raw: line, entry: JSON.parse(line) as Record<string, unknown> };
}

describe('access log', () => {
  const routes: [string, string, string, boolean][] = [
    ['/healthz', 'health', 'health-1', false],
    ['/readyz', 'readiness', 'ready-1', false],
    ['/fhir/.well-known/smart-configuration', 'smart-configuration', 'smart-1', false],
    ['/fhir/Patient?_count=1', 'search-type', 'search-1', true],
    ['/LocationHierarchy?_id=loc-d1-f1', 'LocationHierarchy', 'hierarchy-1', true],
    [`/PractitionerDetail?keycloak-uuid=${PERSONAS.worker.sub}`, 'PractitionerDetail', 'detail-1', true],
    ['/fhir/Patient?name=%ZZ', 'unparsed', 'bad-1', true],
    ['/no/such/path', 'unrouted', 'none-1', false],
  ];
  for (const [path, interaction, id, withToken] of routes) {
    test(`${path} logs interaction ${interaction}, with one request id field`, async () => {
      const { raw, entry } = await accessLine(path, id, withToken ? bearer(token) : {});
      assert.equal(entry.interaction, interaction);
      assert.equal(entry.requestId, id);
      assert.equal(raw.split('"requestId"').length, 2, `requestId once: ${raw}`);
      assert.ok(!raw.includes('"reqId"'), raw);
    });
  }

  test('health probes are logged at debug, requests at info', async () => {
    const health = await accessLine('/healthz', 'health-2');
    const ready = await accessLine('/readyz', 'ready-2');
    const search = await accessLine('/fhir/Patient?_count=1', 'search-2', bearer(token));
    assert.equal(health.entry.level, 20);
    assert.equal(ready.entry.level, 20);
    assert.equal(search.entry.level, 30);
  });

  test('no line of the gateway carries reqId', () => {
    const offending = lines.filter((raw) => raw.includes('"reqId"'));
    assert.deepEqual(offending, []);
  });
});
