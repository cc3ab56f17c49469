/**
 * Red team of 10ae9b0 (src/access/version-guard.ts): spellings of If-Match that did not get a write
 * onto an unchecked version, kept as tests because the narrowing must stay this way.
 * - Two If-Match lines (Node joins them into one list): narrowed to the checked version.
 * - Values whose meaning differs between servers (two tags without a comma, `*` inside a list, a
 *   space after `W/`): refused 412 before anything is forwarded. @medplum/fhir-router reads the
 *   first quoted string of `W/"<checked>"W/"other"` and would accept it.
 * - Composed checkers (`ACCESS_CHECKER=patient,list`) and a Bundle entry's `ifMatch` of `*` or of a
 *   list: the entry is forwarded with the version both checkers judged, so a change made between
 *   the gateway's reads and the Bundle's arrival is refused by the server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import {
  type CheckerStack,
  jsonPatchBinary,
  PATIENT_AUTHORIZED,
  PATIENT_NON_AUTHORIZED,
  startCheckerStack,
  TEST_LIST_ID,
} from '../../checkers/checker-kit.js';
import { androidPatientWrites, rawExchange } from './kit.js';

describe("If-Match spellings on an Android user's PUT", () => {
  const w = androidPatientWrites();

  test('two If-Match lines, one naming another version, one the checked version: narrowed to it', async () => {
    const stored = await w.read();
    const checked = stored.meta!.versionId!;
    w.stack().fhir.clearRequests();
    const status = await rawExchange(
      w.stack().stack.gatewayUrl,
      w.rawPutHead(`If-Match: W/"other"\r\nIf-Match: W/"${checked}"\r\n`),
      JSON.stringify({ ...stored, birthDate: '1991-01-02' }),
    );
    assert.match(status, / 200 /);
    assert.equal(w.forwardedPuts()[0]?.headers['if-match'], `W/"${checked}"`);
  });

  const ambiguous: [string, (v: string) => string][] = [
    ['two tags without a comma', (v) => `W/"${v}"W/"other"`],
    ['`*` inside a list', (v) => `*, W/"${v}"`],
    ['a space after W/', (v) => `W/ "${v}"`],
  ];
  for (const [what, value] of ambiguous) {
    test(`${what}: 412, nothing forwarded`, async () => {
      const stored = await w.read();
      const response = await w.stack().call(w.token(), `Patient/${w.id()}`, {
        method: 'PUT',
        body: { ...stored, birthDate: '1991-03-04' },
        headers: { 'if-match': value(stored.meta!.versionId!) },
      });
      assert.equal(response.status, 412, response.text);
      assert.deepEqual(w.forwardedPuts(), []);
      assert.notEqual((await w.read()).birthDate, '1991-03-04');
    });
  }
});

describe("patient,list: a Bundle entry's ifMatch of `*` or a list is narrowed to the judged version", () => {
  let s: CheckerStack;
  const claims = { patient_id: PATIENT_AUTHORIZED, patient_list: TEST_LIST_ID, scope: 'patient/*.*' };
  const id = 'obs-auth-lab';
  before(async () => {
    s = await startCheckerStack('patient,list');
  });
  after(() => s.close());
  const read = async () => (await s.fhir.repo.readResource<Observation>('Observation', id)) as Observation;
  const restore = async () => {
    const current = await read();
    await s.fhir.repo.updateResource<Observation>({
      ...current,
      status: 'final',
      subject: { reference: `Patient/${PATIENT_AUTHORIZED}` },
    });
  };
  /** Another client gives the Observation to another patient just before the write Bundle arrives. */
  const reassignedBeforeTheBundle = () =>
    s.fhir.intercept(async (req) => {
      if (req.method === 'POST' && /^\/fhir\/?$/.test(req.path) && /"(PUT|PATCH)"/.test(req.body)) {
        const current = await read();
        await s.fhir.repo.updateResource<Observation>({
          ...current,
          subject: { reference: `Patient/${PATIENT_NON_AUTHORIZED}` },
        });
      }
      return false;
    });

  for (const type of ['batch', 'transaction'] as const) {
    for (const method of ['PUT', 'PATCH'] as const) {
      for (const ifMatch of ['*', 'W/"other", W/"<checked>"']) {
        test(`${type} ${method} entry, ifMatch ${ifMatch}: changed in between, not written`, async () => {
          await restore();
          const stored = await read();
          const checked = `W/"${stored.meta?.versionId}"`;
          const request = {
            method,
            url: `Observation/${id}`,
            ifMatch: ifMatch.replace('W/"<checked>"', checked),
          };
          const entry =
            method === 'PUT'
              ? { resource: { ...stored, status: 'amended' }, request }
              : {
                  resource: jsonPatchBinary([{ op: 'replace', path: '/status', value: 'amended' }]),
                  request,
                };
          reassignedBeforeTheBundle();
          let response: Awaited<ReturnType<CheckerStack['call']>>;
          try {
            response = await s.call(claims, 'POST', '', {
              body: { resourceType: 'Bundle', type, entry: [entry] },
            });
          } finally {
            s.fhir.intercept(undefined);
          }
          assert.ok(response.status < 500, response.text);
          const sent = JSON.parse(s.fhir.requests.filter((r) => r.method === 'POST').at(-1)!.body) as Bundle;
          assert.equal(sent.entry?.[0]?.request?.ifMatch, checked);
          const now = await read();
          assert.equal(now.subject?.reference, `Patient/${PATIENT_NON_AUTHORIZED}`);
          assert.equal(now.status, 'final', `the reassigned Observation was written (${response.status})`);
        });
      }
    }
  }
});
