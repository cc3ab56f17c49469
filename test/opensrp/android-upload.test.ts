/**
 * The OpenSRP Android app's upload, replayed as the Android FHIR engine sends it (issue 7): a
 * gzipped transaction of `PUT Type/<uuid>` entries and JSON-Patch `Binary` PATCH entries, POSTed
 * to the FHIR base with `Content-Encoding: gzip`. The gateway decodes it, checks every entry
 * (roles and assignment) and forwards the decoded Bundle.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import type { Bundle, Encounter, Observation, Patient } from '@medplum/fhirtypes';
import { bearer, type RawResponse, send } from '../support/http.js';
import { buildOpenSrpDataset, PERSONAS, TAG_SYSTEMS } from '../support/opensrp-dataset.js';
import { diagnostics, type PermissionStack, startPermissionStack } from './permissions-stack.js';

const LIMIT = 512 * 1024;
const ANDROID = ['ANDROID_CLIENT'];
const UPLOAD_ROLES = [...ANDROID, 'PUT_PATIENT', 'PUT_ENCOUNTER', 'PUT_OBSERVATION'];

const dataset = buildOpenSrpDataset();
const village = dataset.subtreeOf(PERSONAS.worker.facility)[1]!;
const existingPatient = dataset.patientsIn([village])[0]!;

/** The tags the app puts on everything it creates for the worker's village. */
const tags = [
  { system: TAG_SYSTEMS.location, code: village },
  { system: TAG_SYSTEMS.organisation, code: PERSONAS.worker.organizationId },
  { system: TAG_SYSTEMS.careTeam, code: PERSONAS.worker.careTeamId },
  { system: TAG_SYSTEMS.practitioner, code: PERSONAS.worker.practitionerId },
];

function registration() {
  const patientId = randomUUID();
  const encounterId = randomUUID();
  const observationId = randomUUID();
  const patient: Patient = {
    resourceType: 'Patient',
    id: patientId,
    meta: { tag: tags },
    name: [{ family: 'Uploaded', given: ['Android'] }],
  };
  const encounter: Encounter = {
    resourceType: 'Encounter',
    id: encounterId,
    meta: { tag: tags },
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH' },
    subject: { reference: `Patient/${patientId}` },
  };
  const observation: Observation = {
    resourceType: 'Observation',
    id: observationId,
    meta: { tag: tags },
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
    subject: { reference: `Patient/${patientId}` },
    encounter: { reference: `Encounter/${encounterId}` },
    valueQuantity: { value: 61, unit: 'kg' },
  };
  return { patient, encounter, observation };
}

const put = (resource: Patient | Encounter | Observation) => ({
  resource,
  request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
});

/** A JSON Patch travels in a transaction as a Binary (FHIR R4 http.html#patch), as the engine sends it. */
const patchEntry = (target: string, operations: unknown[]) => ({
  resource: {
    resourceType: 'Binary',
    contentType: 'application/json-patch+json',
    data: Buffer.from(JSON.stringify(operations)).toString('base64'),
  },
  request: { method: 'PATCH', url: target },
});

function isReadBatch(body: string): boolean {
  try {
    const bundle = JSON.parse(body) as Bundle;
    return bundle.type === 'batch' && (bundle.entry ?? []).every((e) => e.request?.method === 'GET');
  } catch {
    return false;
  }
}

const transaction = (entry: unknown[]) =>
  Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }));

