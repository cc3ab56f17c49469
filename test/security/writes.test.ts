/**
 * Writes stay in scope (issue 8; ../shared/cases/attacks.md W1-W3, W6-W8, W12, R6, R9, D1): for an
 * Android user both the stored and the new version of a write must be in the user's scope, a write
 * carries only the user's own sync tags, out-of-scope targets look missing, exemptions cover reads
 * only, and a Bundle's stored versions cost one backend batch. Each case asserts the answer and
 * what reached the backend, with variants (another type, tag system, method, Bundle entry).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, List, Parameters, Patient } from '@medplum/fhirtypes';
import { startSyncStack } from '../opensrp/sync/sync-stack.js';
import type { RawResponse } from '../support/http.js';
import { PERSONAS, TAG_SYSTEMS } from '../support/opensrp-dataset.js';
import { android, L9, type SecurityStack, startSecurityStack, web } from './security-stack.js';
import { backendWrites, bundle, JSON_PATCH, readBatches, tag } from './writes-support.js';

const VILLAGE = `${PERSONAS.worker.facility}-v1`;
/** The tags the app writes for the worker. */
const OWN_TAGS = [
  tag('location', VILLAGE),
  tag('organisation', PERSONAS.worker.organizationId),
  tag('careTeam', PERSONAS.worker.careTeamId),
  tag('practitioner', PERSONAS.worker.practitionerId),
];

const diagnostics = (response: RawResponse) =>
  ((response.json() as { issue?: { diagnostics?: string }[] }).issue ?? [])
    .map((i) => i.diagnostics)
    .join(' ');

