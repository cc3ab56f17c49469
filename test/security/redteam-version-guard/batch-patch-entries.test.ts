/**
 * Red team of the version guard (src/access/version-guard.ts): a batch that writes the same
 * resource twice. Each entry is judged alone on the stored version read before the Bundle is
 * forwarded, and both carry `ifMatch` naming that version. The FHIR server applies them one after
 * the other, so the second lands on the version the first wrote, which no check saw, unless the
 * server refuses the second entry's ifMatch. The local FHIR server (Medplum fhir-router) ignores
 * `ifMatch` on PATCH entries, so here the caller needs no race at all: two patches that are each
 * allowed compose into one that is refused.
 *
 * The same gap without a second entry: the scenario of test/opensrp/sync/write-after-check.test.ts
 * for a PATCH entry instead of a standalone PATCH. The gateway sets the entry's `ifMatch`; the
 * local server's own If-Match check (test/support/fhir-server/fhir-handler.ts staleIfMatch) covers
 * standalone PATCH only, so a Patient moved out of scope after the check is patched anyway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import type { RawResponse } from '../../support/http.js';
import {
  type CheckerStack,
  JSON_PATCH,
  jsonPatchBinary,
  PATIENT_AUTHORIZED,
  PATIENT_NON_AUTHORIZED,
  startCheckerStack,
} from '../../checkers/checker-kit.js';
import { type SyncStack, startSyncStack } from '../../opensrp/sync/sync-stack.js';
import { PERSONAS, TAG_SYSTEMS } from '../../support/opensrp-dataset.js';

function patchBatch(url: string, patches: readonly unknown[][]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'batch',
    entry: patches.map((ops) => ({
      resource: jsonPatchBinary(ops) as unknown as Bundle,
      request: { method: 'PATCH', url },
    })),
  };
}

describe('OpenSRP: batch PATCH entries land on versions no check saw', () => {
  let s: SyncStack;
  let token: string;
  let ids: string[];
  const elsewhere = { system: TAG_SYSTEMS.location, code: `${PERSONAS.other.facility}-v1` };
  before(async () => {
    s = await startSyncStack();
    token = await s.token({ strategy: 'Location' });
    ids = s.dataset.patientsIn(s.dataset.subtreeOf(PERSONAS.worker.facility));
  });
  after(() => s.close());
  const read = async (id: string) => (await s.fhir.repo.readResource<Patient>('Patient', id)) as Patient;
  const locationTags = (p: Patient) => (p.meta?.tag ?? []).filter((t) => t.system === TAG_SYSTEMS.location);

  test('batch [remove the last tag, remove the first tag] of one Patient leaves no tag of the assignment', async () => {
    const id = ids[0]!;
    // A second tag of the worker's own tree, added by an ordinary (allowed) patch.
    const added = await s.call(token, `Patient/${id}`, {
      method: 'PATCH',
      body: [
        {
          op: 'add',
          path: '/meta/tag/-',
          value: { system: TAG_SYSTEMS.location, code: PERSONAS.worker.facility },
        },
      ],
      headers: { 'content-type': JSON_PATCH },
    });
    assert.equal(added.status, 200, added.text);
    const stored = await read(id);
    const tags = stored.meta?.tag ?? [];
    assert.equal(locationTags(stored).length, 2);
    assert.equal(tags[0]?.system, TAG_SYSTEMS.location);
    assert.equal(tags.at(-1)?.system, TAG_SYSTEMS.location);

    // Alone, either patch keeps one location tag of the tree; one after the other they keep none.
    const response = await s.call(token, '', {
      method: 'POST',
      body: patchBatch(`Patient/${id}`, [
        [{ op: 'remove', path: `/meta/tag/${tags.length - 1}` }],
        [{ op: 'remove', path: '/meta/tag/0' }],
      ]),
    });
    assert.ok(response.status < 500, response.text);
    const now = await read(id);
    assert.ok(
      locationTags(now).length > 0,
      `Patient/${id} was left without a tag of the user's assignment (${response.status}): ${JSON.stringify(now.meta?.tag)}`,
    );
  });

  test('the Patient moved out of scope after the check is not patched', async () => {
    const stored = await read(ids[1]!);
    // Another client moves the Patient to another area just before the write Bundle arrives (the
    // gateway's own stored-version read is a batch of GETs, which passes).
    s.fhir.intercept(async (req) => {
      if (req.method === 'POST' && req.body.includes('"PATCH"')) {
        const current = await read(ids[1]!);
        await s.fhir.repo.updateResource<Patient>({
          ...current,
          meta: { ...current.meta, tag: [elsewhere] },
        });
      }
      return false;
    });
    let response: RawResponse;
    try {
      const batch: Bundle = {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          {
            resource: jsonPatchBinary([
              { op: 'replace', path: '/gender', value: 'other' },
            ]) as unknown as Patient,
            request: { method: 'PATCH', url: `Patient/${ids[1]}` },
          },
        ],
      };
      response = await s.call(token, '', { method: 'POST', body: batch });
    } finally {
      s.fhir.intercept(undefined);
    }
    assert.ok(response.status < 500, response.text);
    const sent = JSON.parse(
      s
        .received()
        .filter((r) => r.method === 'POST')
        .at(-1)!.body,
    ) as Bundle;
    assert.equal(
      sent.entry?.[0]?.request?.ifMatch,
      `W/"${stored.meta?.versionId}"`,
      'the gateway set ifMatch',
    );
    const now = await read(ids[1]!);
    assert.deepEqual(now.meta?.tag, [elsewhere]);
    assert.equal(
      now.gender,
      stored.gender,
      `the moved Patient was patched anyway: ${response.text.slice(0, 400)}`,
    );
  });
});

describe('patient checker: two PATCH entries of one Observation, each in the compartment alone, give it to another patient', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('patient');
  });
  after(() => s.close());

  test('batch [subject → other + performer → me, performer → a Practitioner] moves it out of the compartment', async () => {
    const id = 'obs-auth-vital';
    const response = await s.call({ patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' }, 'POST', '', {
      body: patchBatch(`Observation/${id}`, [
        [
          { op: 'replace', path: '/subject/reference', value: `Patient/${PATIENT_NON_AUTHORIZED}` },
          { op: 'add', path: '/performer', value: [{ reference: `Patient/${PATIENT_AUTHORIZED}` }] },
        ],
        [{ op: 'add', path: '/performer', value: [{ reference: 'Practitioner/prac-1' }] }],
      ]),
    });
    assert.ok(response.status < 500, response.text);
    const now = (await s.fhir.repo.readResource<Observation>('Observation', id)) as Observation;
    const references = [now.subject?.reference, ...(now.performer ?? []).map((p) => p.reference)];
    assert.ok(
      references.includes(`Patient/${PATIENT_AUTHORIZED}`),
      `Observation/${id} left the caller's compartment (${response.status}): ${JSON.stringify(references)}`,
    );
  });
});
