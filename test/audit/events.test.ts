/**
 * Issue 12: every FHIR interaction named by AUDIT_EVENT_ACTIONS_CONFIG yields the documented BALP
 * AuditEvent, written to the FHIR server at PROXY_TO. Each case makes a real request through the
 * gateway, then reads the event the local FHIR server received (found by the request's
 * X-Request-ID) and checks it field by field, and against the BALP profile's required elements
 * and R4's AuditEvent definition (balp.ts).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type AccessCheckerFactory, denied, granted } from '../../src/access/contract.js';
import { type LocalFhirServer, seedPatients, startFhirServer } from '../support/fhir-server.js';
import { bearer, type RawResponse, send } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';
import {
  agent,
  auditEvents,
  decodeQuery,
  entities,
  eventsOf,
  type Json,
  patientsOf,
  requestIdOf,
} from './audit-kit.js';
import { assertBalp, assertValidR4 } from './balp.js';

/** Grants all but Practitioners; a `practitioner` claim becomes the decision's audit agent ('none': no audit). */
const auditTestChecker: AccessCheckerFactory = {
  name: 'audit-test',
  async create(token) {
    return {
      async checkAccess(req) {
        if (req.resourceType === 'Practitioner') return denied('Practitioners are not for this user');
        const practitioner = token.claims['practitioner'];
        if (typeof practitioner !== 'string') return granted();
        return granted({
          auditAgent: () =>
            practitioner === 'none' ? undefined : { reference: `Practitioner/${practitioner}` },
        });
      },
    };
  },
};

/** An Observation of a Patient. */
const observation = (text: string, patient: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation' as const,
  status: 'final' as const,
  code: { text },
  subject: { reference: `Patient/${patient}` },
  ...extra,
});

let fhir: LocalFhirServer;
let stack: Stack;
let token: string;
let claims: { sub: string; jti: string };
const FHIR_JSON = { 'content-type': 'application/fhir+json' };

before(async () => {
  fhir = await startFhirServer({
    seed: [...seedPatients(100), observation('weight', 'pat-1', { id: 'obs-1' })],
  });
  stack = await startStack({
    fhir,
    env: {
      ACCESS_CHECKER: 'audit-test',
      AUDIT_EVENT_ACTIONS_CONFIG: 'CRUDE',
      // One event per write: each reaches the FHIR server right after its request.
      AUDIT_BATCH_MAX_EVENTS: '1',
    },
    extraCheckers: [auditTestChecker],
  });
  claims = { sub: 'user-7', jti: 'jti-7' };
  token = await stack.issuer.mint({ ...claims, preferred_username: 'nurse.joy', azp: 'android-app' });
});
after(async () => {
  await stack.close();
  await fhir.close();
});