describe('the Android app uploads a gzipped transaction', () => {
  let gw: PermissionStack;
  before(async () => {
    gw = await startPermissionStack({ BODY_LIMIT_BYTES: String(LIMIT) });
  });
  after(() => gw.close());

  const fhir = () => gw.stack.fhir;
  async function upload(roles: readonly string[], body: Buffer, encoding = 'gzip'): Promise<RawResponse> {
    fhir().clearRequests();
    const token = await gw.stack.issuer.mint({
      sub: PERSONAS.worker.sub,
      fhir_core_app_id: 'app-location',
      realm_access: { roles: [...roles] },
    });
    return send(gw.stack.gatewayUrl, {
      method: 'POST',
      path: '/fhir/',
      headers: bearer(token, {
        'content-type': 'application/fhir+json; charset=utf-8',
        'content-encoding': encoding,
        accept: 'application/fhir+json',
      }),
      body,
    });
  }
  /** What reached the backend besides the gateway's own reads of stored resources (GETs, or one batch of GETs). */
  const writes = () => fhir().requests.filter((r) => r.method !== 'GET' && !isReadBatch(r.body));

  test('PUT-created, tagged Patient, Encounter and Observation → 200 transaction-response, stored', async () => {
    const { patient, encounter, observation } = registration();
    const body = transaction([put(patient), put(encounter), put(observation)]);
    const response = await upload(UPLOAD_ROLES, gzipSync(body));
    assert.equal(response.status, 200, response.text);

    const answer = response.json() as unknown as Bundle;
    assert.equal(answer.type, 'transaction-response');
    assert.equal(answer.entry?.length, 3);
    const backend = fhir().baseUrl;
    assert.ok(!response.text.includes(backend), 'no backend URL in the answer');
    const sent = [patient, encounter, observation];
    answer.entry?.forEach((entry, index) => {
      const { resourceType, id } = sent[index]!;
      assert.match(entry.response?.status ?? '', /^20[01]/);
      assert.equal(entry.fullUrl, `${gw.stack.fhirBase}/${resourceType}/${id}`);
      assert.match(entry.response?.location ?? '', new RegExp(`^${resourceType}/${id}(/|$)`));
    });

    const [forwarded] = writes();
    assert.equal(forwarded?.path, '/fhir/');
    assert.equal(forwarded?.body, body.toString('utf8'), 'the backend gets the decoded Bundle as sent');
    assert.equal(forwarded?.headers['content-encoding'], undefined);

    const stored = await fhir().repo.readResource<Patient>('Patient', patient.id!);
    assert.equal(stored.name?.[0]?.family, 'Uploaded');
    await fhir().repo.readResource<Encounter>('Encounter', encounter.id!);
    const storedObservation = await fhir().repo.readResource<Observation>('Observation', observation.id!);
    assert.equal(storedObservation.encounter?.reference, `Encounter/${encounter.id}`);
  });

  test('the same upload deflated → 200', async () => {
    const { patient, encounter, observation } = registration();
    const response = await upload(
      UPLOAD_ROLES,
      deflateSync(transaction([put(patient), put(encounter), put(observation)])),
      'deflate',
    );
    assert.equal(response.status, 200, response.text);
    await fhir().repo.readResource<Patient>('Patient', patient.id!);
  });

  test('one entry lacking its role → 403 naming it, nothing forwarded', async () => {
    const { patient, encounter, observation } = registration();
    const body = gzipSync(transaction([put(patient), put(encounter), put(observation)]));
    const response = await upload([...ANDROID, 'PUT_PATIENT', 'PUT_OBSERVATION'], body);
    assert.equal(response.status, 403, response.text);
    assert.match(
      diagnostics(response),
      /entry 1 \(PUT Encounter\/.*\) needs role PUT_ENCOUNTER or MANAGE_ENCOUNTER/,
    );
    assert.deepEqual(writes(), []);
    await assert.rejects(fhir().repo.readResource('Patient', patient.id!));
  });

  test('one entry created outside the assignment → 403, nothing forwarded', async () => {
    const { patient, encounter, observation } = registration();
    const elsewhere = dataset.subtreeOf(PERSONAS.other.facility)[1]!;
    observation.meta = { tag: [{ system: TAG_SYSTEMS.location, code: elsewhere }] };
    const response = await upload(
      UPLOAD_ROLES,
      gzipSync(transaction([put(patient), put(encounter), put(observation)])),
    );
    assert.equal(response.status, 403, response.text);
    assert.match(diagnostics(response), /entry 2/);
    assert.deepEqual(writes(), []);
  });

  describe('a PATCH entry whose resource is a JSON-Patch Binary is a patch of its URL', () => {
    const patch = () =>
      gzipSync(
        transaction([
          patchEntry(`Patient/${existingPatient}`, [{ op: 'replace', path: '/gender', value: 'other' }]),
        ]),
      );

    test('with PATCH_PATIENT → 200, the Patient is patched', async () => {
      const response = await upload([...ANDROID, 'PATCH_PATIENT'], patch());
      assert.equal(response.status, 200, response.text);
      assert.equal(writes().length, 1);
      const stored = await fhir().repo.readResource<Patient>('Patient', existingPatient);
      assert.equal(stored.gender, 'other');
    });

    test('with PUT_BINARY and MANAGE_BINARY but not PATCH_PATIENT → 403, nothing forwarded', async () => {
      const response = await upload(
        [...ANDROID, 'PUT_BINARY', 'MANAGE_BINARY', 'PATCH_BINARY', 'PUT_PATIENT'],
        patch(),
      );
      assert.equal(response.status, 403, response.text);
      assert.match(diagnostics(response), /PATCH_PATIENT or MANAGE_PATIENT/);
      assert.deepEqual(writes(), []);
    });
  });

  test('a bomb (about 1 KB inflating past BODY_LIMIT_BYTES) → 413, nothing forwarded', async () => {
    const bomb = gzipSync(Buffer.alloc(2 * LIMIT, 0x20), { level: 9 });
    assert.ok(bomb.length < 2048, `${bomb.length} bytes`);
    const response = await upload(UPLOAD_ROLES, bomb);
    assert.equal(response.status, 413, response.text);
    assert.equal(response.json().resourceType, 'OperationOutcome');
    assert.deepEqual(fhir().requests, []);
  });

  test('an unknown encoding → 415, a corrupt gzip → 400; nothing forwarded', async () => {
    const { patient } = registration();
    const body = transaction([put(patient)]);
    const unknown = await upload(UPLOAD_ROLES, gzipSync(body), 'zstd');
    assert.equal(unknown.status, 415, unknown.text);
    assert.match(diagnostics(unknown), /zstd/);
    assert.deepEqual(fhir().requests, []);

    const corrupt = await upload(UPLOAD_ROLES, gzipSync(body).subarray(0, 30));
    assert.equal(corrupt.status, 400, corrupt.text);
    assert.match(diagnostics(corrupt), /not valid gzip data/);
    assert.deepEqual(fhir().requests, []);
  });
});
