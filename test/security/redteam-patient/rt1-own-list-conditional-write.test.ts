/**
 * RT1 — the list checker's own access List can be rewritten by a conditional write. `listRule`
 * refuses writes that name the List by id (`PUT List/<own>`) or carry its id in the body, but a
 * conditional `PUT List?_id=<own>&subject=Patient/<member>` (body without an id), a conditional
 * PATCH or DELETE with the same search are decided as ordinary compartment writes: the search is
 * confined to a member, so it is granted, and the FHIR server's match is the access List itself
 * whenever that List has a member as its `subject` (or `source`). The user adds any patient to
 * their own List and reads them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { List, Resource } from '@medplum/fhirtypes';
import {
  type CheckerStack,
  JSON_PATCH,
  PATIENT_AUTHORIZED,
  PATIENT_NON_AUTHORIZED,
  seedData,
  startCheckerStack,
  TEST_LIST_ID,
} from '../../checkers/checker-kit.js';

const ME = `Patient/${PATIENT_AUTHORIZED}`;
const OTHER = `Patient/${PATIENT_NON_AUTHORIZED}`;

/** The access List about one of its members (a household's list, say). */
function seed(): Resource[] {
  return seedData().map((resource) =>
    resource.resourceType === 'List' && resource.id === TEST_LIST_ID
      ? { ...resource, subject: { reference: ME } }
      : resource,
  );
}

describe('RT1 the access List rewritten by a conditional write', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('list', { seed: seed() });
  });
  after(() => s.close());
  const call = (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
    s.call({ patient_list: TEST_LIST_ID }, method, path, options);
  const members = async () =>
    ((await s.fhir.repo.readResource<List>('List', TEST_LIST_ID)).entry ?? []).map((e) => e.item.reference);
  const widened = {
    resourceType: 'List',
    status: 'current',
    mode: 'working',
    subject: { reference: ME },
    entry: [{ item: { reference: ME } }, { item: { reference: OTHER } }],
  };
  const match = `List?_id=${TEST_LIST_ID}&subject=${ME}`;

  test('RT1 conditional PUT of the access List is refused, nothing written', async () => {
    const response = await call('PUT', match, { body: widened });
    assert.equal(response.status, 403, response.text);
    assert.ok(!s.forwarded().some((line) => line.startsWith('PUT')));
    assert.ok(!(await members()).includes(OTHER));
    assert.equal((await call('GET', OTHER)).status, 403);
  });

  test('RT1 variant: conditional PATCH and DELETE of the access List are refused', async () => {
    const patch = await call('PATCH', match, {
      body: [{ op: 'add', path: '/entry/-', value: { item: { reference: OTHER } } }],
      contentType: JSON_PATCH,
    });
    assert.equal(patch.status, 403, patch.text);
    const del = await call('DELETE', match);
    assert.equal(del.status, 403, del.text);
    assert.ok(!s.forwarded().some((line) => /^(PATCH|DELETE)/.test(line)));
    assert.ok(!(await members()).includes(OTHER));
  });

  test('RT1 variant: the same conditional writes as transaction entries are refused', async () => {
    const response = await call('POST', '', {
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ resource: widened, request: { method: 'PUT', url: match } }],
      },
    });
    assert.equal(response.status, 403, response.text);
    assert.ok(!s.forwarded().some((line) => line.startsWith('POST')));
    assert.ok(!(await members()).includes(OTHER));
  });
});
