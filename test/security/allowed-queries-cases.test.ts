/**
 * Attack cases U1-U4 and U8 (../shared/cases/attacks.md, issue 8): requests without a token that
 * rode on an allowed-queries entry meant for a plain read. Each must answer 401 with a Bearer
 * challenge and reach nothing on the FHIR server; variants use other types, params and Bundle
 * entries. The app's own pre-login requests are the controls: they must still be forwarded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { APP_IDS } from '../support/opensrp-dataset.js';
import { type RawResponse, send } from '../support/http.js';
import { FHIR_JSON, type PermissionStack, startPermissionStack } from '../opensrp/permissions-stack.js';

const SHIPPED = fileURLToPath(new URL('../../resources/opensrp_allowed_queries.json', import.meta.url));
const APP = APP_IDS.Location;
const APP_COMPOSITION = `composition-${APP}`;
const APP_BINARY = `app-config-${APP}`;
const L9 = { system: 'https://smartregister.org/location-tag-id', code: 'L9' };

/** An allowed-queries file with the given entries, in a fresh temporary directory. */
function queriesFile(entries: object[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'aq-')), 'queries.json');
  writeFileSync(path, JSON.stringify({ entries }));
  return path;
}

async function seedL9Data(gw: PermissionStack): Promise<void> {
  const fhir = gw.stack.fhir;
  await fhir.create({ resourceType: 'Patient', id: 'p9', name: [{ family: 'Ninth' }], meta: { tag: [L9] } });
  await fhir.create({
    resourceType: 'Observation',
    id: 'o9',
    status: 'final',
    code: { text: 'weight' },
    subject: { reference: 'Patient/p9' },
    meta: { tag: [L9] },
  });
  await fhir.create({
    resourceType: 'Composition',
    id: 'clinical-comp',
    status: 'final',
    type: { text: 'discharge summary' },
    date: '2024-01-01',
    title: 'Summary',
    author: [{ display: 'nurse' }],
    subject: { reference: 'Patient/p9' },
    section: [{ title: 'obs', entry: [{ reference: 'Patient/p9' }, { reference: 'Observation/o9' }] }],
    meta: { tag: [L9] },
  });
  await fhir.create({
    resourceType: 'Binary',
    id: 'attachment-p9',
    contentType: 'text/plain',
    data: Buffer.from('a patient attachment').toString('base64'),
  });
}