let sequence = 0;
/** A request with a fresh X-Request-ID; resolves with the answer and the id. */
async function call(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; auth?: string | null } = {},
): Promise<{ res: RawResponse; id: string }> {
  const id = `audit-case-${++sequence}`;
  const auth = options.auth === null ? {} : bearer(options.auth ?? token);
  const res = await send(stack.gatewayUrl, {
    method,
    path,
    headers: { ...auth, 'x-request-id': id, ...(options.body ? FHIR_JSON : {}), ...options.headers },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  return { res, id };
}

async function onlyEventOf(id: string): Promise<Json> {
  const events = await eventsOf(fhir, id);
  assert.equal(events.length, 1, 'one event for the interaction');
  return events[0]!;
}

/** The agents and entities every event of this user's requests carries. */
function assertWhoAndWhere(
  event: Json,
  id: string,
  clientRole: string,
  serverRole: string,
  userRole: string,
): void {
  const base = `${stack.gatewayUrl}/fhir`;
  const client = agent(event, clientRole);
  assert.deepEqual(client['who'], { identifier: { value: 'android-app' } }, 'the client app: the token azp');
  assert.equal(client['requestor'], false);
  assert.deepEqual(client['network'], { address: '127.0.0.1', type: '2' });
  const server = agent(event, serverRole);
  assert.deepEqual(server['who'], { display: base }, 'the server: the gateway');
  assert.deepEqual(server['network'], { address: base, type: '5' });
  const user = agent(event, userRole);
  assert.deepEqual(user['who'], {
    identifier: { system: stack.issuer.issuerUrl, value: claims.sub },
    display: 'nurse.joy',
  });
  assert.equal(user['name'], 'nurse.joy');
  assert.equal(user['requestor'], true);
  assert.deepEqual(user['policy'], [`urn:ietf:params:oauth:jti:${claims.jti}`]);
  assert.equal(requestIdOf(event), id, 'the transaction entity carries the X-Request-ID');
  assert.deepEqual((event['source'] as Json)['observer'], { display: base });
  assert.ok(Date.parse(String(event['recorded'])) > 0, 'recorded is an instant');
}

const dataWhat = (event: Json) => entities(event, '2', '4')[0]?.['what'] as Json | undefined;

describe('one BALP AuditEvent per interaction', () => {
  let created: string;

  test('C: a create is a PatientCreate event naming the new version and its subject', async () => {
    const { res, id } = await call('POST', '/fhir/Observation', {
      body: observation('height', 'pat-2'),
    });
    assert.equal(res.status, 201);
    const event = await onlyEventOf(id);
    assertBalp(event, 'Create', true);
    assertWhoAndWhere(event, id, '110153', '110152', 'AUT');
    assert.deepEqual(event['subtype'], [
      { system: 'http://hl7.org/fhir/restful-interaction', code: 'create', display: 'create' },
    ]);
    assert.equal(event['action'], 'C');
    assert.equal(event['outcome'], '0');
    const location = String(res.headers.location);
    created = location.slice(location.indexOf('/fhir/') + '/fhir/'.length).split('/_history/')[0]!;
    assert.deepEqual(dataWhat(event), { reference: location.slice(location.indexOf('Observation/')) });
    assert.deepEqual(patientsOf(event), [{ reference: 'Patient/pat-2' }]);
  });

  test('R: a read is a PatientRead event naming the version read', async () => {
    const { res, id } = await call('GET', `/fhir/${created}`);
    assert.equal(res.status, 200);
    const event = await onlyEventOf(id);
    assertBalp(event, 'Read', true);
    // BALP's Read has the data flow the other way: the server is the Source Role.
    assertWhoAndWhere(event, id, '110152', '110153', 'IRCP');
    assert.equal(event['action'], 'R');
    const version = (res.json()['meta'] as { versionId: string }).versionId;
    assert.deepEqual(dataWhat(event), { reference: `${created}/_history/${version}` });
    assert.deepEqual(patientsOf(event), [{ reference: 'Patient/pat-2' }]);
  });

  test('U: an update is a PatientUpdate event naming the new version', async () => {
    const { res, id } = await call('PUT', `/fhir/${created}`, {
      body: observation('height', 'pat-2', { id: created.split('/')[1], status: 'amended' }),
    });
    assert.equal(res.status, 200);
    const event = await onlyEventOf(id);
    assertBalp(event, 'Update', true);
    assertWhoAndWhere(event, id, '110153', '110152', 'AUT');
    assert.equal(event['action'], 'U');
    const version = (res.json()['meta'] as { versionId: string }).versionId;
    assert.deepEqual(dataWhat(event), { reference: `${created}/_history/${version}` });
  });

  test('U: a conditional update names the resource the server chose', async () => {
    const { res, id } = await call('PUT', '/fhir/Patient?identifier=urn:example:seed-patient|9', {
      body: {
        resourceType: 'Patient',
        active: false,
        identifier: [{ system: 'urn:example:seed-patient', value: '9' }],
      },
    });
    assert.equal(res.status, 200);
    const event = await onlyEventOf(id);
    assertBalp(event, 'Update', true);
    const version = (res.json()['meta'] as { versionId: string }).versionId;
    assert.deepEqual(dataWhat(event), { reference: `Patient/pat-9/_history/${version}` });
    assert.deepEqual(patientsOf(event), [{ reference: 'Patient/pat-9' }]);
  });

  test('E: an operation is an execute event with its query and the Patients of its answer (no BALP profile)', async () => {
    const { res, id } = await call('GET', '/fhir/Patient/pat-1/$everything');
    assert.equal(res.status, 200);
    const event = await onlyEventOf(id);
    assertValidR4(event);
    assert.equal(event['meta'], undefined);
    assert.equal(event['action'], 'E');
    assert.equal((event['subtype'] as { code: string }[])[0]!.code, 'operation');
    assert.deepEqual(dataWhat(event), { reference: 'Patient/pat-1' });
    assert.equal(entities(event, '2', '24')[0]!['description'], 'GET Patient/pat-1/$everything');
    assert.deepEqual(patientsOf(event), [{ reference: 'Patient/pat-1' }]);
  });

  test('D: a delete is a Delete event naming what is gone by identifier, not by reference', async () => {
    const { res, id } = await call('DELETE', `/fhir/${created}`);
    assert.ok(res.status === 200 || res.status === 204, String(res.status));
    const event = await onlyEventOf(id);
    // The URL names no Patient and the resource is gone: the basic Delete profile.
    assertBalp(event, 'Delete', false);
    assertWhoAndWhere(event, id, '110150', 'custodian', 'AUT');
    assert.equal(event['action'], 'D');
    assert.deepEqual(dataWhat(event), {
      type: 'Observation',
      identifier: { system: 'http://fhir-info-gateway/deleted', value: created },
    });
    assert.deepEqual(patientsOf(event), []);
  });

  test('D: deleting a Patient is a PatientDelete event', async () => {
    const { res, id } = await call('DELETE', '/fhir/Patient/pat-100');
    assert.ok(res.status < 300, String(res.status));
    const event = await onlyEventOf(id);
    assertBalp(event, 'Delete', true);
    assert.deepEqual(patientsOf(event), [
      {
        type: 'Patient',
        identifier: { system: 'http://fhir-info-gateway/requested', value: 'Patient/pat-100' },
      },
    ]);
  });

  test('E: a search is one PatientQuery event with the query, raw (base64) and as understood', async () => {
    const { res, id } = await call('GET', '/fhir/Observation?subject=Patient/pat-1&_count=5');
    assert.equal(res.status, 200);
    const event = await onlyEventOf(id);
    assertBalp(event, 'Query', true);
    assertWhoAndWhere(event, id, '110153', '110152', 'IRCP');
    assert.equal(event['action'], 'E');
    assert.deepEqual(event['subtype'], [
      { system: 'http://hl7.org/fhir/restful-interaction', code: 'search-type', display: 'search-type' },
    ]);
    const [query] = entities(event, '2', '24');
    assert.equal(query!['description'], 'GET Observation?subject=Patient/pat-1&_count=5');
    assert.equal(
      decodeQuery(event),
      `GET ${stack.gatewayUrl}/fhir/Observation?subject=Patient/pat-1&_count=5`,
    );
    assert.deepEqual(patientsOf(event), [{ reference: 'Patient/pat-1' }]);
  });

  test('E: a 100-result search is one event naming its 100 patients (BALP would write 100)', async () => {
    const { res, id } = await call('GET', '/fhir/Patient?_count=100&_sort=_id');
    assert.equal((res.json()['entry'] as unknown[]).length, 99, 'pat-100 was deleted above');
    const { res: all, id: allId } = await call('GET', '/fhir/Patient?_count=200');
    assert.equal((all.json()['entry'] as unknown[]).length, 99);
    const event = await onlyEventOf(id);
    // Several patients: the basic Query profile, whose open slicing admits them.
    assertBalp(event, 'Query', false);
    const expected = Array.from({ length: 99 }, (_, n) => `Patient/pat-${n + 1}`).sort();
    assert.deepEqual(
      patientsOf(event)
        .map((what) => what['reference'])
        .sort(),
      expected,
    );
    assert.equal((await eventsOf(fhir, allId)).length, 1);
  });

  test('a search of a Patient that has no data names that Patient by identifier', async () => {
    const { id } = await call('GET', '/fhir/Observation?patient=pat-50');
    const event = await onlyEventOf(id);
    assertBalp(event, 'Query', true);
    assert.deepEqual(patientsOf(event), [
      {
        type: 'Patient',
        identifier: { system: 'http://fhir-info-gateway/requested', value: 'Patient/pat-50' },
      },
    ]);
  });

  test('a transaction yields one event per entry, each as the interaction it stands for', async () => {
    const { res, id } = await call('POST', '/fhir', {
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: observation('bp', 'pat-3'),
            request: { method: 'POST', url: 'Observation' },
          },
          { request: { method: 'GET', url: 'Patient/pat-4' } },
          { request: { method: 'GET', url: 'Observation?subject=Patient/pat-1' } },
        ],
      },
    });
    assert.equal(res.status, 200);
    const events = await eventsOf(fhir, id, 3);
    assert.equal(events.length, 3);
    const byCode = new Map(events.map((event) => [(event['subtype'] as { code: string }[])[0]!.code, event]));
    assertBalp(byCode.get('create')!, 'Create', true);
    assert.deepEqual(patientsOf(byCode.get('create')!), [{ reference: 'Patient/pat-3' }]);
    const location = String(((res.json()['entry'] as Json[])[0]!['response'] as Json)['location']);
    assert.match(
      String(dataWhat(byCode.get('create')!)!['reference']),
      new RegExp(`^${location.split('/_history/')[0]}`),
    );
    assertBalp(byCode.get('read')!, 'Read', true);
    assert.deepEqual(patientsOf(byCode.get('read')!), [{ reference: 'Patient/pat-4' }]);
    assertBalp(byCode.get('search-type')!, 'Query', true);
    assert.equal(
      decodeQuery(byCode.get('search-type')!),
      `GET ${stack.gatewayUrl}/fhir/Observation?subject=Patient/pat-1`,
    );
  });

  test("the decision's audit agent is the user; an agent of undefined turns audit off for the request", async () => {
    const named = await stack.issuer.mint({ practitioner: 'prac-9', azp: 'web' });
    const { id } = await call('GET', '/fhir/Patient/pat-5', { auth: named });
    const event = await onlyEventOf(id);
    assert.deepEqual(agent(event, 'IRCP')['who'], { reference: 'Practitioner/prac-9' });

    const silenced = await stack.issuer.mint({ practitioner: 'none' });
    const { id: silentId } = await call('GET', '/fhir/Patient/pat-6', { auth: silenced });
    const { id: laterId } = await call('GET', '/fhir/Patient/pat-7');
    await eventsOf(fhir, laterId);
    assert.deepEqual(
      auditEvents(fhir).filter((event) => requestIdOf(event) === silentId),
      [],
    );
  });
});

