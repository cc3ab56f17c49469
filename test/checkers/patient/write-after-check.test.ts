/**
 * The `patient` checker judges a write by id on the stored version (is it in the patient's
 * compartment?) and forwards it only onto that version (src/access/version-guard.ts): another
 * client that moves the resource to another patient in between makes the write fail (412).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import {
  type CheckerStack,
  JSON_PATCH,
  jsonPatchBinary,
  PATIENT_AUTHORIZED,
  PATIENT_IN_BUNDLE_1,
  PATIENT_NON_AUTHORIZED,
  startCheckerStack,
  TEST_LIST_ID,
} from '../checker-kit.js';

describe('patient checker: writes are forwarded only onto the version they were judged on', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('patient');
  });
  after(() => s.close());
  const call = (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
    s.call({ patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' }, method, path, options);
  const read = async (id: string) =>
    (await s.fhir.repo.readResource<Observation>('Observation', id)) as Observation;
  const forwarded = (method: string) => s.fhir.requests.filter((r) => r.method === method);

  /** Another client gives `Observation/<id>` to another patient just before the gateway's `method` arrives. */
  function reassignedBefore(method: string, id: string): void {
    s.fhir.intercept(async (req) => {
      if (req.method === method && req.path === `/fhir/Observation/${id}`) {
        const current = await read(id);
        await s.fhir.repo.updateResource<Observation>({
          ...current,
          subject: { reference: `Patient/${PATIENT_NON_AUTHORIZED}` },
        });
      }
      return false;
    });
  }

  for (const method of ['PUT', 'PATCH'] as const) {
    test(`${method}: an Observation given to another patient after the check is not changed (412)`, async () => {
      const id = method === 'PUT' ? 'obs-auth-lab' : 'obs-auth-vital';
      const stored = await read(id);
      reassignedBefore(method, id);
      try {
        const response =
          method === 'PUT'
            ? await call('PUT', `Observation/${id}`, { body: { ...stored, status: 'amended' } })
            : await call('PATCH', `Observation/${id}`, {
                body: [{ op: 'replace', path: '/status', value: 'amended' }],
                contentType: JSON_PATCH,
              });
        assert.equal(response.status, 412, response.text);
        assert.equal(forwarded(method)[0]?.headers['if-match'], `W/"${stored.meta?.versionId}"`);
      } finally {
        s.fhir.intercept(undefined);
      }
      const now = await read(id);
      assert.equal(now.subject?.reference, `Patient/${PATIENT_NON_AUTHORIZED}`);
      assert.equal(now.status, stored.status);
    });
  }

  test('a batch that writes one Observation in two entries is refused (400), nothing forwarded', async () => {
    const stored = await read('obs-auth-vital');
    const response = await call('POST', '', {
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          {
            resource: { ...stored, status: 'amended' },
            request: { method: 'PUT', url: 'Observation/obs-auth-vital' },
          },
          { request: { method: 'DELETE', url: 'Observation/obs-auth-vital' } },
        ],
      },
    });
    assert.equal(response.status, 400, response.text);
    assert.deepEqual(s.fhir.requests, []);
  });

  test('a conditional patch and a patch by id of the same type in one batch are refused (400)', async () => {
    const patch = (url: string) => ({
      resource: jsonPatchBinary([{ op: 'replace', path: '/status', value: 'amended' }]),
      request: { method: 'PATCH', url },
    });
    const response = await call('POST', '', {
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          patch(`Observation?_id=obs-auth-vital&subject=Patient/${PATIENT_AUTHORIZED}`),
          patch('Observation/obs-auth-vital'),
        ],
      },
    });
    assert.equal(response.status, 400, response.text);
    assert.match(response.text, /may both write Observation\/obs-auth-vital/);
    assert.deepEqual(s.fhir.requests, []);
  });

  test('without a concurrent write, the guarded PUT goes through', async () => {
    const stored = await read('obs-auth-survey');
    const response = await call('PUT', 'Observation/obs-auth-survey', {
      body: { ...stored, status: 'amended' },
    });
    assert.equal(response.status, 200, response.text);
    assert.equal(forwarded('PUT')[0]?.headers['if-match'], `W/"${stored.meta?.versionId}"`);
    assert.equal((await read('obs-auth-survey')).status, 'amended');
  });
});

describe('patient,list: the two checkers must have judged the same stored version', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('patient,list');
  });
  after(() => s.close());

  test("a write is refused when the resource changed between the two checkers' reads (412)", async () => {
    // The patient checker allows PATIENT_AUTHORIZED's resources; the list checker also those of
    // PATIENT_IN_BUNDLE_1 (test-list). Between their two reads another client gives the
    // Observation to PATIENT_IN_BUNDLE_1: only the list checker judged that version.
    const id = 'obs-auth-qty';
    const stored = (await s.fhir.repo.readResource<Observation>('Observation', id)) as Observation;
    let reads = 0;
    s.fhir.intercept(async (req) => {
      if (req.method === 'GET' && req.path === `/fhir/Observation/${id}` && ++reads === 2) {
        await s.fhir.repo.updateResource<Observation>({
          ...stored,
          subject: { reference: `Patient/${PATIENT_IN_BUNDLE_1}` },
        });
      }
      return false;
    });
    try {
      const response = await s.call(
        { patient_id: PATIENT_AUTHORIZED, patient_list: TEST_LIST_ID, scope: 'patient/*.*' },
        'PUT',
        `Observation/${id}`,
        { body: { ...stored, status: 'amended' } },
      );
      assert.equal(reads, 2);
      assert.equal(response.status, 412, response.text);
      assert.ok(!s.fhir.requests.some((r) => r.method === 'PUT'), 'nothing is written');
    } finally {
      s.fhir.intercept(undefined);
    }
    const now = (await s.fhir.repo.readResource<Observation>('Observation', id)) as Observation;
    assert.equal(now.subject?.reference, `Patient/${PATIENT_IN_BUNDLE_1}`);
    assert.equal(now.status, stored.status);
  });
});
