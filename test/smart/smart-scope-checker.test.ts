/**
 * upstream's SmartScopeCheckerTest, scenario by scenario, as requests through the `patient` checker
 * (real HTTP), plus the scope grammar: v1 and v2 letters, `user/` and `system/` contexts, and
 * malformed scopes (ignored and logged, never a 500).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/server/logger.js';
import { parseScopes } from '../../src/smart/scopes.js';
import {
  type CheckerStack,
  observation,
  PATIENT_AUTHORIZED,
  reason,
  startCheckerStack,
} from '../checkers/checker-kit.js';

describe('SmartScopeCheckerTest', () => {
  let s: CheckerStack;
  const lines: string[] = [];
  before(async () => {
    s = await startCheckerStack('patient', {
      logger: createLogger('warn', { write: (line: string) => void lines.push(line) }),
    });
  });
  after(() => s.close());
  const as = (scope: string) => (method: string, path: string, body?: unknown) =>
    s.call({ patient_id: PATIENT_AUTHORIZED, scope }, method, path, body === undefined ? {} : { body });
  const newObservation = () => {
    const { id: _id, ...body } = observation('x', PATIENT_AUTHORIZED);
    return body;
  };

  test('hasPermissionCreateObservationPatientPrincipal: patient/Observation.write grants create', async () => {
    const call = as('user/Encounter.read patient/Observation.read patient/Observation.write');
    assert.equal((await call('POST', 'Observation', newObservation())).status, 201);
  });

  test('hasPermissionCreateObservationPatientPrincipalNoValidScope: user/Observation.create is malformed, patient/Observation.read grants no create', async () => {
    const response = await as('user/Observation.create patient/Observation.read')(
      'POST',
      'Observation',
      newObservation(),
    );
    assert.equal(response.status, 403);
    assert.match(reason(response), /grant no create \(c\) of Observation/);
    assert.deepEqual(s.forwarded(), []);
  });

  test('hasPermissionReadObservationPatientPrincipalAllResources: user/*.read grants reads within the patient (upstream ignored user/ scopes)', async () => {
    const call = as('user/*.read patient/Observation.write');
    assert.equal((await call('GET', 'Observation/obs-auth-lab')).status, 200);
    assert.equal(
      (await call('GET', 'Observation/obs-other-only')).status,
      404,
      "still the patient's compartment only",
    );
  });

  test('hasPermissionDeleteObservationPatientPrincipalAllResources: patient/Observation.write grants delete', async () => {
    const response = await as('patient/*.read patient/Observation.write')(
      'DELETE',
      'Observation/obs-auth-qty-2',
    );
    assert.ok(response.status < 300, `${response.status} ${response.text}`);
  });

  test('hasPermissionCreateObservationV2Scopes: patient/*.rs patient/Observation.u grant no create', async () => {
    const response = await as('patient/*.rs patient/Observation.u')('POST', 'Observation', newObservation());
    assert.equal(response.status, 403);
  });

  test('hasPermissionDeleteObservationV2Scopes: user/*.rs user/Observation.cr grant no delete', async () => {
    const response = await as('user/*.rs user/Observation.cr')('DELETE', 'Observation/obs-auth-lab');
    assert.equal(response.status, 403);
    assert.deepEqual(s.forwarded(), []);
  });

  test('v2 c alone creates, s alone searches but does not read by id, r alone reads but does not search', async () => {
    assert.equal((await as('patient/Observation.c')('POST', 'Observation', newObservation())).status, 201);
    assert.equal(
      (await as('patient/Observation.s')('GET', `Observation?subject=${PATIENT_AUTHORIZED}`)).status,
      200,
    );
    assert.equal((await as('patient/Observation.s')('GET', 'Observation/obs-auth-lab')).status, 403);
    assert.equal((await as('patient/Observation.r')('GET', 'Observation/obs-auth-lab')).status, 200);
    assert.equal(
      (await as('patient/Observation.r')('GET', `Observation?subject=${PATIENT_AUTHORIZED}`)).status,
      403,
    );
  });

  test('system/ scopes grant within the patient too', async () => {
    assert.equal((await as('system/Observation.rs')('GET', 'Observation/obs-auth-lab')).status, 200);
    assert.equal((await as('system/Observation.rs')('GET', 'Observation/obs-other-only')).status, 404);
  });

  test('a search answer holds only the types the scopes grant: included Patients need a Patient scope', async () => {
    const path = `Observation?subject=${PATIENT_AUTHORIZED}&_include=Observation:subject`;
    const without = await as('patient/Observation.rs')('GET', path);
    assert.equal(without.status, 200);
    assert.doesNotMatch(without.text, /"resourceType":"Patient"/);
    const withPatient = await as('patient/Observation.rs patient/Patient.r')('GET', path);
    assert.match(withPatient.text, /"resourceType":"Patient"/);
  });

  test('malformed scopes are ignored and logged once, never a 500; the valid ones still grant', async () => {
    const scope =
      'openid launch/patient patient/Observation.rc patient/Foo.read patient/Observation.read?x=1 patient/Observation.rs';
    const response = await as(scope)('GET', 'Observation/obs-auth-lab');
    assert.equal(response.status, 200);
    assert.equal((await as(scope)('GET', 'Observation/obs-auth-lab')).status, 200);
    const warnings = lines.filter(
      (line) => line.includes('Ignored SMART scopes') && line.includes('patient/Foo.read'),
    );
    assert.equal(warnings.length, 1);
    for (const bad of ['patient/Observation.rc', 'patient/Foo.read', 'patient/Observation.read?x=1']) {
      assert.ok(warnings[0]!.includes(bad), bad);
    }
    assert.ok(!warnings[0]!.includes('openid'));
  });

  test('no scope claim at all: every request is refused with 403', async () => {
    const response = await s.call({ patient_id: PATIENT_AUTHORIZED }, 'GET', `Patient/${PATIENT_AUTHORIZED}`);
    assert.equal(response.status, 403);
  });
});

describe('scope grammar', () => {
  test('v1 read/write/* and v2 letters in cruds order; anything else is malformed', () => {
    const { scopes, malformed } = parseScopes(
      'patient/Observation.read user/*.write system/Patient.* patient/Encounter.cruds patient/Encounter.sd patient/Encounter.dc patient/Encounter. patient/*.rs?category=a|b',
    );
    const letters = scopes.map((scope) => `${scope.context}/${scope.type}:${[...scope.letters].join('')}`);
    assert.deepEqual(letters, [
      'patient/Observation:rs',
      'user/*:cud',
      'system/Patient:cruds',
      'patient/Encounter:cruds',
      'patient/*:rs',
    ]);
    assert.deepEqual(malformed, ['patient/Encounter.sd', 'patient/Encounter.dc', 'patient/Encounter.']);
    assert.deepEqual(scopes[4]!.criteria, [{ name: 'category', value: 'a|b' }]);
  });

  test('criteria are decoded once; bad encoding makes the scope malformed', () => {
    const { scopes, malformed } = parseScopes([
      'patient/Observation.rs?code=http%3A%2F%2Floinc.org%7C1234-5',
      'patient/Observation.rs?code=%ZZ',
    ]);
    assert.deepEqual(scopes[0]!.criteria, [{ name: 'code', value: 'http://loinc.org|1234-5' }]);
    assert.deepEqual(malformed, ['patient/Observation.rs?code=%ZZ']);
  });

  test('claims that are neither a string nor an array grant nothing', () => {
    assert.deepEqual(parseScopes(42).scopes, []);
    assert.deepEqual(parseScopes({ scope: 'patient/*.*' }).scopes, []);
    assert.deepEqual(parseScopes([7, 'patient/Patient.r']).scopes.length, 1);
  });
});
