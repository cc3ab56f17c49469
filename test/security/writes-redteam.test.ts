/**
 * Variants of the red team's write findings (../../notes of the red team: RT1, RT2, RT3, RT7; the
 * findings themselves are test/security/redteam/rt1-, rt2-, rt3-, rt7-*.test.ts):
 * - RT1: an Android user's conditional create (Bundle entry `ifNoneExist`) is narrowed to the
 *   scope, so an out-of-scope resource is no match and the create goes ahead;
 * - RT2: applying a JSON Patch (or `$meta-add`) is bounded by BODY_LIMIT_BYTES, nesting depth and
 *   the number of operations;
 * - RT3: lineage codes of a written resource lie in the writer's tree or above its roots;
 * - RT7: references that are searches are refused for Android users and need the read role of the
 *   searched type for WEB users.
 * Each asserts the answer and what reached the backend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Observation, Parameters, Patient } from '@medplum/fhirtypes';
import type { RawResponse } from '../support/http.js';
import { PERSONAS, TAG_SYSTEMS } from '../support/opensrp-dataset.js';
import { android, L9, type SecurityStack, startSecurityStack, web } from './security-stack.js';
import { backendWrites, bundle, isReadBatch, JSON_PATCH, tag } from './writes-support.js';

const L1 = PERSONAS.worker.facility;
const VILLAGE = `${L1}-v1`;
const OWN = tag('location', VILLAGE);

const diagnostics = (response: RawResponse) =>
  ((response.json() as { issue?: { diagnostics?: string }[] }).issue ?? [])
    .map((i) => i.diagnostics)
    .join(' ');

/** The batch or transaction the gateway forwarded for the client (not its own read batches). */
function forwardedBundle(s: SecurityStack): Bundle | undefined {
  const sent = s.fhir.requests.filter((r) => r.method === 'POST' && r.path === '/fhir/' && !isReadBatch(r));
  return sent.length === 0 ? undefined : (JSON.parse(sent.at(-1)!.body) as Bundle);
}

const metaParameters = (...tags: ReturnType<typeof tag>[]): Parameters => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'meta', valueMeta: { tag: tags } }],
});