/** A request without any Authorization header; clears the backend's record first. */
async function anonymous(gw: PermissionStack, method: string, path: string, body?: unknown) {
  gw.stack.fhir.clearRequests();
  return send(gw.stack.gatewayUrl, {
    method,
    path: `/fhir/${path}`,
    headers: body === undefined ? {} : { 'content-type': FHIR_JSON },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The safe answer: 401 OperationOutcome with a Bearer challenge, and nothing reached the backend. */
function assertRefused(gw: PermissionStack, response: RawResponse, what: string): void {
  assert.equal(response.status, 401, `${what}: ${response.text}`);
  assert.match(String(response.headers['www-authenticate']), /^Bearer/, what);
  assert.equal(response.json().resourceType, 'OperationOutcome', what);
  assert.deepEqual(gw.forwarded(), [], `${what}: nothing may reach the FHIR server`);
}

const batch = (urls: string[]) => ({
  resourceType: 'Bundle',
  type: 'batch',
  entry: urls.map((url) => ({ request: { method: 'GET', url } })),
});

describe('with the shipped resources/opensrp_allowed_queries.json', () => {
  let gw: PermissionStack;
  before(async () => {
    gw = await startPermissionStack({ ALLOWED_QUERIES_FILE: SHIPPED });
    await seedL9Data(gw);
  });
  after(() => gw.close());

  describe('controls: what the app reads before login is still forwarded', () => {
    for (const path of [
      `Composition?identifier=${APP}&_count=1000`,
      `Composition/${APP_COMPOSITION}`,
      `Composition/${APP_COMPOSITION}/_history/1`,
      `Binary/${APP_BINARY}`,
      `Binary?_id=${APP_BINARY}&_lastUpdated=gt2000-01-01`,
      `ImplementationGuide?name:exact=${APP}&context-quantity=le5&_sort=-context-quantity&_count=1`,
    ]) {
      test(`GET ${path}`, async () => {
        const response = await anonymous(gw, 'GET', path);
        assert.notEqual(response.status, 401, response.text);
        assert.equal(gw.forwarded().length, 1);
      });
    }
  });

  test('U1 GET Composition?_id=<clinical>&_include=Composition:subject → 401, nothing forwarded', async () => {
    const response = await anonymous(gw, 'GET', 'Composition?_id=clinical-comp&_include=Composition:subject');
    assertRefused(gw, response, 'U1');
  });

  test('U1 variants: a join added to each kind of entry the file opens → 401', async () => {
    for (const path of [
      `Composition?identifier=${APP}&_include=Composition:subject`,
      `Composition?identifier=${APP}&_count=1000&_revinclude=Observation:subject`,
      `Composition?identifier=${APP}&_include:recurse=Composition:entry`,
      `Composition/clinical-comp?_include=Composition:subject`,
      `Composition/clinical-comp/_history/1?_revinclude=Provenance:target`,
      `Binary?_id=attachment-p9&_include=Binary:securityContext`,
      `Binary/attachment-p9?_contained=true`,
      `Binary/attachment-p9?_containedType=contained`,
      `ImplementationGuide?name:exact=${APP}&_revinclude=*`,
      `ImplementationGuide?name:exact=${APP}&_filter=name%20eq%20x`,
      `ImplementationGuide?name:exact=${APP}&_query=everything`,
      `Composition?identifier=${APP}&_INCLUDE=Composition:subject`,
      `Composition?identifier=${APP}&%20_include=Composition:subject`,
      `Composition?identifier=${APP}&%5Finclude%3Aiterate=Composition:subject`,
      `Composition?identifier=${APP}&subject%2Ename=Ninth`,
    ]) {
      assertRefused(gw, await anonymous(gw, 'GET', path), path);
    }
  });

  test('U1 variant: a batch entry carrying a join refuses the batch → 401', async () => {
    const body = batch([
      `Binary/${APP_BINARY}`,
      `Composition?identifier=${APP}&_include=Composition:subject`,
    ]);
    assertRefused(gw, await anonymous(gw, 'POST', '', body), 'batch with _include');
  });

  test('U2 GET Composition?_include:iterate=*&_revinclude:iterate=* → 401', async () => {
    const response = await anonymous(gw, 'GET', 'Composition?_include:iterate=*&_revinclude:iterate=*');
    assertRefused(gw, response, 'U2');
  });

  test('U2 variants: wildcard iterating joins on entries that otherwise match → 401', async () => {
    for (const path of [
      `Composition?identifier=${APP}&_include:iterate=*&_revinclude:iterate=*`,
      `Composition?identifier=${APP}&_include=*`,
      `ImplementationGuide?name:exact=${APP}&_include:iterate=*`,
      `Binary?_id=${APP_BINARY}&_revinclude:iterate=*`,
    ]) {
      assertRefused(gw, await anonymous(gw, 'GET', path), path);
    }
  });

  test('U3 GET Composition/<id>/$document → 401', async () => {
    assertRefused(gw, await anonymous(gw, 'GET', 'Composition/clinical-comp/$document'), 'U3');
  });

  test('U3 variants: operations and history on ids of opened types → 401', async () => {
    for (const path of [
      `Composition/${APP_COMPOSITION}/$document`,
      'Composition/$document?id=clinical-comp',
      'Composition/clinical-comp/_history',
      'Composition/_history',
      'Binary/attachment-p9/$meta',
      'Binary/attachment-p9/_history',
      'ImplementationGuide/ig-1/$meta',
    ]) {
      assertRefused(gw, await anonymous(gw, 'GET', path), path);
    }
    assertRefused(
      gw,
      await anonymous(gw, 'POST', 'Composition/clinical-comp/$document', {
        resourceType: 'Parameters',
      }),
      'POST $document',
    );
  });

  test('U4 GET Composition?subject:Patient.name=<name> and ?_has:List:item:title=x → 401', async () => {
    assertRefused(gw, await anonymous(gw, 'GET', 'Composition?subject:Patient.name=Ninth'), 'U4 chain');
    assertRefused(gw, await anonymous(gw, 'GET', 'Composition?_has:List:item:title=x'), 'U4 _has');
  });

  test('U4 variants: chains and reverse chains beside a matching required param → 401', async () => {
    for (const path of [
      `Composition?identifier=${APP}&subject:Patient.name=Ninth`,
      `Composition?identifier=${APP}&subject.name=Ninth`,
      `Composition?identifier=${APP}&_has:List:item:title=x`,
      `Composition?identifier=${APP}&_has:Observation:subject:code=x`,
      `ImplementationGuide?name:exact=${APP}&depends-on.name=x`,
      `Binary?_id=attachment-p9&_has:DocumentReference:content:subject=Patient/p9`,
    ]) {
      assertRefused(gw, await anonymous(gw, 'GET', path), path);
    }
  });

  test('U8 GET Binary (a type search, no id) → 401', async () => {
    assertRefused(gw, await anonymous(gw, 'GET', 'Binary'), 'U8');
  });

  test('U8 variants: whole-type searches through blank or missing required values → 401', async () => {
    for (const path of [
      'Binary?_lastUpdated=gt2000-01-01',
      'Binary?_id=',
      'Binary?_id=,',
      `Binary?_id=${APP_BINARY},`,
      'Composition',
      'Composition?identifier=',
      'Composition?_count=1000',
      'ImplementationGuide?name:exact=',
    ]) {
      assertRefused(gw, await anonymous(gw, 'GET', path), path);
    }
    assertRefused(gw, await anonymous(gw, 'POST', '', batch(['Binary'])), 'batch of GET Binary');
  });
});

describe('with a file that opens Composition/ANY_VALUE (no params) and a whole type with extra params', () => {
  let gw: PermissionStack;
  before(async () => {
    const file = queriesFile([
      { path: 'Composition/ANY_VALUE', requestType: 'GET', allowUnauthenticatedRequests: true },
      {
        path: 'Questionnaire',
        requestType: 'GET',
        queryParams: {},
        allowExtraParams: true,
        allowUnauthenticatedRequests: true,
      },
    ]);
    gw = await startPermissionStack({ ALLOWED_QUERIES_FILE: file });
    await seedL9Data(gw);
  });
  after(() => gw.close());

  test('control: a plain read of the id and a plain search are forwarded', async () => {
    assert.equal((await anonymous(gw, 'GET', 'Composition/clinical-comp')).status, 200);
    assert.equal(gw.forwarded().length, 1);
    assert.equal((await anonymous(gw, 'GET', 'Questionnaire?name=x&_count=5')).status, 200);
    assert.equal(gw.forwarded().length, 1);
  });

  test('U3 GET Composition/<id>/$document with an entry Composition/ANY_VALUE → 401', async () => {
    assertRefused(gw, await anonymous(gw, 'GET', 'Composition/clinical-comp/$document'), 'U3');
  });

  test('U3 variants: sub-paths, type-level paths and extra params under Composition/ANY_VALUE → 401', async () => {
    for (const path of [
      'Composition/clinical-comp/_history/1',
      'Composition/clinical-comp/_history',
      'Composition/clinical-comp/$meta',
      'Composition',
      'Composition?_id=clinical-comp',
      'Composition/clinical-comp?_elements=subject',
    ]) {
      assertRefused(gw, await anonymous(gw, 'GET', path), path);
    }
  });

  test('U4 variants: allowExtraParams on a type entry still refuses chains and _has → 401', async () => {
    for (const path of [
      'Questionnaire?subject.name=x',
      'Questionnaire?subject:Patient.name=x',
      'Questionnaire?_has:QuestionnaireResponse:questionnaire:subject=Patient/p9',
      'Questionnaire?_revinclude=QuestionnaireResponse:questionnaire',
    ]) {
      assertRefused(gw, await anonymous(gw, 'GET', path), path);
    }
  });
});
