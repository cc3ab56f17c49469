/**
 * upstream's AccessCheckerTestBase (google/fhir-gateway plugins), shared by the `list` and
 * `patient` checkers: each scenario is a test named after upstream's, over real HTTP, asserting
 * the status and what reached the FHIR server. Where this gateway answers differently (reads of
 * other types by id work; joins are checked instead of refused; a write's new version must stay in
 * the compartment), the test says so and docs/compatibility.md lists it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CheckerStack,
  entryIds,
  JSON_PATCH,
  observation,
  PATIENT_AUTHORIZED,
  PATIENT_IN_BUNDLE_1,
  PATIENT_NON_AUTHORIZED,
  reason,
  startCheckerStack,
} from './checker-kit.js';

export function accessCheckerTestBase(checker: 'patient' | 'list', claims: Record<string, unknown>): void {
  describe(`AccessCheckerTestBase (${checker})`, () => {
    let s: CheckerStack;
    before(async () => {
      s = await startCheckerStack(checker);
    });
    after(() => s.close());
    const call = (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
      s.call(claims, method, path, options);

    test('createTest: the gateway starts with the checker and answers', async () => {
      assert.equal((await call('GET', `Patient/${PATIENT_AUTHORIZED}`)).status, 200);
    });

    test('canAccessTest: GET Patient/<authorized> is granted', async () => {
      const response = await call('GET', `Patient/${PATIENT_AUTHORIZED}`);
      assert.equal(response.status, 200);
      assert.equal(response.json().id, PATIENT_AUTHORIZED);
    });

    test('canAccessNotAuthorized: GET Patient/<other> is refused before the FHIR server is asked', async () => {
      const response = await call('GET', `Patient/${PATIENT_NON_AUTHORIZED}`);
      assert.equal(response.status, 403);
      assert.deepEqual(s.forwarded(), []);
    });

    test('canAccessDirectResourceNotAuthorized: GET Observation/<id> works, and answers 404 outside the compartment as for a missing id', async () => {
      // Upstream refused every read of another type by id (400, issue #63).
      assert.equal((await call('GET', 'Observation/obs-auth-lab')).status, 200);
      const hidden = await call('GET', 'Observation/obs-other-only');
      const missing = await call('GET', 'Observation/a-random-id');
      assert.equal(hidden.status, 404);
      assert.equal(missing.status, 404);
      assert.equal(
        reason(hidden).replace('obs-other-only', 'X'),
        reason(missing).replace('a-random-id', 'X'),
      );
      assert.doesNotMatch(hidden.text, /Other|weight/);
    });

    test('canAccessDirectResourceWithParamNotAuthorized: a patient param on a read by id changes nothing', async () => {
      const response = await call('GET', `Observation/obs-other-only?subject=${PATIENT_AUTHORIZED}`);
      assert.equal(response.status, 404);
    });

    test('canAccessSearchQuery: Observation?subject=<authorized> is granted and narrowed to Patient/<id>', async () => {
      const response = await call('GET', `Observation?subject=${PATIENT_AUTHORIZED}`);
      assert.equal(response.status, 200);
      const ids = entryIds(response.json());
      assert.ok(ids.includes('Observation/obs-auth-lab'));
      assert.ok(!ids.includes('Observation/obs-group'), 'a bare id must not match Group/<same id>');
      assert.deepEqual(s.forwarded(), [`GET /Observation?subject=Patient/${PATIENT_AUTHORIZED}`]);
    });

    test('canAccessSearchQueryNotAuthorized: a search that names no patient is a 400', async () => {
      const response = await call('GET', 'Observation');
      assert.equal(response.status, 400);
      assert.match(reason(response), /must name a patient/);
      assert.deepEqual(s.forwarded(), []);
    });

    test('canAccessPutObservation: PUT Observation?subject=<authorized> with a body about the patient', async () => {
      const body = observation('obs-auth-survey', PATIENT_AUTHORIZED, { status: 'amended' });
      const response = await call('PUT', `Observation?subject=${PATIENT_AUTHORIZED}&_id=obs-auth-survey`, {
        body,
      });
      assert.ok(response.status === 200 || response.status === 201, `${response.status} ${response.text}`);
    });

    test('canAccessPutObservationUnauthorized: PUT Observation without params is a 400', async () => {
      const body = observation('put-obs-2', PATIENT_NON_AUTHORIZED);
      const response = await call('PUT', 'Observation', { body });
      assert.equal(response.status, 400);
      assert.deepEqual(s.forwarded(), []);
    });

    test("canAccessPatchObservation: a conditional JSON Patch that keeps the Observation the patient's", async () => {
      const ops = [
        { op: 'replace', path: '/subject/reference', value: `Patient/${PATIENT_AUTHORIZED}` },
        { op: 'replace', path: '/subject/display', value: 'MyName' },
        { op: 'add', path: '/performer', value: [] },
        { op: 'replace', path: '/valueQuantity/value', value: 30 },
      ];
      const path = `Observation?subject=${PATIENT_AUTHORIZED}&_id=obs-auth-qty`;
      const response = await call('PATCH', path, { body: ops, contentType: JSON_PATCH });
      assert.equal(response.status, 200, response.text);
      assert.equal((response.json() as { valueQuantity?: { value?: number } }).valueQuantity?.value, 30);
    });

    test('canAccessPatchObservationInvalidOpRemove: a patch that cannot be applied is a 400, nothing patched', async () => {
      const ops = [
        { op: 'replace', path: '/subject/reference', value: `Patient/${PATIENT_AUTHORIZED}` },
        { op: 'remove', path: '/patient' },
      ];
      const path = `Observation?subject=${PATIENT_AUTHORIZED}&_id=obs-auth-qty-2`;
      const response = await call('PATCH', path, { body: ops, contentType: JSON_PATCH });
      assert.equal(response.status, 400);
      assert.ok(!s.forwarded().some((line) => line.startsWith('PATCH')));
    });

    test('canAccessPatchObservationNoReferenceAuthorized: a patch that drops the patient reference is refused (the new version would leave the compartment); one that keeps it is granted', async () => {
      const path = `Observation?subject=${PATIENT_AUTHORIZED}&_id=obs-auth-qty-2`;
      const dropped = [
        { op: 'replace', path: '/subject', value: { type: 'Patient' } },
        { op: 'replace', path: '/status', value: 'final' },
      ];
      const refused = await call('PATCH', path, { body: dropped, contentType: JSON_PATCH });
      assert.equal(refused.status, 403);
      assert.match(reason(refused), /would leave the compartment/);
      assert.ok(!s.forwarded().some((line) => line.startsWith('PATCH')));
      const kept = [{ op: 'replace', path: '/status', value: 'amended' }];
      assert.equal((await call('PATCH', path, { body: kept, contentType: JSON_PATCH })).status, 200);
    });

    test('canAccessPatchObservationNoPatientIdUnauthorized: a reference to "Patient/" names nobody: refused', async () => {
      const ops = [{ op: 'replace', path: '/subject', value: { reference: 'Patient/' } }];
      const path = `Observation?subject=${PATIENT_AUTHORIZED}&_id=obs-auth-qty-2`;
      const response = await call('PATCH', path, { body: ops, contentType: JSON_PATCH });
      assert.equal(response.status, 403);
      assert.ok(!s.forwarded().some((line) => line.startsWith('PATCH')));
    });

    test('canAccessPostObservation: POST of an Observation about the patient', async () => {
      const { id: _id, ...body } = observation('x', PATIENT_AUTHORIZED);
      assert.equal((await call('POST', 'Observation', { body })).status, 201);
    });

    test('canAccessPostObservationWithPerformer: a patient among the performers puts it in the compartment', async () => {
      const body = {
        ...observation('x', 'test-patient-1'),
        id: undefined,
        performer: [
          { reference: 'Practitioner/test-practitioner-1' },
          { reference: `Patient/${PATIENT_AUTHORIZED}` },
          { reference: 'Patient/test-patient-2' },
        ],
      };
      assert.equal((await call('POST', 'Observation', { body })).status, 201);
    });

    test('canAccessPostObservationNoSubject: an Observation about nobody is refused', async () => {
      const { subject: _subject, id: _id, ...body } = observation('x', PATIENT_AUTHORIZED);
      const response = await call('POST', 'Observation', { body });
      assert.equal(response.status, 403);
      assert.deepEqual(s.forwarded(), []);
    });

    test('canAccessPutObservationNoSubjectUnauthorized: a conditional PUT whose body names no patient is refused', async () => {
      const { subject: _subject, ...body } = observation('put-obs-3', PATIENT_AUTHORIZED);
      const response = await call('PUT', `Observation?subject=${PATIENT_AUTHORIZED}&_id=put-obs-3`, { body });
      assert.equal(response.status, 403);
      assert.deepEqual(s.forwarded(), []);
    });

    test('canAccessPostWrongQueryPath: an Observation body POSTed to Encounter is a 400', async () => {
      const { id: _id, ...body } = observation('x', PATIENT_AUTHORIZED);
      const response = await call('POST', 'Encounter', { body });
      assert.equal(response.status, 400);
      assert.deepEqual(s.forwarded(), []);
    });

    test('canAccessPutPatientNoId: PUT Patient without an id or params is a 400', async () => {
      const response = await call('PUT', 'Patient', { body: { resourceType: 'Patient' } });
      assert.equal(response.status, 400);
      assert.deepEqual(s.forwarded(), []);
    });

    test('canAccessBundleNonPatientResourcesNoPatientRefUnauthorized: a transaction PUT of an Encounter about nobody is refused whole', async () => {
      const bundle = transaction([
        { method: 'PUT', url: 'Observation/tx-obs-1', resource: observation('tx-obs-1', PATIENT_AUTHORIZED) },
        {
          method: 'PUT',
          url: 'Encounter/tx-enc-1',
          resource: { resourceType: 'Encounter', id: 'tx-enc-1', status: 'finished', class: { code: 'AMB' } },
        },
      ]);
      const response = await call('POST', '', { body: bundle });
      assert.equal(response.status, 403);
      assert.match(reason(response), /Bundle entry 1/);
      assert.ok(!s.forwarded().some((line) => line.startsWith('POST')));
    });

    test("canAccessBundleDeleteNonPatient: a conditional DELETE of the patient's Observation in a transaction", async () => {
      const bundle = transaction([
        { method: 'DELETE', url: `Observation?patient=${PATIENT_AUTHORIZED}&_id=obs-auth-survey` },
      ]);
      const response = await call('POST', '', { body: bundle });
      assert.equal(response.status, 200, response.text);
    });

    test('canAccessBundleDeletePatientUnAuthorized: DELETE of another Patient in a transaction is refused', async () => {
      const bundle = transaction([{ method: 'DELETE', url: `Patient/${PATIENT_NON_AUTHORIZED}` }]);
      const response = await call('POST', '', { body: bundle });
      assert.ok(response.status === 403 || response.status === 404, String(response.status));
      assert.ok(!s.forwarded().some((line) => line.startsWith('POST')));
    });

    test('canAccessBundleNoResourceFieldUnauthorized: a PUT entry without its resource is a 400', async () => {
      const bundle = transaction([
        { method: 'PUT', url: `Encounter?_id=enc-auth&patient=Patient/${PATIENT_AUTHORIZED}` },
      ]);
      const response = await call('POST', '', { body: bundle });
      assert.equal(response.status, 400);
      assert.deepEqual(s.forwarded(), []);
    });

    test('canAccessBundleGetNullPatientUnauthorized: a GET entry that names no patient is a 400', async () => {
      const bundle = transaction([
        { method: 'GET', url: `Encounter?patient=${PATIENT_AUTHORIZED}` },
        { method: 'GET', url: 'Encounter' },
      ]);
      const response = await call('POST', '', { body: bundle });
      assert.equal(response.status, 400);
      assert.deepEqual(s.forwarded(), []);
    });

    test('canAccessBundlePatchNoBinaryResourceUnauthorized: a PATCH entry that is not a JSON Patch Binary is refused', async () => {
      const bundle = transaction([
        {
          method: 'PATCH',
          url: `Patient/${PATIENT_AUTHORIZED}`,
          resource: {
            resourceType: 'Parameters',
            parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'replace' }] }],
          },
        },
      ]);
      const response = await call('POST', '', { body: bundle });
      assert.ok(response.status === 400 || response.status === 403, `${response.status} ${response.text}`);
      assert.ok(!s.forwarded().some((line) => line.startsWith('POST')));
    });

    test('canAccessSearchChaining: a chained param is a 400', async () => {
      const response = await call('GET', 'Observation?subject:Patient.name=random-name');
      assert.equal(response.status, 400);
      assert.deepEqual(s.forwarded(), []);
    });

    test('canAccessPatientWithIdSearch: Patient?_id=<authorized>', async () => {
      const response = await call('GET', `Patient?_id=${PATIENT_AUTHORIZED}`);
      assert.equal(response.status, 200);
      assert.deepEqual(entryIds(response.json()), [`Patient/${PATIENT_AUTHORIZED}`]);
    });

    test('canAccessSearchReverseChaining: _has is a 400', async () => {
      const response = await call(
        'GET',
        `Observation?subject=${PATIENT_AUTHORIZED}&_has:Observation:subject:code=something`,
      );
      assert.equal(response.status, 400);
      assert.deepEqual(s.forwarded(), []);
    });

    test('canAccessSearchInclude: _include is answered, the included resources outside the compartment removed', async () => {
      // Upstream refused _include (400); here the answer is checked entry by entry.
      const response = await call(
        'GET',
        `Observation?subject=${PATIENT_NON_AUTHORIZED}&_include=Observation:performer`,
      );
      assert.equal(response.status, 403);
      const own = await call(
        'GET',
        `Observation?performer=${PATIENT_AUTHORIZED}&_include=Observation:subject`,
      );
      assert.equal(own.status, 200);
      const ids = entryIds(own.json());
      assert.ok(ids.includes('Observation/obs-other'));
      assert.ok(!ids.includes(`Patient/${PATIENT_NON_AUTHORIZED}`), ids.join());
      assert.doesNotMatch(own.text, /"family":"Other"/);
    });

    test('canAccessSearchRevinclude: _revinclude entries outside the compartment are removed', async () => {
      const response = await call('GET', `Patient?_id=${PATIENT_AUTHORIZED}&_revinclude=Observation:subject`);
      assert.equal(response.status, 200);
      const ids = entryIds(response.json());
      assert.ok(ids.includes('Observation/obs-auth-lab'));
      assert.ok(ids.every((id) => id !== 'Observation/obs-other-only'));
    });

    test(`the patient in the bundle (${PATIENT_IN_BUNDLE_1}) is ${checker === 'list' ? 'a member of the list' : "not the token's patient"}`, async () => {
      const response = await call('GET', `Patient/${PATIENT_IN_BUNDLE_1}`);
      assert.equal(response.status, checker === 'list' ? 200 : 403);
    });
  });
}

export function transaction(
  entries: { method: string; url: string; resource?: unknown; fullUrl?: string; ifNoneExist?: string }[],
  type = 'transaction',
): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type,
    entry: entries.map(({ method, url, resource, fullUrl, ifNoneExist }) => ({
      ...(fullUrl ? { fullUrl } : {}),
      ...(resource === undefined ? {} : { resource }),
      request: { method, url, ...(ifNoneExist ? { ifNoneExist } : {}) },
    })),
  };
}