describe('RT1, RT3, RT7 variants (Android and WEB writers)', () => {
  let s: SecurityStack;
  let ownObservation: string;
  const writer = android(
    'GET_PATIENT',
    'POST_PATIENT',
    'PUT_PATIENT',
    'PATCH_PATIENT',
    'GET_OBSERVATION',
    'POST_OBSERVATION',
    'PATCH_OBSERVATION',
    'GET_COMPOSITION',
  );
  before(async () => {
    s = await startSecurityStack();
    const created = await s.fhir.repo.createResource<Observation>({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'own' },
      subject: { reference: `Patient/${s.p1}` },
      meta: { tag: [OWN] },
    });
    ownObservation = created.id!;
  });
  after(() => s.close());

  const patients = async (family: string) =>
    ((await s.fhir.repo.searchResources({ resourceType: 'Patient', count: 10_000 })) as Patient[]).filter(
      (p) => p.name?.some((n) => n.family === family),
    );

  describe('RT1 — conditional creates are narrowed to the scope', () => {
    test('RT1 variant: a transaction entry whose If-None-Exist matches only out of scope creates a new resource; the sibling references it', async () => {
      const urn = 'urn:uuid:21111111-1111-4111-8111-111111111111';
      const response = await s.call(writer, 'POST', '', {
        body: bundle('transaction', [
          {
            fullUrl: urn,
            request: { method: 'POST', url: 'Patient', ifNoneExist: 'family=Outsider' },
            resource: { resourceType: 'Patient', meta: { tag: [OWN] }, name: [{ family: 'Outsider' }] },
          },
          {
            request: { method: 'POST', url: 'Observation' },
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'rt1-variant' },
              meta: { tag: [OWN] },
              subject: { reference: urn },
            },
          },
        ]),
      });
      assert.equal(response.status, 200, response.text);
      const condition = forwardedBundle(s)?.entry?.[0]?.request?.ifNoneExist ?? '';
      assert.match(condition, /^family=Outsider&_tag=/);
      assert.ok(condition.includes(`${TAG_SYSTEMS.location}|${L1}`), condition);
      const answer = response.json() as unknown as Bundle;
      assert.match(answer.entry?.[0]?.response?.status ?? '', /^201/);
      const created = answer.entry?.[0]?.resource?.id;
      assert.ok(created && created !== 'p9');
      assert.equal(
        (answer.entry?.[1]?.resource as Observation | undefined)?.subject?.reference,
        `Patient/${created}`,
      );
      assert.ok(!response.text.includes('p9'), response.text);
      const outsiders = await patients('Outsider');
      assert.deepEqual(outsiders.map((p) => p.id).sort(), [created, 'p9'].sort());
    });

    test('RT1 control: an in-scope match is still found (200, the existing resource, nothing created)', async () => {
      const response = await s.call(writer, 'POST', '', {
        body: bundle('batch', [
          {
            request: { method: 'POST', url: 'Patient', ifNoneExist: `_id=${s.p1}` },
            resource: { resourceType: 'Patient', meta: { tag: [OWN] } },
          },
        ]),
      });
      assert.equal(response.status, 200, response.text);
      const entry = (response.json() as unknown as Bundle).entry?.[0];
      assert.match(entry?.response?.status ?? '', /^200/);
      assert.equal(entry?.resource?.id, s.p1);
    });

    test("RT1 variant: the client's own _tag in If-None-Exist is kept and ANDed with the scope", async () => {
      const l9 = `${TAG_SYSTEMS.location}|${L9}`;
      const response = await s.call(writer, 'POST', '', {
        body: bundle('batch', [
          {
            request: { method: 'POST', url: 'Patient', ifNoneExist: `_tag=${l9}&family=Outsider` },
            resource: { resourceType: 'Patient', meta: { tag: [OWN] }, name: [{ family: 'Anded' }] },
          },
        ]),
      });
      assert.equal(response.status, 200, response.text);
      const condition = forwardedBundle(s)?.entry?.[0]?.request?.ifNoneExist ?? '';
      assert.ok(condition.startsWith(`family=Outsider&_tag=${l9}&_tag=`), condition);
      assert.match((response.json() as unknown as Bundle).entry?.[0]?.response?.status ?? '', /^201/);
      assert.ok(!response.text.includes('p9'));
    });

    test('RT1 variant: an If-None-Exist that names no parameter → 400, nothing forwarded', async () => {
      for (const ifNoneExist of ['', '&', 'Patient?']) {
        const response = await s.call(writer, 'POST', '', {
          body: bundle('transaction', [
            {
              request: { method: 'POST', url: 'Patient', ifNoneExist },
              resource: { resourceType: 'Patient', meta: { tag: [OWN] } },
            },
          ]),
        });
        assert.equal(response.status, 400, `${JSON.stringify(ifNoneExist)}: ${response.text}`);
        assert.equal(forwardedBundle(s), undefined);
      }
    });

    test('RT1 control: a condition the skip-list exempts as a search (List, shipped file) is forwarded as is, as that search is', async () => {
      const lister = android('GET_LIST', 'POST_LIST');
      const list = { resourceType: 'List', status: 'current', mode: 'working', meta: { tag: [OWN] } };
      await s.call(lister, 'POST', '', {
        body: bundle('batch', [
          { request: { method: 'POST', url: 'List', ifNoneExist: '_id=list-own' }, resource: list as never },
          { request: { method: 'POST', url: 'List', ifNoneExist: 'title=x' }, resource: list as never },
        ]),
      });
      const entries = forwardedBundle(s)?.entry ?? [];
      assert.deepEqual(
        entries.map((e) => e.request?.ifNoneExist),
        ['_id=list-own', 'title=x'],
      );
      // The same searches, sent as searches, are not narrowed either.
      await s.call(lister, 'GET', 'List?title=x');
      assert.deepEqual(s.forwarded(), ['GET /List?title=x']);
    });

    test('RT1 control: a WEB user’s conditional create is not narrowed (WEB users are checked on roles)', async () => {
      await s.call(web('GET_PATIENT', 'POST_PATIENT'), 'POST', '', {
        body: bundle('batch', [
          {
            request: { method: 'POST', url: 'Patient', ifNoneExist: 'family=Outsider' },
            resource: { resourceType: 'Patient', name: [{ family: 'Outsider' }] },
          },
        ]),
      });
      assert.equal(forwardedBundle(s)?.entry?.[0]?.request?.ifNoneExist, 'family=Outsider');
    });
  });

  describe('RT3 — lineage codes lie in the writer’s tree or above it', () => {
    const lineage = (code: string) => ({ system: TAG_SYSTEMS.lineage, code });

    test('RT3 control: the ancestors of the facility (district, country), the facility and its villages → 201', async () => {
      const response = await s.call(writer, 'POST', 'Patient', {
        body: {
          resourceType: 'Patient',
          meta: {
            tag: [OWN, lineage('loc-country'), lineage('loc-d1'), lineage(L1), lineage(VILLAGE)],
          },
        },
      });
      assert.equal(response.status, 201, response.text);
    });

    test('RT3 variant: a sibling facility of the same district (not an ancestor) → 403, nothing forwarded', async () => {
      const response = await s.call(writer, 'POST', 'Patient', {
        body: { resourceType: 'Patient', meta: { tag: [OWN, lineage('loc-d1-f2')] } },
      });
      assert.equal(response.status, 403, response.text);
      assert.match(diagnostics(response), /location-lineage\|loc-d1-f2/);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('RT3 variant: $meta-add of lineage|L9 → 403, nothing forwarded', async () => {
      const response = await s.call(writer, 'POST', `Patient/${s.p1}/$meta-add`, {
        body: metaParameters(tag('lineage', L9)),
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('RT3 variant: a transaction entry tagged lineage|L9 → 403 for the Bundle, nothing forwarded', async () => {
      const response = await s.call(writer, 'POST', '', {
        body: bundle('transaction', [
          {
            request: { method: 'PUT', url: `Patient/${s.p2}` },
            resource: { resourceType: 'Patient', id: s.p2, meta: { tag: [OWN, tag('lineage', L9)] } },
          },
        ]),
      });
      assert.equal(response.status, 403, response.text);
      assert.match(diagnostics(response), /^Bundle entry 0: /);
      assert.equal(forwardedBundle(s), undefined);
    });
  });

  describe('RT7 — references that are searches', () => {
    const observation = (reference: string, extra: Partial<Observation> = {}): Observation => ({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'rt7-variant' },
      meta: { tag: [OWN] },
      subject: { reference },
      ...extra,
    });

    test('RT7 variants (Android): an update, an absolute match URL, a contained resource, an exempt type → 403, nothing written', async () => {
      const bodies: [string, string, unknown][] = [
        [
          'PUT',
          `Patient/${s.p1}`,
          {
            resourceType: 'Patient',
            id: s.p1,
            meta: { tag: [OWN] },
            link: [{ type: 'seealso', other: { reference: 'Patient?family=Outsider' } }],
          },
        ],
        ['POST', 'Observation', observation('http://fhir.example.org/fhir/Patient?family=Outsider')],
        [
          'POST',
          'Observation',
          observation(`Patient/${s.p1}`, {
            contained: [
              {
                resourceType: 'Patient',
                id: 'c',
                link: [{ type: 'refer', other: { reference: 'Patient?_id=p9' } }],
              },
            ],
          }),
        ],
        // Composition is exempt from narrowing, so only the write rule stops this one.
        [
          'POST',
          'Observation',
          observation(`Patient/${s.p1}`, { focus: [{ reference: 'Composition?title=x' }] }),
        ],
      ];
      for (const [method, path, body] of bodies) {
        const response = await s.call(writer, method, path, { body });
        assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
        assert.deepEqual(backendWrites(s.fhir), [], `${method} ${path}`);
      }
    });

    test('RT7 variant (Android): the refusal names the search reference', async () => {
      const response = await s.call(writer, 'POST', 'Observation', {
        body: observation(`Patient/${s.p1}`, { focus: [{ reference: 'Composition?title=x' }] }),
      });
      assert.match(diagnostics(response), /references a resource by a search \(Composition\?title=x\)/);
    });

    test('RT7 variants (Android): a JSON Patch setting a search reference, whole or by its pointer → 403, not written', async () => {
      for (const operation of [
        { op: 'replace', path: '/subject', value: { reference: 'Patient?family=Outsider' } },
        { op: 'replace', path: '/subject/reference', value: 'Patient?family=Outsider' },
        { op: 'add', path: '/focus', value: [{ reference: 'Composition?title=x' }] },
      ]) {
        const response = await s.call(writer, 'PATCH', `Observation/${ownObservation}`, {
          body: JSON.stringify([operation]),
          headers: JSON_PATCH,
        });
        assert.equal(response.status, 403, `${JSON.stringify(operation)}: ${response.text}`);
        assert.deepEqual(backendWrites(s.fhir), []);
      }
      const stored = await s.fhir.repo.readResource<Observation>('Observation', ownObservation);
      assert.equal(stored.subject?.reference, `Patient/${s.p1}`);
    });

    test('RT7 variant (Android): a batch entry → 403 for the Bundle, nothing forwarded', async () => {
      const response = await s.call(writer, 'POST', '', {
        body: bundle('batch', [
          { request: { method: 'POST', url: 'Observation' }, resource: observation(`Patient/${s.p1}`) },
          {
            request: { method: 'POST', url: 'Observation' },
            resource: observation('Patient?family=Outsider'),
          },
        ]),
      });
      assert.equal(response.status, 403, response.text);
      assert.match(diagnostics(response), /^Bundle entry 1: /);
      assert.equal(forwardedBundle(s), undefined);
    });

    test('RT7 controls (Android): literal and urn:uuid references are written', async () => {
      const literal = await s.call(writer, 'POST', 'Observation', { body: observation(`Patient/${s.p1}`) });
      assert.equal(literal.status, 201, literal.text);
      const urn = 'urn:uuid:31111111-1111-4111-8111-111111111111';
      const transaction = await s.call(writer, 'POST', '', {
        body: bundle('transaction', [
          {
            fullUrl: urn,
            request: { method: 'POST', url: 'Patient' },
            resource: { resourceType: 'Patient', meta: { tag: [OWN] } },
          },
          { request: { method: 'POST', url: 'Observation' }, resource: observation(urn) },
        ]),
      });
      assert.equal(transaction.status, 200, transaction.text);
    });

    test('RT7 WEB: a search reference probes its type — POST_OBSERVATION alone → 403 naming GET_PATIENT, nothing forwarded', async () => {
      const response = await s.call(web('POST_OBSERVATION'), 'POST', 'Observation', {
        body: observation('Patient?family=Outsider'),
      });
      assert.equal(response.status, 403, response.text);
      assert.match(
        diagnostics(response),
        /GET_PATIENT or MANAGE_PATIENT \(Patient is searched by the conditional reference Patient\?family=Outsider\)/,
      );
      assert.deepEqual(backendWrites(s.fhir), []);
      const withRead = await s.call(web('POST_OBSERVATION', 'GET_PATIENT'), 'POST', 'Observation', {
        body: observation('Patient?family=Outsider'),
      });
      assert.notEqual(withRead.status, 403, withRead.text);
      assert.deepEqual(backendWrites(s.fhir), ['POST /fhir/Observation']);
    });

    test('RT7 WEB variants: a batch entry, an XML body, a JSON Patch pointer, a chain inside the reference → 403', async () => {
      const observationXml =
        '<Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="x"/></code>' +
        '<subject><reference value="Patient?family=Outsider&amp;birthdate=2000"/></subject></Observation>';
      const cases: [string[], string, string, { body: unknown; headers?: Record<string, string> }, RegExp][] =
        [
          [
            ['POST_OBSERVATION'],
            'POST',
            '',
            {
              body: bundle('transaction', [
                {
                  request: { method: 'POST', url: 'Observation' },
                  resource: observation('Patient?family=Outsider'),
                },
              ]),
            },
            /GET_PATIENT/,
          ],
          [
            ['POST_OBSERVATION'],
            'POST',
            'Observation',
            { body: observationXml, headers: { 'content-type': 'application/fhir+xml' } },
            /GET_PATIENT/,
          ],
          [
            ['PATCH_OBSERVATION'],
            'PATCH',
            `Observation/${ownObservation}`,
            {
              body: JSON.stringify([
                { op: 'replace', path: '/subject/reference', value: 'Patient?family=Outsider' },
              ]),
              headers: JSON_PATCH,
            },
            /GET_PATIENT/,
          ],
          [
            ['POST_OBSERVATION', 'GET_PATIENT'],
            'POST',
            'Observation',
            { body: observation('Patient?general-practitioner:Practitioner.name=x') },
            /GET_PRACTITIONER/,
          ],
          [
            ['POST_OBSERVATION', 'GET_PATIENT'],
            'POST',
            'Observation',
            { body: observation('NotAType?x=1') },
            /cannot be bounded/,
          ],
        ];
      for (const [roles, method, path, options, reason] of cases) {
        const response = await s.call(web(...roles), method, path, options);
        assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
        assert.match(diagnostics(response), reason);
        assert.deepEqual(backendWrites(s.fhir), [], `${method} ${path}`);
      }
    });
  });
});

describe('RT2 variants — applying a patch is bounded (BODY_LIMIT_BYTES=65536)', () => {
  let s: SecurityStack;
  const patcher = android('GET_PATIENT', 'PATCH_PATIENT', 'POST_PATIENT');
  const LIMIT = 65536;
  before(async () => {
    s = await startSecurityStack({ BODY_LIMIT_BYTES: String(LIMIT) });
    // p2 stored at about 40 KB: a patch may keep it, but not grow it past the limit.
    const p2 = await s.fhir.repo.readResource<Patient>('Patient', s.p2);
    await s.fhir.repo.updateResource<Patient>({
      ...p2,
      extension: [{ url: 'http://example.org/padding', valueString: 'x'.repeat(40_000) }],
    });
  });
  after(() => s.close());

  const patch = (id: string, operations: unknown[]) =>
    s.call(patcher, 'PATCH', `Patient/${id}`, { body: JSON.stringify(operations), headers: JSON_PATCH });
  const size = async (id: string) => JSON.stringify(await s.fhir.repo.readResource('Patient', id)).length;

  test('RT2 variant: 40 self-copies (terabytes if applied) → 400 at once, nothing forwarded; the gateway keeps serving', async () => {
    const response = await patch(
      s.p1,
      Array.from({ length: 40 }, () => ({ op: 'copy', from: '/name', path: '/name/-' })),
    );
    assert.equal(response.status, 400, response.text);
    assert.match(diagnostics(response), /larger than 65536 bytes \(BODY_LIMIT_BYTES\)/);
    assert.deepEqual(backendWrites(s.fhir), []);
    assert.equal((await s.call(patcher, 'GET', `Patient/${s.p1}`)).status, 200);
  });

  test('RT2 variant: one add whose value makes a 40 KB resource pass the limit → 400, not written', async () => {
    const before = await size(s.p2);
    const response = await patch(s.p2, [{ op: 'add', path: '/name/-', value: { text: 'y'.repeat(30_000) } }]);
    assert.equal(response.status, 400, response.text);
    assert.deepEqual(backendWrites(s.fhir), []);
    assert.equal(await size(s.p2), before);
  });

  test('RT2 control: a small patch of the same 40 KB resource → 200', async () => {
    const response = await patch(s.p2, [{ op: 'replace', path: '/gender', value: 'other' }]);
    assert.equal(response.status, 200, response.text);
  });

  test('RT2 variant: more than 1000 operations → 400, nothing forwarded', async () => {
    const operations = Array.from({ length: 1001 }, () => ({ op: 'test', path: '/id', value: s.p1 }));
    const response = await patch(s.p1, operations);
    assert.equal(response.status, 400, response.text);
    assert.match(diagnostics(response), /1001 operations; at most 1000/);
    assert.deepEqual(backendWrites(s.fhir), []);
  });

  test('RT2 variant: moves that nest the resource past 100 levels → 400, nothing forwarded', async () => {
    const operations: unknown[] = [{ op: 'add', path: '/w', value: {} }];
    for (let i = 0; i < 120; i++) {
      operations.push(
        { op: 'add', path: '/v', value: {} },
        { op: 'move', from: '/w', path: '/v/w' },
        { op: 'move', from: '/v', path: '/w' },
      );
    }
    const response = await patch(s.p1, operations);
    assert.equal(response.status, 400, response.text);
    assert.match(diagnostics(response), /more than 100 levels deep/);
    assert.deepEqual(backendWrites(s.fhir), []);
  });

  test('RT2 variant: $meta-add growing a 40 KB resource past the limit → 400, nothing forwarded', async () => {
    const tags = Array.from({ length: 600 }, (_, i) => ({
      system: 'http://example.org/label',
      code: `label-${i}`,
    }));
    const response = await s.call(patcher, 'POST', `Patient/${s.p2}/$meta-add`, {
      body: metaParameters(...tags),
    });
    assert.equal(response.status, 400, response.text);
    assert.match(diagnostics(response), /BODY_LIMIT_BYTES/);
    assert.deepEqual(backendWrites(s.fhir), []);
  });
});
