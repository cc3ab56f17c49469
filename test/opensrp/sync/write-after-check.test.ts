/**
 * A write judged on the stored version is forwarded only onto that version (src/access/version-guard.ts):
 * another client that moves the resource out of the Android user's scope between the gateway's read
 * and its write makes the write fail (412), instead of landing on a version nobody checked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { jsonPatchBinary } from '../../checkers/checker-kit.js';
import { PERSONAS, TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import { diagnostics, type SyncStack, startSyncStack } from './sync-stack.js';

describe('writes are forwarded only onto the version they were judged on', () => {
  let s: SyncStack;
  let token: string;
  let inside: string[];
  const elsewhere = { system: TAG_SYSTEMS.location, code: `${PERSONAS.other.facility}-v1` };
  before(async () => {
    s = await startSyncStack();
    token = await s.token({ strategy: 'Location' });
    inside = s.dataset.patientsIn(s.dataset.subtreeOf(PERSONAS.worker.facility));
  });
  after(() => s.close());

  const read = async (id: string) => (await s.fhir.repo.readResource<Patient>('Patient', id)) as Patient;
  const forwarded = (method: string) => s.received().filter((r) => r.method === method);

  /** Another client moves `Patient/<id>` to another area just before the gateway's `method` reaches the server. */
  function movedAwayBefore(method: string, id: string): void {
    s.fhir.intercept(async (req) => {
      if (req.method === method && req.path === `/fhir/Patient/${id}`) {
        const current = await read(id);
        await s.fhir.repo.updateResource<Patient>({
          ...current,
          meta: { ...current.meta, tag: [elsewhere] },
        });
      }
      return false;
    });
  }

  for (const method of ['PUT', 'PATCH'] as const) {
    test(`${method}: the resource moved out of scope after the check is not changed (412)`, async () => {
      const id = method === 'PUT' ? inside[0]! : inside[1]!;
      const stored = await read(id);
      movedAwayBefore(method, id);
      try {
        // The local FHIR server honours If-Match on PATCH, as HAPI does.
        const response =
          method === 'PUT'
            ? await s.call(token, `Patient/${id}`, { method, body: { ...stored, gender: 'other' } })
            : await s.call(token, `Patient/${id}`, {
                method,
                body: [{ op: 'replace', path: '/gender', value: 'other' }],
                headers: { 'content-type': 'application/json-patch+json' },
              });
        assert.equal(response.status, 412, response.text);
        assert.equal(forwarded(method)[0]?.headers['if-match'], `W/"${stored.meta?.versionId}"`);
      } finally {
        s.fhir.intercept(undefined);
      }
      const now = await read(id);
      assert.deepEqual(now.meta?.tag, [elsewhere]);
      assert.equal(now.gender, stored.gender);
    });
  }

  test('without a concurrent write, the guarded PUT goes through', async () => {
    const id = inside[2]!;
    const stored = await read(id);
    const response = await s.call(token, `Patient/${id}`, {
      method: 'PUT',
      body: { ...stored, gender: 'other' },
    });
    assert.equal(response.status, 200, response.text);
    assert.equal(forwarded('PUT')[0]?.headers['if-match'], `W/"${stored.meta?.versionId}"`);
    assert.equal((await read(id)).gender, 'other');
  });

  test("the client's If-Match is kept when it names the checked version; another version is a 412 before anything is written", async () => {
    const id = inside[3]!;
    const stored = await read(id);
    const own = `W/"${stored.meta?.versionId}"`;
    const kept = await s.call(token, `Patient/${id}`, {
      method: 'PUT',
      body: { ...stored, birthDate: '1991-02-03' },
      headers: { 'if-match': own },
    });
    assert.equal(kept.status, 200, kept.text);
    assert.equal(forwarded('PUT')[0]?.headers['if-match'], own);

    const current = await read(id);
    const stale = await s.call(token, `Patient/${id}`, {
      method: 'PUT',
      body: { ...current, birthDate: '1992-03-04' },
      headers: { 'if-match': own },
    });
    assert.equal(stale.status, 412, stale.text);
    assert.equal(
      diagnostics(stale),
      `If-Match (${own}) does not name the stored version of Patient/${id} (W/"${current.meta?.versionId}")`,
    );
    assert.deepEqual(forwarded('PUT'), []);
    assert.equal((await read(id)).birthDate, '1991-02-03');
  });

  test("a client's If-Match of `*` or a list holding the checked version is narrowed to that version", async () => {
    const id = inside[5]!;
    const stored = await read(id);
    const checked = `W/"${stored.meta?.versionId}"`;
    const any = await s.call(token, `Patient/${id}`, {
      method: 'PUT',
      body: { ...stored, birthDate: '1993-04-05' },
      headers: { 'if-match': '*' },
    });
    assert.equal(any.status, 200, any.text);
    assert.equal(forwarded('PUT')[0]?.headers['if-match'], checked);

    const current = await read(id);
    const listed = await s.call(token, `Patient/${id}`, {
      method: 'PUT',
      body: { ...current, birthDate: '1994-05-06' },
      headers: { 'if-match': `W/"not-this-one", W/"${current.meta?.versionId}"` },
    });
    assert.equal(listed.status, 200, listed.text);
    assert.equal(forwarded('PUT')[0]?.headers['if-match'], `W/"${current.meta?.versionId}"`);
    assert.equal((await read(id)).birthDate, '1994-05-06');
  });

  test('`If-Match: *` does not let a write land on a version nobody checked (412)', async () => {
    const id = inside[5]!;
    const stored = await read(id);
    movedAwayBefore('PUT', id);
    try {
      const response = await s.call(token, `Patient/${id}`, {
        method: 'PUT',
        body: { ...stored, birthDate: '1995-06-07' },
        headers: { 'if-match': '*' },
      });
      assert.equal(response.status, 412, response.text);
      assert.equal(forwarded('PUT')[0]?.headers['if-match'], `W/"${stored.meta?.versionId}"`);
    } finally {
      s.fhir.intercept(undefined);
    }
    assert.notEqual((await read(id)).birthDate, '1995-06-07');
  });

  test('a transaction entry carries the checked version as its ifMatch', async () => {
    const id = inside[4]!;
    const stored = await read(id);
    const transaction: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { ...stored, gender: 'other' },
          request: { method: 'PUT', url: `Patient/${id}` },
        },
      ],
    };
    const response = await s.call(token, '', { method: 'POST', body: transaction });
    assert.equal(response.status, 200, response.text);
    const sent = JSON.parse(forwarded('POST').at(-1)!.body) as Bundle;
    assert.equal(sent.entry?.[0]?.request?.ifMatch, `W/"${stored.meta?.versionId}"`);
  });
  test('a Bundle that writes one resource in two entries is refused before anything is read (400)', async () => {
    const id = inside[5]!;
    const patchEntry = (ops: unknown[]) => ({
      resource: jsonPatchBinary(ops),
      request: { method: 'PATCH', url: `Patient/${id}` },
    });
    for (const type of ['batch', 'transaction']) {
      const response = await s.call(token, '', {
        method: 'POST',
        body: {
          resourceType: 'Bundle',
          type,
          entry: [
            patchEntry([{ op: 'replace', path: '/gender', value: 'other' }]),
            { request: { method: 'GET', url: `Patient/${id}` } },
            patchEntry([{ op: 'remove', path: '/meta/tag/0' }]),
          ],
        },
      });
      assert.equal(response.status, 400, response.text);
      assert.match(
        diagnostics(response),
        new RegExp(`^Bundle entries 0 and 2 may both write Patient/${id}: `),
      );
      assert.deepEqual(s.received(), []);
    }
  });
});