describe('failures and requests without a token', () => {
  test('a denial (403) is a failure event with the reason, the user, and the resource named', async () => {
    const { res, id } = await call('GET', '/fhir/Practitioner/prac-1');
    assert.equal(res.status, 403);
    const event = await onlyEventOf(id);
    assertValidR4(event);
    assert.equal(event['meta'], undefined, "BALP's profiles are for successes");
    assert.equal(event['action'], 'R');
    assert.equal(event['outcome'], '4', 'minor failure (an HTTP 4xx)');
    assert.equal(event['outcomeDesc'], (res.json()['issue'] as { diagnostics: string }[])[0]!.diagnostics);
    assert.match(String(event['outcomeDesc']), /Practitioners are not for this user/);
    assert.equal((agent(event, 'IRCP')['who'] as Json)['display'], 'nurse.joy');
    assert.deepEqual(dataWhat(event), {
      type: 'Practitioner',
      identifier: { system: 'http://fhir-info-gateway/requested', value: 'Practitioner/prac-1' },
    });
  });

  test('no token (401) is a failure event with an anonymous user and client', async () => {
    const { res, id } = await call('GET', '/fhir/Patient/pat-8', { auth: null });
    assert.equal(res.status, 401);
    const event = await onlyEventOf(id);
    assertValidR4(event);
    assert.equal(event['outcome'], '4');
    assert.deepEqual(agent(event, 'IRCP')['who'], { display: 'anonymous' });
    assert.deepEqual(agent(event, '110152')['who'], { display: 'anonymous' });
    assert.deepEqual(patientsOf(event), [
      {
        type: 'Patient',
        identifier: { system: 'http://fhir-info-gateway/requested', value: 'Patient/pat-8' },
      },
    ]);
  });

  test('a read of what does not exist (404) is a failure event carrying the server outcome', async () => {
    const { res, id } = await call('GET', '/fhir/Observation/no-such-obs');
    assert.equal(res.status, 404);
    const event = await onlyEventOf(id);
    assert.equal(event['outcome'], '4');
    assert.equal(typeof event['outcomeDesc'], 'string');
  });

  test('a client that goes away during a streamed answer: recorded, naming the Patients it was sent', async () => {
    // An answer that starts (one entry, no Content-Length: streamed) and never ends.
    fhir.intercept((req, res) => {
      if (!req.url.includes('name=endless')) return false;
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.write(
        `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"${fhir.baseUrl}/Patient/pat-11",` +
          '"resource":{"resourceType":"Patient","id":"pat-11"},"search":{"mode":"match"}},',
      );
      return true;
    });
    try {
      const id = 'went-away';
      const { hostname, port } = new URL(stack.gatewayUrl);
      await new Promise<void>((resolve, reject) => {
        const headers = { ...bearer(token), 'x-request-id': id };
        const req = request({ host: hostname, port, path: '/fhir/Patient?name=endless', headers }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', reject);
        req.end();
      });
      const event = await onlyEventOf(id);
      assert.equal(event['outcome'], '0');
      assert.equal(event['outcomeDesc'], 'The client went away before the end of the answer');
      assert.deepEqual(patientsOf(event), [{ reference: 'Patient/pat-11' }]);
    } finally {
      fhir.intercept(undefined);
    }
  });

  test('metadata without a token is audited with the anonymous agent', async () => {
    const { res, id } = await call('GET', '/fhir/metadata', { auth: null });
    assert.equal(res.status, 200);
    const event = await onlyEventOf(id);
    assertValidR4(event);
    assert.equal((event['subtype'] as { code: string }[])[0]!.code, 'capabilities');
    assert.deepEqual(agent(event, 'IRCP')['who'], { display: 'anonymous' });
  });

  test('no event carries the token, or any part of it', async () => {
    const events = auditEvents(fhir);
    assert.ok(events.length > 10, `${events.length} events`);
    const text = JSON.stringify(events);
    for (const part of token.split('.')) assert.ok(!text.includes(part), 'a token segment in an event');
    assert.doesNotMatch(
      text,
      /[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/,
      'a JWT in an event',
    );
  });
});
