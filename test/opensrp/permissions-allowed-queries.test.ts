/**
 * resources/opensrp_allowed_queries.json, our default allowed-queries file for OpenSRP: what the app
 * fetches before login passes without a token (Composition, Binary, ImplementationGuide, and a
 * batch of Binary reads); HAPI paging needs a token; the upstream file's unauthenticated
 * `POST [base]` is gone, so any other batch and every transaction need a token and the checker.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { loadAllowedQueries } from '../../src/access/allowed-queries-file.js';
import { APP_IDS } from '../support/opensrp-dataset.js';
import { send } from '../support/http.js';
import { FHIR_JSON, type PermissionStack, startPermissionStack } from './permissions-stack.js';

const FILE = fileURLToPath(new URL('../../resources/opensrp_allowed_queries.json', import.meta.url));
const APP = APP_IDS.Location;
const BINARY = `app-config-${APP}`;

let gw: PermissionStack;
before(async () => {
  gw = await startPermissionStack({ ALLOWED_QUERIES_FILE: FILE });
});
after(() => gw.close());

/** A request without any Authorization header. */
async function anonymous(method: string, path: string, body?: unknown) {
  gw.stack.fhir.clearRequests();
  return send(gw.stack.gatewayUrl, {
    method,
    path: `/fhir/${path}`,
    headers: body === undefined ? {} : { 'content-type': FHIR_JSON },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const batch = (urls: string[]) => ({
  resourceType: 'Bundle',
  type: 'batch',
  entry: urls.map((url) => ({ request: { method: 'GET', url } })),
});

describe('before login, without a token', () => {
  for (const path of [
    `Composition?identifier=${APP}&_count=1000`,
    `Composition/composition-${APP}`,
    `Composition/composition-${APP}/_history/1`,
    `Binary/${BINARY}`,
    `ImplementationGuide?name:exact=${APP}&context-quantity=le5&_sort=-context-quantity&_count=1`,
  ]) {
    test(`GET ${path} is forwarded`, async () => {
      const response = await anonymous('GET', path);
      assert.notEqual(response.status, 401, response.text);
      assert.equal(gw.stack.fhir.countRequests(), 1);
    });
  }

  test('the app config batch of Binary reads is forwarded', async () => {
    const response = await anonymous('POST', '', batch([`Binary?_id=${BINARY}`, `Binary/${BINARY}`]));
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json().type, 'batch-response');
    assert.equal(gw.stack.fhir.countRequests(), 1);
  });

  test('a batch with one entry outside the file needs a token: 401, nothing forwarded', async () => {
    const response = await anonymous(
      'POST',
      '',
      batch([`Binary/${BINARY}`, 'Questionnaire?_id=q-registration']),
    );
    assert.equal(response.status, 401);
    assert.equal(gw.stack.fhir.countRequests(), 0);
  });

  test('a transaction (unlike upstream’s POST "" entry) needs a token', async () => {
    const response = await anonymous('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Binary' }, request: { method: 'POST', url: 'Binary' } }],
    });
    assert.equal(response.status, 401);
    assert.equal(gw.stack.fhir.countRequests(), 0);
  });

  for (const [method, path] of [
    ['GET', '?_getpages=abc&_getpagesoffset=20'],
    ['GET', 'ImplementationGuide'],
    ['PUT', `Binary/${BINARY}`],
    ['GET', 'Patient'],
  ] as const) {
    test(`${method} ${path || '(base)'} needs a token`, async () => {
      const response = await anonymous(
        method,
        path,
        method === 'PUT' ? { resourceType: 'Binary', id: BINARY } : undefined,
      );
      assert.equal(response.status, 401);
      assert.equal(gw.stack.fhir.countRequests(), 0);
    });
  }
});

describe('after login', () => {
  test('HAPI paging links are not granted by the file: an unsigned id is refused (R2)', async () => {
    const response = await gw.call('GET', '?_getpages=abc&_getpagesoffset=20', { roles: [] });
    assert.equal(response.status, 403);
    assert.deepEqual(gw.forwarded(), []);
  });

  test('the Questionnaire config batch is authorized entry by entry by the roles', async () => {
    const body = batch(['Questionnaire?_id=q-registration', `Binary?_id=${BINARY}`]);
    const refused = await gw.call('POST', '', { roles: ['WEB_CLIENT'], body });
    assert.equal(refused.status, 403);
    assert.deepEqual(gw.forwarded(), []);
    const response = await gw.call('POST', '', {
      roles: ['WEB_CLIENT', 'GET_QUESTIONNAIRE', 'GET_BINARY'],
      body,
    });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(gw.forwarded(), ['POST /']);
  });
});

test('the file loads without warnings', () => {
  assert.deepEqual(loadAllowedQueries(FILE).warnings(), []);
});
