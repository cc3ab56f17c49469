/**
 * Red team (divergence of the request model): a conditional write Bundle entry whose search holds a
 * raw `?` inside a value, `PUT Observation?_id=<another patient's>?&subject=Patient/<mine>`.
 *
 * The gateway reads the query as a form string: `_id` = `<id>?` and `subject` = the caller's
 * patient, so the condition is confined to the caller's compartment and the entry is granted. The
 * patient-centred checkers forward a granted entry's `request.url` as written. Medplum's batch
 * processor resolves a conditional entry with `parseSearchRequest(url)`, which splits the URL at
 * every `?` and keeps only the piece after the first one: it searches `Observation?_id=<id>`, without
 * the `subject` the checker judged, then rewrites the entry to `Observation/<id>` and writes it.
 * A write (and a delete) lands on another patient's resource. A `?` in a value needs no encoding in
 * a query (RFC 3986 §3.4), so the gateway accepts it.
 *
 * Safe answer: nothing is written outside the compartment (the entry refused with 400, or forwarded
 * with its query rebuilt so the `?` is percent-encoded, as the OpenSRP checker's narrowed entries are).
 *
 * Closed: an entry URL with a second "?" is refused (400; src/fhir/bundle-entry.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import {
  type CheckerStack,
  jsonPatchBinary,
  observation,
  PATIENT_AUTHORIZED,
  PATIENT_IN_BUNDLE_2,
  startCheckerStack,
  TEST_LIST_ID,
} from '../../checkers/checker-kit.js';

const settings = [
  { checker: 'patient', claims: { patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' } },
  { checker: 'list', claims: { patient_list: TEST_LIST_ID, scope: 'user/*.*' } },
] as const;

const VICTIMS = ['victim-put', 'victim-patch', 'victim-delete'];

for (const { checker, claims } of settings) {
  describe(`${checker} checker: a conditional write entry with a "?" inside a search value`, () => {
    let s: CheckerStack;
    before(async () => {
      s = await startCheckerStack(checker);
      // Another patient's, outside both the patient_id and the access List of the callers.
      for (const id of VICTIMS) await s.fhir.create(observation(id, PATIENT_IN_BUNDLE_2));
    });
    after(() => s.close());
    const stored = async (id: string) =>
      (await s.fhir.repo.readResource<Observation>('Observation', id)) as Observation;
    const bundle = (type: 'batch' | 'transaction', entry: Record<string, unknown>) =>
      s.call(claims, 'POST', '', { body: { resourceType: 'Bundle', type, entry: [entry] } });
    /** Confined to the caller's patient for the gateway; `Observation?_id=<id>` for Medplum. */
    const condition = (id: string) => `Observation?_id=${id}?&subject=Patient/${PATIENT_AUTHORIZED}`;

    test("PUT (batch) does not overwrite another patient's Observation", async () => {
      const before = await stored('victim-put');
      const response = await bundle('batch', {
        request: { method: 'PUT', url: condition('victim-put') },
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'overwritten' },
          subject: { reference: `Patient/${PATIENT_AUTHORIZED}` },
        },
      });
      assert.deepEqual(
        await stored('victim-put'),
        before,
        `victim-put was overwritten (${response.status}): ${response.text.slice(0, 300)}`,
      );
    });

    test("PATCH (transaction) does not change another patient's Observation", async () => {
      const before = await stored('victim-patch');
      const response = await bundle('transaction', {
        request: { method: 'PATCH', url: condition('victim-patch') },
        resource: jsonPatchBinary([{ op: 'replace', path: '/status', value: 'entered-in-error' }]),
      });
      assert.deepEqual(
        await stored('victim-patch'),
        before,
        `victim-patch was patched (${response.status}): ${response.text.slice(0, 300)}`,
      );
    });

    test("DELETE (batch) does not delete another patient's Observation", async () => {
      const response = await bundle('batch', {
        request: { method: 'DELETE', url: condition('victim-delete') },
      });
      await assert.doesNotReject(stored('victim-delete'), `victim-delete was deleted (${response.status})`);
    });
  });
}