describe('writes stay in scope (Android user with the write roles)', () => {
  let s: SecurityStack;
  const writer = android(
    'GET_PATIENT',
    'POST_PATIENT',
    'PUT_PATIENT',
    'PATCH_PATIENT',
    'DELETE_PATIENT',
    'GET_OBSERVATION',
    'POST_OBSERVATION',
    'PUT_OBSERVATION',
    'PATCH_OBSERVATION',
    'DELETE_OBSERVATION',
  );
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());

  const stored = (type: string, id: string) => s.fhir.repo.readResource<Patient>(type, id);

  describe('W1 — a create carries only sync tags of the user’s assignment', () => {
    test('W1 POST Patient tagged with L9, org2 and ct2 only → 403, nothing forwarded', async () => {
      const response = await s.call(writer, 'POST', 'Patient', {
        body: {
          resourceType: 'Patient',
          meta: {
            tag: [
              tag('location', L9),
              tag('organisation', PERSONAS.other.organizationId),
              tag('careTeam', PERSONAS.other.careTeamId),
            ],
          },
        },
      });
      assert.equal(response.status, 403, response.text);
      assert.match(diagnostics(response), /sync tags outside the user's assignment/);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    for (const [system, code] of [
      ['location', L9],
      ['organisation', PERSONAS.other.organizationId],
      ['careTeam', PERSONAS.other.careTeamId],
      ['relatedEntityLocation', L9],
      ['practitioner', PERSONAS.other.practitionerId],
    ] as const) {
      test(`W1 variant: one foreign ${system} tag beside the user's own tags → 403`, async () => {
        const response = await s.call(writer, 'POST', 'Observation', {
          body: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'w1' },
            meta: { tag: [...OWN_TAGS, tag(system, code)] },
          },
        });
        assert.equal(response.status, 403, response.text);
        assert.ok(diagnostics(response).includes(`${TAG_SYSTEMS[system]}|${code}`), response.text);
        assert.deepEqual(backendWrites(s.fhir), []);
      });
    }

    test('W1 variant: a foreign tag without a code, or with a code of another kind, is foreign too', async () => {
      const response = await s.call(writer, 'POST', 'Patient', {
        body: { resourceType: 'Patient', meta: { tag: [{ system: TAG_SYSTEMS.location }] } },
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('W1 controls: the app’s own tags, "Not defined", other systems and untagged creates → 201', async () => {
      for (const meta of [
        { tag: OWN_TAGS },
        { tag: [tag('location', VILLAGE), tag('careTeam', 'Not defined')] },
        { tag: [{ system: 'https://smartregister.org/app-version', code: '1.2.3' }] },
        undefined,
      ]) {
        const response = await s.call(writer, 'POST', 'Patient', {
          body: { resourceType: 'Patient', ...(meta ? { meta } : {}) },
        });
        assert.equal(response.status, 201, `${JSON.stringify(meta)}: ${response.text}`);
        assert.deepEqual(backendWrites(s.fhir), ['POST /fhir/Patient']);
      }
    });

    test('W1 variant: a PUT-create tagged L9 → 403, nothing written', async () => {
      const response = await s.call(writer, 'PUT', 'Patient/w1-put-create', {
        body: { resourceType: 'Patient', id: 'w1-put-create', meta: { tag: [tag('location', L9)] } },
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
      await assert.rejects(stored('Patient', 'w1-put-create'));
    });

    test('W1 variant: the same create as a transaction entry → 403 for the Bundle, nothing forwarded', async () => {
      const response = await s.call(writer, 'POST', '', {
        body: bundle('transaction', [
          {
            resource: { resourceType: 'Patient', meta: { tag: OWN_TAGS } },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            resource: { resourceType: 'Patient', meta: { tag: [tag('location', L9)] } },
            request: { method: 'POST', url: 'Patient' },
          },
        ]),
      });
      assert.equal(response.status, 403, response.text);
      assert.match(diagnostics(response), /^Bundle entry 1: /);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('W1 variant: an Organization-strategy user cannot tag a Location outside their tree either', async () => {
      const sync = await startSyncStack();
      try {
        const token = await sync.token({ strategy: 'Organization' });
        const foreign = await sync.call(token, 'Patient', {
          method: 'POST',
          body: {
            resourceType: 'Patient',
            meta: { tag: [tag('organisation', PERSONAS.worker.organizationId), tag('location', L9)] },
          },
        });
        assert.equal(foreign.status, 403, foreign.text);
        assert.deepEqual(backendWrites(sync.fhir), []);
        const own = await sync.call(token, 'Patient', {
          method: 'POST',
          body: { resourceType: 'Patient', meta: { tag: OWN_TAGS } },
        });
        assert.equal(own.status, 201, own.text);
      } finally {
        await sync.close();
      }
    });
  });

  describe('W2 — an update needs the stored and the new version in scope', () => {
    test('W2 PUT Patient/<in-scope> whose body carries L9 tags → 403, nothing written', async () => {
      const mine = await stored('Patient', s.p1);
      const response = await s.call(writer, 'PUT', `Patient/${s.p1}`, {
        body: { ...mine, meta: { tag: [tag('location', L9)] } },
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
      assert.deepEqual((await stored('Patient', s.p1)).meta?.tag, mine.meta?.tag);
    });

    test('W2 variants: an L9 tag added beside the own ones, or every tag dropped → 403', async () => {
      const mine = await stored('Patient', s.p1);
      for (const tags of [[...(mine.meta?.tag ?? []), tag('location', L9)], []]) {
        const response = await s.call(writer, 'PUT', `Patient/${s.p1}`, {
          body: { ...mine, meta: { tag: tags } },
        });
        assert.equal(response.status, 403, response.text);
        assert.deepEqual(backendWrites(s.fhir), []);
      }
    });

    test('W2 variant: another type (Observation) and as a transaction entry → 403', async () => {
      const observation = `obs-${s.p1.slice(4)}`;
      const mine = await stored('Observation', observation);
      const laundered = { ...mine, meta: { tag: [tag('careTeam', PERSONAS.other.careTeamId)] } };
      const alone = await s.call(writer, 'PUT', `Observation/${observation}`, { body: laundered });
      assert.equal(alone.status, 403, alone.text);
      const inBundle = await s.call(writer, 'POST', '', {
        body: bundle('transaction', [
          { resource: laundered, request: { method: 'PUT', url: `Observation/${observation}` } },
        ]),
      });
      assert.equal(inBundle.status, 403, inBundle.text);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('W2 control: an in-scope update keeping in-scope tags → 200', async () => {
      const mine = await stored('Patient', s.p2);
      const response = await s.call(writer, 'PUT', `Patient/${s.p2}`, { body: { ...mine, gender: 'other' } });
      assert.equal(response.status, 200, response.text);
      assert.deepEqual(backendWrites(s.fhir), [`PUT /fhir/Patient/${s.p2}`]);
    });

    test('W2 variant: a conditional update whose body leaves the scope → 403', async () => {
      const mine = await stored('Patient', s.p1);
      const response = await s.call(writer, 'PUT', `Patient?_id=${s.p1}`, {
        body: { ...mine, meta: { tag: [tag('location', L9)] } },
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
    });
  });

  describe('W3 — a patch is judged by its result', () => {
    test('W3 PATCH replacing the meta.tag code with L9 → 403, stored version unchanged', async () => {
      const before = await stored('Patient', s.p1);
      const index = before.meta!.tag!.findIndex((t) => t.system === TAG_SYSTEMS.location);
      const response = await s.call(writer, 'PATCH', `Patient/${s.p1}`, {
        body: [{ op: 'replace', path: `/meta/tag/${index}/code`, value: L9 }],
        headers: JSON_PATCH,
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
      assert.deepEqual((await stored('Patient', s.p1)).meta?.tag, before.meta?.tag);
    });

    test('W3 variants: adding a foreign tag, removing every tag → 403', async () => {
      for (const patch of [
        [{ op: 'add', path: '/meta/tag/-', value: tag('organisation', PERSONAS.other.organizationId) }],
        [{ op: 'replace', path: '/meta/tag', value: [] }],
        [{ op: 'remove', path: '/meta' }],
      ]) {
        const response = await s.call(writer, 'PATCH', `Patient/${s.p1}`, {
          body: patch,
          headers: JSON_PATCH,
        });
        assert.equal(response.status, 403, `${JSON.stringify(patch)}: ${response.text}`);
        assert.deepEqual(backendWrites(s.fhir), []);
      }
    });

    test('W3 variant: the patch as a transaction Binary entry → 403, nothing forwarded', async () => {
      const patch = [{ op: 'add', path: '/meta/tag/-', value: tag('location', L9) }];
      const response = await s.call(writer, 'POST', '', {
        body: bundle('transaction', [
          {
            resource: {
              resourceType: 'Binary',
              contentType: 'application/json-patch+json',
              data: Buffer.from(JSON.stringify(patch)).toString('base64'),
            },
            request: { method: 'PATCH', url: `Patient/${s.p1}` },
          },
        ]),
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('W3 variant: a FHIRPath Patch (Parameters) cannot be checked → 403 with the reason', async () => {
      const patch: Parameters = {
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'operation',
            part: [
              { name: 'type', valueCode: 'replace' },
              { name: 'path', valueString: 'Patient.meta.tag.code' },
              { name: 'value', valueString: L9 },
            ],
          },
        ],
      };
      const response = await s.call(writer, 'PATCH', `Patient/${s.p1}`, { body: patch });
      assert.equal(response.status, 403, response.text);
      assert.match(diagnostics(response), /FHIRPath Patch .* cannot be checked/);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('W3 variants: a patch naming __proto__, changing the id, or failing to apply → 400', async () => {
      for (const patch of [
        [{ op: 'add', path: '/meta/__proto__/tag', value: [tag('location', L9)] }],
        [{ op: 'replace', path: '/id', value: 'p9' }],
        [{ op: 'test', path: '/gender', value: 'no-such-gender' }],
        { op: 'replace' },
      ]) {
        const response = await s.call(writer, 'PATCH', `Patient/${s.p1}`, {
          body: patch,
          headers: JSON_PATCH,
        });
        assert.equal(response.status, 400, `${JSON.stringify(patch)}: ${response.text}`);
        assert.deepEqual(backendWrites(s.fhir), []);
      }
    });

    test('W3 variant: a conditional patch cannot be checked → 403', async () => {
      const response = await s.call(writer, 'PATCH', `Patient?_id=${s.p1}`, {
        body: [{ op: 'replace', path: '/gender', value: 'other' }],
        headers: JSON_PATCH,
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('W3 control: a patch that keeps the tags → 200, applied', async () => {
      const response = await s.call(writer, 'PATCH', `Patient/${s.p2}`, {
        body: [{ op: 'replace', path: '/gender', value: 'unknown' }],
        headers: JSON_PATCH,
      });
      assert.equal(response.status, 200, response.text);
      assert.deepEqual(backendWrites(s.fhir), [`PATCH /fhir/Patient/${s.p2}`]);
      assert.equal((await stored('Patient', s.p2)).gender, 'unknown');
    });
  });

  describe('W1-W3 variants — $meta-add and $meta-delete are writes of the tags', () => {
    const metaParameters = (...tags: ReturnType<typeof tag>[]): Parameters => ({
      resourceType: 'Parameters',
      parameter: [{ name: 'meta', valueMeta: { tag: tags } }],
    });

    test('W1 variant: $meta-add of an L9 tag → 403, only the stored version read', async () => {
      const response = await s.call(writer, 'POST', `Patient/${s.p1}/$meta-add`, {
        body: metaParameters(tag('location', L9)),
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
      assert.ok(!s.forwarded().some((r) => r.includes('$meta')));
    });

    test('W2 variant: $meta-delete of the user’s location tag (the resource would leave the scope) → 403', async () => {
      const response = await s.call(writer, 'POST', `Patient/${s.p1}/$meta-delete`, {
        body: metaParameters(tag('location', (await stored('Patient', s.p1)).meta!.tag![0]!.code!)),
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('W6 variant: $meta-add on an out-of-scope id answers as on a missing one (404)', async () => {
      const outside = await s.call(writer, 'POST', 'Patient/p9/$meta-add', {
        body: metaParameters(...OWN_TAGS),
      });
      const missing = await s.call(writer, 'POST', 'Patient/no-such-id/$meta-add', {
        body: metaParameters(...OWN_TAGS),
      });
      assert.equal(outside.status, 404, outside.text);
      assert.equal(outside.text.replace('p9', '<id>'), missing.text.replace('no-such-id', '<id>'));
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('W1 control: $meta-add of the user’s own tag is forwarded', async () => {
      await s.call(writer, 'POST', `Patient/${s.p2}/$meta-add`, {
        body: metaParameters(tag('careTeam', 'Not defined')),
      });
      assert.deepEqual(backendWrites(s.fhir), [`POST /fhir/Patient/${s.p2}/$meta-add`]);
    });
  });

  describe('W6 — writes of out-of-scope ids look like writes of missing ones', () => {
    /** Status and OperationOutcome, with the client-supplied id blanked. */
    const answer = (response: RawResponse, id: string) => ({
      status: response.status,
      body: response.text.split(id).join('<id>'),
    });

    for (const method of ['DELETE', 'PATCH'] as const) {
      for (const [type, hidden] of [
        ['Patient', 'p9'],
        ['Observation', 'o9'],
      ] as const) {
        test(`W6 ${method} ${type}/${hidden} vs ${type}/<missing> → the same 404, nothing forwarded`, async () => {
          const options =
            method === 'PATCH'
              ? { body: [{ op: 'replace', path: '/status', value: 'final' }], headers: JSON_PATCH }
              : {};
          const outside = await s.call(writer, method, `${type}/${hidden}`, options);
          assert.deepEqual(backendWrites(s.fhir), []);
          const missing = await s.call(writer, method, `${type}/no-such-id`, options);
          assert.deepEqual(backendWrites(s.fhir), []);
          assert.equal(outside.status, 404, outside.text);
          assert.deepEqual(answer(outside, hidden), answer(missing, 'no-such-id'));
          assert.ok(await stored(type, hidden));
        });
      }
    }

    test('W6 variant: as batch entries, DELETE of an out-of-scope and of a missing id answer alike', async () => {
      const attempt = (id: string) =>
        s.call(writer, 'POST', '', {
          body: bundle('batch', [{ request: { method: 'DELETE', url: `Patient/${id}` } }]),
        });
      const outside = await attempt('p9');
      assert.deepEqual(backendWrites(s.fhir), []);
      const missing = await attempt('no-such-id');
      assert.deepEqual(backendWrites(s.fhir), []);
      assert.deepEqual(answer(outside, 'p9'), answer(missing, 'no-such-id'));
      assert.ok(await stored('Patient', 'p9'));
    });

    test('W6 documented exception: PUT of an out-of-scope id → 403 (a PUT of a missing id creates)', async () => {
      const response = await s.call(writer, 'PUT', 'Patient/p9', {
        body: { resourceType: 'Patient', id: 'p9', meta: { tag: OWN_TAGS } },
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
      assert.equal((await stored('Patient', 'p9')).meta?.tag?.[0]?.code, L9);
    });
  });

  describe('W7 — a skip-list entry exempts only the method it names', () => {
    let l9List: string;
    let ownList: string;
    before(async () => {
      const list = (id: string, code: string): List => ({
        resourceType: 'List',
        id,
        status: 'current',
        mode: 'working',
        meta: { tag: [tag('location', code)] },
      });
      l9List = (await s.fhir.create(list('list-l9', L9))).id!;
      ownList = (await s.fhir.create(list('list-own', VILLAGE))).id!;
    });
    const lists = android('GET_LIST', 'PUT_LIST', 'DELETE_LIST', 'POST_LIST');

    test('W7 PUT and DELETE List/<L9 list> (GET List is on the shipped skip-list) → refused, nothing written', async () => {
      const current = await stored('List', l9List);
      const put = await s.call(lists, 'PUT', `List/${l9List}`, { body: { ...current, title: 'x' } });
      assert.equal(put.status, 403, put.text);
      const del = await s.call(lists, 'DELETE', `List/${l9List}`);
      assert.equal(del.status, 404, del.text);
      assert.deepEqual(backendWrites(s.fhir), []);
      assert.ok(await stored('List', l9List));
    });

    test('W7 controls: the read stays exempt; a List tagged for the user is written by the tag rule', async () => {
      assert.equal((await s.call(lists, 'GET', `List/${l9List}`)).status, 200);
      const mine = await stored('List', ownList);
      const put = await s.call(lists, 'PUT', `List/${ownList}`, { body: { ...mine, title: 'mine' } });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(backendWrites(s.fhir), [`PUT /fhir/List/${ownList}`]);
    });

    test('W7 variant: the same DELETE as a transaction entry → refused, nothing written', async () => {
      const response = await s.call(lists, 'POST', '', {
        body: bundle('transaction', [{ request: { method: 'DELETE', url: `List/${l9List}` } }]),
      });
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(backendWrites(s.fhir), []);
    });
  });

  describe('W8 — destructive extensions are refused for Android users', () => {
    const admin = android('GET_PATIENT', 'DELETE_PATIENT', 'MANAGE_PATIENT', 'POST_PATIENT');

    test('W8 DELETE Patient/<in-scope>?_cascade=delete&_expunge=true → 403, nothing forwarded', async () => {
      const response = await s.call(admin, 'DELETE', `Patient/${s.p1}?_cascade=delete&_expunge=true`);
      assert.equal(response.status, 403, response.text);
      assert.deepEqual(s.forwarded(), []);
      assert.ok(await stored('Patient', s.p1));
    });

    test('W8 variants: _expunge alone, $expunge on an instance and a type → 403; in a Bundle entry → 400', async () => {
      for (const [method, path] of [
        ['DELETE', `Patient/${s.p1}?_expunge=true`],
        ['POST', `Patient/${s.p1}/$expunge`],
        ['POST', 'Patient/$expunge'],
      ] as const) {
        const response = await s.call(admin, method, path);
        assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
        assert.deepEqual(backendWrites(s.fhir), [], `${method} ${path}`);
      }
      const inBundle = await s.call(admin, 'POST', '', {
        body: bundle('batch', [{ request: { method: 'DELETE', url: `Patient/${s.p1}?_expunge=true` } }]),
      });
      // A write entry by id has no query at all: some servers read it as a conditional write.
      assert.equal(inBundle.status, 400, inBundle.text);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('W8 control: a WEB user with the delete role may expunge (the role decides)', async () => {
      await s.fhir.create<Patient>({ resourceType: 'Patient', id: 'w8-web', meta: { tag: OWN_TAGS } });
      const response = await s.call(
        web('GET_PATIENT', 'DELETE_PATIENT'),
        'DELETE',
        'Patient/w8-web?_expunge=true',
      );
      assert.ok(response.status < 300, response.text);
      assert.deepEqual(backendWrites(s.fhir), ['DELETE /fhir/Patient/w8-web']);
    });
  });

  describe('W12 — exemptions cover reads; app configuration is not writable by Android users', () => {
    const config = android(
      'GET_BINARY',
      'PUT_BINARY',
      'POST_BINARY',
      'POST_COMPOSITION',
      'PUT_COMPOSITION',
      'DELETE_IMPLEMENTATIONGUIDE',
      'PUT_QUESTIONNAIRE',
    );

    test('W12 PUT Binary/<the app config Binary> with PUT_BINARY → 403, nothing written', async () => {
      const binary = await stored('Binary', 'app-config-app-location');
      const response = await s.call(config, 'PUT', 'Binary/app-config-app-location', {
        body: { ...binary, data: Buffer.from('{"syncStrategy":["Organization"]}').toString('base64') },
      });
      assert.equal(response.status, 403, response.text);
      assert.match(diagnostics(response), /OPENSRP_ANDROID_CONFIG_WRITES/);
      assert.deepEqual(backendWrites(s.fhir), []);
      assert.equal((await s.call(config, 'GET', 'Binary/app-config-app-location')).status, 200, 'reads stay');
    });

    test('W12 variants: POST Composition, DELETE ImplementationGuide, PUT an untagged Questionnaire, a Binary in a transaction → 403', async () => {
      const questionnaire = await stored('Questionnaire', 'q-registration');
      for (const [method, path, body] of [
        ['POST', 'Composition', { resourceType: 'Composition', identifier: { value: 'app-location' } }],
        ['DELETE', 'ImplementationGuide/any', undefined],
        ['PUT', 'Questionnaire/q-registration', { ...questionnaire, title: 'changed' }],
        ['POST', 'Binary', { resourceType: 'Binary', contentType: 'text/plain', meta: { tag: OWN_TAGS } }],
      ] as const) {
        const response = await s.call(config, method, path, body === undefined ? {} : { body });
        assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
        assert.deepEqual(backendWrites(s.fhir), [], `${method} ${path}`);
      }
      const inBundle = await s.call(config, 'POST', '', {
        body: bundle('transaction', [
          {
            resource: { resourceType: 'Binary', contentType: 'text/plain' },
            request: { method: 'POST', url: 'Binary' },
          },
        ]),
      });
      assert.equal(inBundle.status, 403, inBundle.text);
      assert.deepEqual(backendWrites(s.fhir), []);
    });

    test('W12 with OPENSRP_ANDROID_CONFIG_WRITES=true: config writes pass, foreign sync tags still do not', async () => {
      const allowed = await startSecurityStack({ OPENSRP_ANDROID_CONFIG_WRITES: 'true' });
      try {
        const binary = await allowed.fhir.repo.readResource('Binary', 'app-config-app-location');
        const put = await allowed.call(config, 'PUT', 'Binary/app-config-app-location', {
          body: { ...binary, contentType: 'application/json' },
        });
        assert.equal(put.status, 200, put.text);
        assert.deepEqual(backendWrites(allowed.fhir), ['PUT /fhir/Binary/app-config-app-location']);
        const foreign = await allowed.call(config, 'POST', 'Binary', {
          body: { resourceType: 'Binary', contentType: 'text/plain', meta: { tag: [tag('location', L9)] } },
        });
        assert.equal(foreign.status, 403, foreign.text);
        assert.deepEqual(backendWrites(allowed.fhir), []);
        // A Binary tagged for another area (a patient's photo) is data of that area, setting or not.
        await allowed.fhir.create({
          resourceType: 'Binary',
          id: 'photo-l9',
          contentType: 'image/png',
          meta: { tag: [tag('location', L9)] },
        });
        const overwrite = await allowed.call(config, 'PUT', 'Binary/photo-l9', {
          body: { resourceType: 'Binary', id: 'photo-l9', contentType: 'image/png', meta: { tag: OWN_TAGS } },
        });
        assert.equal(overwrite.status, 403, overwrite.text);
        assert.deepEqual(backendWrites(allowed.fhir), []);
      } finally {
        await allowed.close();
      }
    });
  });

  describe('R6 — stored Bundle, Parameters and OperationOutcome obey the tag rule', () => {
    const bundles = android(
      'GET_BUNDLE',
      'PUT_BUNDLE',
      'DELETE_BUNDLE',
      'GET_PARAMETERS',
      'DELETE_PARAMETERS',
    );
    before(async () => {
      const l9: Bundle = {
        resourceType: 'Bundle',
        id: 'bundle-l9',
        type: 'collection',
        meta: { tag: [tag('location', L9)] },
        entry: [{ resource: { resourceType: 'Patient', id: 'inner', meta: { tag: [tag('location', L9)] } } }],
      };
      const own: Bundle = {
        resourceType: 'Bundle',
        id: 'bundle-own',
        type: 'collection',
        meta: { tag: OWN_TAGS },
      };
      const parameters: Parameters = {
        resourceType: 'Parameters',
        id: 'params-l9',
        meta: { tag: [tag('location', L9)] },
        parameter: [{ name: 'x', valueString: 'secret' }],
      };
      await s.fhir.create(l9);
      await s.fhir.create(own);
      await s.fhir.create(parameters);
    });

    test('R6 GET, PUT and DELETE Bundle/<stored L9 Bundle> → 404, 403, 404; nothing written', async () => {
      const read = await s.call(bundles, 'GET', 'Bundle/bundle-l9');
      assert.equal(read.status, 404, read.text);
      assert.ok(!read.text.includes('inner'));
      const put = await s.call(bundles, 'PUT', 'Bundle/bundle-l9', {
        body: { resourceType: 'Bundle', id: 'bundle-l9', type: 'collection', meta: { tag: OWN_TAGS } },
      });
      assert.equal(put.status, 403, put.text);
      const del = await s.call(bundles, 'DELETE', 'Bundle/bundle-l9');
      assert.equal(del.status, 404, del.text);
      assert.deepEqual(backendWrites(s.fhir), []);
      assert.ok(await stored('Bundle', 'bundle-l9'));
    });

    test('R6 variants: a stored Parameters → 404; the user’s own stored Bundle → 200', async () => {
      assert.equal((await s.call(bundles, 'GET', 'Parameters/params-l9')).status, 404);
      assert.equal((await s.call(bundles, 'DELETE', 'Parameters/params-l9')).status, 404);
      assert.deepEqual(backendWrites(s.fhir), []);
      assert.equal((await s.call(bundles, 'GET', 'Bundle/bundle-own')).status, 200);
    });
  });

  describe('R9 — vread and history are judged by the current version', () => {
    let moved: string;
    let firstVersion: string;
    before(async () => {
      const created = await s.fhir.create<Patient>({
        resourceType: 'Patient',
        id: 'moved',
        meta: { tag: OWN_TAGS },
      });
      moved = created.id!;
      firstVersion = created.meta!.versionId!;
      await s.fhir.repo.updateResource<Patient>({ ...created, meta: { tag: [tag('location', L9)] } });
    });

    /** Nothing of the resource's history reached the backend; its current version was read. */
    const onlyCurrentRead = () => {
      assert.deepEqual(
        s.forwarded().filter((r) => r.includes('_history')),
        [],
      );
      assert.ok(s.forwarded().includes(`GET /Patient/${moved}`), s.forwarded().join('\n'));
    };

    test('R9 an admin moved a Patient from L1 to L9: its vread and history → 404, only the current version read', async () => {
      const vread = await s.call(writer, 'GET', `Patient/${moved}/_history/${firstVersion}`);
      assert.equal(vread.status, 404, vread.text);
      assert.match(diagnostics(vread), new RegExp(`Patient/${moved} is not known`));
      onlyCurrentRead();
      const history = await s.call(writer, 'GET', `Patient/${moved}/_history`);
      assert.equal(history.status, 404, history.text);
      onlyCurrentRead();
    });

    test('R9 variants: as a batch entry the same refusal as for a missing id; an in-scope history → 200', async () => {
      const attempt = (id: string) =>
        s.call(writer, 'POST', '', {
          body: bundle('batch', [{ request: { method: 'GET', url: `Patient/${id}/_history` } }]),
        });
      const outside = await attempt(moved);
      const missing = await attempt('no-such-id');
      assert.equal(outside.status, missing.status);
      assert.equal(
        diagnostics(outside).replace(moved, '<id>'),
        diagnostics(missing).replace('no-such-id', '<id>'),
      );
      assert.equal(s.fhir.requests.filter((r) => r.path === '/fhir/' && !r.body.includes('"GET"')).length, 0);
      const own = await s.call(writer, 'GET', `Patient/${s.p1}/_history`);
      assert.equal(own.status, 200, own.text);
      assert.ok(own.text.includes(s.p1));
    });
  });

  describe('D1 (second half) — a Bundle’s stored versions are read in one deduplicated batch', () => {
    test('D1 a batch of 200 GET Patient/p1/$meta → one backend read batch with one entry', async () => {
      const entries = Array.from({ length: 200 }, () => ({
        request: { method: 'GET' as const, url: `Patient/${s.p1}/$meta` },
      }));
      await s.call(writer, 'POST', '', { body: bundle('batch', entries) });
      // The gateway's own read, then the client's batch as sent.
      const [ours, forwarded, ...more] = readBatches(s.fhir);
      assert.deepEqual(ours, [`Patient/${s.p1}`]);
      assert.equal(forwarded?.length, 200);
      assert.deepEqual(more, []);
      assert.equal(
        s.fhir.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/fhir/Patient/')).length,
        0,
      );
    });

    test('D1 variant: a batch of writes and a history on three ids, one repeated → one read batch of the three', async () => {
      const [a, b] = await Promise.all([stored('Patient', s.p1), stored('Patient', s.p2)]);
      const response = await s.call(writer, 'POST', '', {
        body: bundle('batch', [
          { resource: { ...a, gender: 'male' }, request: { method: 'PUT', url: `Patient/${s.p1}` } },
          { resource: { ...b, gender: 'male' }, request: { method: 'PUT', url: `Patient/${s.p2}` } },
          {
            resource: { resourceType: 'Patient', id: 'd1-new', meta: { tag: OWN_TAGS } },
            request: { method: 'PUT', url: 'Patient/d1-new' },
          },
          { request: { method: 'GET', url: `Patient/${s.p1}/_history` } },
        ]),
      });
      assert.equal(response.status, 200, response.text);
      assert.deepEqual(readBatches(s.fhir), [[`Patient/${s.p1}`, `Patient/${s.p2}`, 'Patient/d1-new']]);
    });
  });
});
