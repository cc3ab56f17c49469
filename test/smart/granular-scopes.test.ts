/**
 * SMART v2 granular scopes (`patient/Observation.rs?category=…`) through the `patient` checker, over
 * real HTTP: one criterion narrows the search upstream; several are matched entry by entry and the
 * total dropped; reads and writes outside the criteria are refused; criteria the gateway cannot
 * match make the scope unusable (403 with the reason).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CheckerStack,
  category,
  entryIds,
  JSON_PATCH,
  LAB,
  observation,
  PATIENT_AUTHORIZED,
  reason,
  startCheckerStack,
  VITALS,
} from '../checkers/checker-kit.js';

const LAB_SCOPE = `patient/Observation.rs?category=${encodeURIComponent(LAB)}`;
const VITALS_SCOPE = `patient/Observation.rs?category=${encodeURIComponent(VITALS)}`;
const SEARCH = `Observation?subject=${PATIENT_AUTHORIZED}`;

describe('granular scopes', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('patient');
  });
  after(() => s.close());
  const as =
    (scope: string) => (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
      s.call({ patient_id: PATIENT_AUTHORIZED, scope }, method, path, options);

  test("one criterion narrows the search upstream (AND), the client's own params kept", async () => {
    const response = await as(LAB_SCOPE)('GET', SEARCH);
    assert.equal(response.status, 200);
    assert.deepEqual(entryIds(response.json()), ['Observation/obs-auth-lab']);
    assert.deepEqual(s.forwarded(), [
      `GET /Observation?subject=Patient/${PATIENT_AUTHORIZED}&category=${LAB}`,
    ]);
    assert.equal(response.json().total, 1, 'a narrowed search keeps its total');

    const both = await as(LAB_SCOPE)('GET', `${SEARCH}&category=vital-signs`);
    assert.deepEqual(entryIds(both.json()), []);
    assert.deepEqual(s.forwarded(), [
      `GET /Observation?subject=Patient/${PATIENT_AUTHORIZED}&category=vital-signs&category=${LAB}`,
    ]);
  });

  test('several criteria: every entry matched in the gateway, Bundle.total dropped, _summary=count refused', async () => {
    const scope = `${LAB_SCOPE} ${VITALS_SCOPE}`;
    const response = await as(scope)('GET', SEARCH);
    assert.equal(response.status, 200);
    assert.deepEqual(entryIds(response.json()).sort(), [
      'Observation/obs-auth-lab',
      'Observation/obs-auth-vital',
    ]);
    assert.equal(response.json().total, undefined);
    assert.deepEqual(s.forwarded(), [`GET /Observation?subject=Patient/${PATIENT_AUTHORIZED}`]);
    const count = await as(scope)('GET', `${SEARCH}&_summary=count`);
    assert.equal(count.status, 403);
    assert.match(reason(count), /_summary=count/);
    assert.deepEqual(s.forwarded(), []);
  });

  test('a read outside the criteria answers 404, as for a missing resource; inside, 200', async () => {
    assert.equal((await as(LAB_SCOPE)('GET', 'Observation/obs-auth-lab')).status, 200);
    const outside = await as(LAB_SCOPE)('GET', 'Observation/obs-auth-vital');
    assert.equal(outside.status, 404);
    assert.doesNotMatch(outside.text, /vital-signs/);
    assert.equal((await as(LAB_SCOPE)('GET', 'Observation/obs-auth-vital/_history')).status, 404);
  });

  test('a write outside the criteria is refused (403) before it reaches the FHIR server', async () => {
    const scope = `patient/Observation.cru?category=${encodeURIComponent(LAB)}`;
    const create = (code: string) => {
      const { id: _id, ...body } = observation('x', PATIENT_AUTHORIZED, category(code));
      return as(scope)('POST', 'Observation', { body });
    };
    assert.equal((await create('survey')).status, 403);
    assert.deepEqual(s.forwarded(), []);
    assert.equal((await create('laboratory')).status, 201);
    // The stored version is outside too: a vital-signs Observation cannot be turned into a lab one.
    const put = await as(scope)('PUT', 'Observation/obs-auth-vital', {
      body: observation('obs-auth-vital', PATIENT_AUTHORIZED, category('laboratory')),
    });
    assert.equal(put.status, 403);
    assert.ok(!s.forwarded().some((line) => line.startsWith('PUT')));
    const patch = await as(scope)('PATCH', 'Observation/obs-auth-lab', {
      body: [{ op: 'replace', path: '/category/0/coding/0/code', value: 'survey' }],
      contentType: JSON_PATCH,
    });
    assert.equal(patch.status, 403);
    assert.match(reason(patch), /patched Observation does not match/);
    assert.ok(!s.forwarded().some((line) => line.startsWith('PATCH')));
  });

  test('an unsupported criterion makes the scope unusable: 403 with the reason, nothing forwarded', async () => {
    for (const [scope, why] of [
      ['patient/Observation.rs?code:text=weight', /:text/],
      ['patient/Observation.rs?subject.name=x', /searches other resources/],
      ['patient/Observation.rs?value-quantity=5', /quantity parameter/],
      ['patient/Observation.rs?_count=5', /_count is not a search parameter/],
    ] as const) {
      const response = await as(scope)('GET', SEARCH);
      assert.equal(response.status, 403, scope);
      assert.match(reason(response), why);
      assert.match(reason(response), /cannot enforce/);
      assert.deepEqual(s.forwarded(), []);
    }
    // A usable scope next to it still grants.
    assert.equal(
      (await as(`patient/Observation.rs?code:text=weight ${LAB_SCOPE}`)('GET', SEARCH)).status,
      200,
    );
  });

  test('a conditional delete is narrowed by one criterion and refused with several', async () => {
    const one = `patient/Observation.d?category=${encodeURIComponent(LAB)}`;
    const response = await as(one)('DELETE', `Observation?subject=${PATIENT_AUTHORIZED}&_id=obs-nothing`);
    assert.ok(response.status < 300, response.text);
    assert.match(
      s.forwarded()[0]!,
      /category=http:\/\/terminology.hl7.org\/CodeSystem\/observation-category\|laboratory/,
    );
    const two = `${one} patient/Observation.d?category=${encodeURIComponent(VITALS)}`;
    assert.equal((await as(two)('DELETE', `Observation?subject=${PATIENT_AUTHORIZED}`)).status, 403);
    assert.deepEqual(s.forwarded(), []);
  });
});
