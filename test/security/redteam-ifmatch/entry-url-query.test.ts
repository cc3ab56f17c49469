/**
 * Red team (version guard, Bundle entries): a write entry by id whose `request.url` also carries a
 * search, `PATCH Patient/Patient?_id=<victim>`. The gateway parses it as a write of `Patient/Patient`
 * (the id is `Patient`), judges it on that resource's stored version and sets `ifMatch` for it. The
 * local FHIR server (@medplum/fhir-router's batch processor, as the real Medplum server) treats any
 * entry URL holding `?` as a conditional write: it searches `<last path segment>?<query>`, that is
 * `Patient?_id=<victim>`, and writes the match. The write lands on a resource no check saw, and the
 * `ifMatch` the guard set is compared with nothing (PATCH, DELETE) or the wrong resource. FHIR R4
 * defines no search params on an update, patch or delete by id (http.html#update), so such an entry
 * has no single meaning across servers.
 *
 * The resource the gateway judges (`Patient/Patient`, `Observation/Observation`) is created by the
 * attacker first, in scope, with an ordinary PUT.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Observation, Patient } from '@medplum/fhirtypes';
import {
  type CheckerStack,
  jsonPatchBinary,
  PATIENT_AUTHORIZED,
  PATIENT_NON_AUTHORIZED,
  startCheckerStack,
} from '../../checkers/checker-kit.js';
import { type SyncStack, startSyncStack } from '../../opensrp/sync/sync-stack.js';
import { PERSONAS, TAG_SYSTEMS } from '../../support/opensrp-dataset.js';

describe('OpenSRP Android user: a Bundle write entry `Patient/Patient?_id=<out of scope>`', () => {
  let s: SyncStack;
  let token: string;
  let outside: string[];
  const mine = { system: TAG_SYSTEMS.location, code: PERSONAS.worker.facility };
  before(async () => {
    s = await startSyncStack();
    token = await s.token({ strategy: 'Location' });
    outside = s.dataset.patientsIn(s.dataset.subtreeOf(PERSONAS.other.facility));
  });
  after(() => s.close());
  const stored = async (id: string) => (await s.fhir.repo.readResource<Patient>('Patient', id)) as Patient;
  const batch = (entry: Record<string, unknown>) =>
    s.call(token, '', { method: 'POST', body: { resourceType: 'Bundle', type: 'batch', entry: [entry] } });
  /** The in-scope resource the gateway judges the PATCH and DELETE entries on. */
  const createDecoy = async () => {
    const decoy = await s.call(token, 'Patient/Patient', {
      method: 'PUT',
      body: { resourceType: 'Patient', id: 'Patient', meta: { tag: [mine] } },
    });
    assert.equal(decoy.status, 200, decoy.text);
  };

  // `Patient/Patient` does not exist: an update-as-create, judged on the new body alone and
  // forwarded without ifMatch (there is no version to name). Were it stored, the guard's ifMatch
  // would be compared with the victim's version and the server would answer 412.
  test('PUT does not overwrite the out-of-scope Patient', async () => {
    const victim = outside[0]!;
    const before = await stored(victim);
    const response = await batch({
      resource: {
        resourceType: 'Patient',
        id: 'Patient',
        meta: { tag: [mine] },
        name: [{ family: 'overwritten' }],
      },
      request: { method: 'PUT', url: `Patient/Patient?_id=${victim}` },
    });
    assert.equal(response.status, 400, response.text);
    assert.deepEqual(await stored(victim), before, `Patient/${victim} was overwritten (${response.status})`);
  });

  test("PATCH does not move the out-of-scope Patient into the caller's scope (then readable)", async () => {
    const victim = outside[1]!;
    assert.equal((await s.call(token, `Patient/${victim}`)).status, 404);
    await createDecoy();
    const response = await batch({
      resource: jsonPatchBinary([{ op: 'add', path: '/meta/tag/-', value: mine }]),
      request: { method: 'PATCH', url: `Patient/Patient?_id=${victim}` },
    });
    assert.equal(response.status, 400, response.text);
    const read = await s.call(token, `Patient/${victim}`);
    assert.equal(
      read.status,
      404,
      `Patient/${victim} became readable after the patch: ${read.text.slice(0, 200)}`,
    );
  });

  test('DELETE does not delete the out-of-scope Patient', async () => {
    const victim = outside[2]!;
    await createDecoy();
    const response = await batch({ request: { method: 'DELETE', url: `Patient/Patient?_id=${victim}` } });
    assert.equal(response.status, 400, response.text);
    await assert.doesNotReject(stored(victim), `Patient/${victim} was deleted (${response.status})`);
  });
});

describe("patient checker: a Bundle write entry `Observation/Observation?_id=<another patient's>`", () => {
  let s: CheckerStack;
  const claims = { patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' };
  before(async () => {
    s = await startCheckerStack('patient');
    const decoy = await s.call(claims, 'PUT', 'Observation/Observation', {
      body: {
        resourceType: 'Observation',
        id: 'Observation',
        status: 'final',
        code: { text: 'decoy' },
        subject: { reference: `Patient/${PATIENT_AUTHORIZED}` },
      },
    });
    assert.equal(decoy.status, 200, decoy.text);
  });
  after(() => s.close());
  const stored = async (id: string) =>
    (await s.fhir.repo.readResource<Observation>('Observation', id)) as Observation;
  const batch = (entry: Record<string, unknown>) =>
    s.call(claims, 'POST', '', { body: { resourceType: 'Bundle', type: 'batch', entry: [entry] } });

  test("PATCH does not change the other patient's Observation", async () => {
    const before = await stored('obs-other-only');
    assert.equal(before.subject?.reference, `Patient/${PATIENT_NON_AUTHORIZED}`);
    const response = await batch({
      resource: jsonPatchBinary([{ op: 'replace', path: '/status', value: 'entered-in-error' }]),
      request: { method: 'PATCH', url: 'Observation/Observation?_id=obs-other-only' },
    });
    assert.equal(response.status, 400, response.text);
    assert.deepEqual(
      await stored('obs-other-only'),
      before,
      `obs-other-only was patched (${response.status})`,
    );
  });

  test("DELETE does not delete the other patient's Observation", async () => {
    const response = await batch({
      request: { method: 'DELETE', url: 'Observation/Observation?_id=obs-other' },
    });
    assert.equal(response.status, 400, response.text);
    await assert.doesNotReject(stored('obs-other'), `obs-other was deleted (${response.status})`);
  });
});
