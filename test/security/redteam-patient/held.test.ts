/**
 * Variants tried against the `patient` and `list` checkers (and `patient,list`) that held: each
 * asserts the safe answer and what reached the FHIR server. The findings are rt1…rt6 beside this file.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import {
  type CheckerStack,
  category,
  entryIds,
  JSON_PATCH,
  LAB,
  observation,
  PATIENT_AUTHORIZED,
  PATIENT_NON_AUTHORIZED,
  startCheckerStack,
  TEST_LIST_ID,
} from '../../checkers/checker-kit.js';

const ME = `Patient/${PATIENT_AUTHORIZED}`;
const OTHER = `Patient/${PATIENT_NON_AUTHORIZED}`;
const OTHER_DATA = /patient-non-authorized|"family":"Other"|"subject"/;
type Options = Parameters<CheckerStack['call']>[3];

describe('red team (patient, list): variants that held', () => {
  let patient: CheckerStack;
  let list: CheckerStack;
  before(async () => {
    [patient, list] = await Promise.all([startCheckerStack('patient'), startCheckerStack('list')]);
  });
  after(async () => {
    await Promise.all([patient.close(), list.close()]);
  });
  const asPatient =
    (scope: unknown = 'patient/*.*', extra: Record<string, unknown> = {}) =>
    (method: string, path: string, options?: Options) =>
      patient.call({ patient_id: PATIENT_AUTHORIZED, scope, ...extra }, method, path, options);
  const asList = (method: string, path: string, options?: Options) =>
    list.call({ patient_list: TEST_LIST_ID }, method, path, options);
  const both = [
    ['patient', asPatient(), () => patient.forwarded()],
    ['list', asList, () => list.forwarded()],
  ] as const;

  test('system searches, _type, type and system history, $graphql, other compartments: refused, nothing forwarded', async () => {
    for (const [name, call, forwarded] of both) {
      for (const path of [
        `?_type=Patient,Observation&_id=${PATIENT_NON_AUTHORIZED}`,
        'Observation/_history',
        '_history',
        `Patient/${PATIENT_AUTHORIZED}/$graphql?query={ObservationList(_reference:subject){id}}`,
        `$graphql?query={Patient(id:"${PATIENT_NON_AUTHORIZED}"){id}}`,
        `Patient/${PATIENT_NON_AUTHORIZED}/Observation`,
        `Patient/${PATIENT_NON_AUTHORIZED}/$everything`,
        `Encounter/enc-auth/Observation`,
        `Observation?subject=${PATIENT_AUTHORIZED}&_has:Observation:has-member:subject=${OTHER}`,
        `Observation?subject=${PATIENT_AUTHORIZED}&_sort=subject.name`,
        `Observation?subject=Group/${PATIENT_AUTHORIZED},${ME}`,
        `Observation?subject=${ME}/_history/1`,
        `Observation?subject:Group=${PATIENT_AUTHORIZED}`,
      ]) {
        const response = await call('GET', path);
        assert.ok([400, 403, 404].includes(response.status), `${name} ${path}: ${response.status}`);
        assert.deepEqual(
          forwarded().filter((line) => !line.startsWith('GET /List/')),
          [],
          `${name} ${path}`,
        );
      }
    }
  });

  test('POST _search with the params split between URL and body: held to the same rules, joins checked', async () => {
    for (const [name, call] of both) {
      const split = await call('POST', `Observation/_search?subject=${PATIENT_AUTHORIZED}`, {
        body: `_include=Observation:performer&_revinclude:iterate=Observation:has-member&subject=${OTHER}`,
        contentType: 'application/x-www-form-urlencoded',
      });
      assert.ok(split.status === 200 || split.status === 403, `${name} ${split.status}`);
      assert.doesNotMatch(split.text, /"family":"Other"/);
      const other = await call('POST', 'Observation/_search', {
        body: `subject=${OTHER}`,
        contentType: 'application/x-www-form-urlencoded',
      });
      assert.equal(other.status, 403, name);
    }
  });

  test('iterate joins from a Patient search and from a compartment search: other patients removed', async () => {
    for (const [name, call] of both) {
      for (const path of [
        `Patient?_id=${PATIENT_AUTHORIZED}&_revinclude:iterate=Patient:link&_include:iterate=Patient:link`,
        `Patient/${PATIENT_AUTHORIZED}/Observation?_include:iterate=Observation:subject&_revinclude=Provenance:target`,
        `Observation?performer=${PATIENT_AUTHORIZED}&_include=Observation:subject&_include:iterate=Patient:link`,
      ]) {
        const response = await call('GET', path);
        assert.equal(response.status, 200, `${name} ${path}`);
        assert.ok(!entryIds(response.json()).includes(OTHER), `${name} ${path}`);
      }
    }
  });

  test('HAPI paging links of one caller are refused to another', async () => {
    const first = await asPatient()('GET', `Observation?subject=${PATIENT_AUTHORIZED}&_count=1`);
    const next = (first.json().link as { relation: string; url: string }[]).find(
      (l) => l.relation === 'next',
    );
    assert.ok(next);
    const path = next.url.replace(/^.*\/fhir\/?/, '');
    const replay = await patient.call(
      { patient_id: PATIENT_NON_AUTHORIZED, scope: 'patient/*.*', sub: 'someone-else' },
      'GET',
      path,
    );
    assert.ok([400, 403].includes(replay.status), `${replay.status}`);
    assert.deepEqual(patient.forwarded(), []);
  });

  test('writes that would move data out of the compartment or launder references: refused', async () => {
    for (const [name, call] of both) {
      const moved = observation('obs-auth-lab', PATIENT_NON_AUTHORIZED, category('laboratory'));
      assert.equal((await call('PUT', 'Observation/obs-auth-lab', { body: moved })).status, 403, name);
      const patch = await call('PATCH', 'Observation/obs-auth-lab', {
        body: [{ op: 'replace', path: '/subject/reference', value: OTHER }],
        contentType: JSON_PATCH,
      });
      assert.equal(patch.status, 403, name);
      for (const reference of [`${OTHER}/_history/1`, '#p', `Patient?_id=${PATIENT_NON_AUTHORIZED}`]) {
        const { id: _id, ...body } = observation('x', PATIENT_AUTHORIZED) as Observation & {
          contained?: unknown;
        };
        const response = await call('POST', 'Observation', {
          body: {
            ...body,
            subject: { reference },
            contained: [
              { resourceType: 'Patient', id: 'p', link: [{ other: { reference: ME }, type: 'seealso' }] },
            ],
          },
        });
        assert.ok([400, 403].includes(response.status), `${name} ${reference}: ${response.status}`);
      }
      assert.ok(!patient.forwarded().some((l) => /^(PUT|PATCH|POST)/.test(l)));
      assert.ok(!list.forwarded().some((l) => /^(PUT|PATCH|POST)/.test(l)));
    }
  });

  test('out of scope looks missing: HEAD, If-None-Match, DELETE and PATCH of another patient’s Observation answer 404 as for a missing id', async () => {
    for (const [name, call] of both) {
      for (const method of ['GET', 'HEAD', 'DELETE']) {
        const hidden = await call(method, 'Observation/obs-other-only', {
          headers: { 'if-none-match': 'W/"1"' },
        });
        const missing = await call(method, 'Observation/nobody-here', {
          headers: { 'if-none-match': 'W/"1"' },
        });
        assert.equal(hidden.status, 404, `${name} ${method}`);
        assert.equal(missing.status, 404, `${name} ${method}`);
      }
    }
  });

  test('granular scopes: reads, vreads, history, batch entries and $everything hold the criteria', async () => {
    const call = asPatient(`patient/Observation.rs?category=${encodeURIComponent(LAB)} patient/Patient.r`);
    for (const path of ['Observation/obs-auth-vital', 'Observation/obs-auth-vital/_history']) {
      assert.equal((await call('GET', path)).status, 404, path);
    }
    const batch = await call('POST', '', {
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { request: { method: 'GET', url: 'Observation/obs-auth-vital' } },
          { request: { method: 'GET', url: `Patient/${PATIENT_AUTHORIZED}/Observation` } },
        ],
      },
    });
    assert.equal(batch.status, 200);
    assert.doesNotMatch(batch.text, /vital-signs|survey/);
    const everything = await call('GET', `Patient/${PATIENT_AUTHORIZED}/$everything`);
    assert.equal(everything.status, 200);
    assert.doesNotMatch(everything.text, /vital-signs|survey|Encounter/);
  });

  test('scope tricks: wrong case, letters out of order, v1 with criteria, system/ without a patient, arrays', async () => {
    const search = `Observation?subject=${PATIENT_AUTHORIZED}`;
    for (const scope of [
      'Patient/Observation.rs',
      'patient/Observation.sr',
      'patient/observation.rs',
      `patient/Observation.read?category=${encodeURIComponent(LAB)}`,
      'patient/Observation.rs?',
      'patient/Observation.cruds.rs',
      ['patient/Observation.', 42, { scope: 'patient/*.*' }],
    ]) {
      const response = await asPatient(scope)('GET', search);
      assert.equal(response.status, 403, `${JSON.stringify(scope)}: ${response.status}`);
    }
    assert.equal((await patient.call({ scope: 'system/*.*' }, 'GET', search)).status, 401);
    const twoCategories = `patient/Observation.rs?category=laboratory&category=survey`;
    const and = await asPatient(twoCategories)('GET', search);
    assert.deepEqual(entryIds(and.json()), []);
    assert.equal(
      (
        await asPatient('patient/Observation.rs')('PATCH', 'Observation/obs-auth-lab', {
          body: [{ op: 'replace', path: '/status', value: 'amended' }],
          contentType: JSON_PATCH,
        })
      ).status,
      403,
    );
  });

  test('list: Lists are searched never, and other Lists are data like any other', async () => {
    assert.equal((await asList('GET', `List?_id=${TEST_LIST_ID}&_include=List:item`)).status, 403);
    assert.equal((await asList('GET', 'List/other-list')).status, 404);
    const shared = await asList('GET', 'List/shared-list');
    assert.equal(shared.status, 200);
    assert.equal((await asList('DELETE', `List/${TEST_LIST_ID}`)).status, 403);
    assert.ok(!list.forwarded().some((line) => line.startsWith('DELETE')));
  });

  test('patient,list: both must grant, and what one hides stays hidden', async () => {
    const both = await startCheckerStack('patient,list');
    try {
      const claims = { patient_list: 'other-list', patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' };
      assert.equal((await both.call(claims, 'GET', `Patient/${PATIENT_AUTHORIZED}`)).status, 403);
      const joined = await both.call(
        { patient_list: TEST_LIST_ID, patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' },
        'GET',
        `Observation?performer=${PATIENT_AUTHORIZED}&_include=Observation:subject`,
      );
      assert.equal(joined.status, 200);
      assert.doesNotMatch(joined.text, /"family":"Other"/);
    } finally {
      await both.close();
    }
  });

  test('answers never carry another patient', async () => {
    for (const [name, call] of both) {
      const everything = await call('GET', `Patient/${PATIENT_AUTHORIZED}/$everything`);
      assert.equal(everything.status, 200, name);
      assert.doesNotMatch(everything.text.replace(/obs-other"/g, ''), /"family":"Other"/, name);
      const hidden = await call('GET', 'Observation/obs-other-only');
      assert.equal(hidden.status, 404, name);
      assert.doesNotMatch(hidden.text, OTHER_DATA, name);
    }
  });
});
