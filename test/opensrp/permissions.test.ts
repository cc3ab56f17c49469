/**
 * The OpenSRP role rules over real HTTP: a request on type X needs `<VERB>_X` or `MANAGE_X`, the
 * verb taken from the FHIR interaction; Bundles are checked entry by entry; exactly one client
 * role is required; a refusal forwards nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { diagnostics, type PermissionStack, startPermissionStack } from './permissions-stack.js';

const PATIENT = 'pat-d1-f1-v1-1';
const OBSERVATION = 'obs-d1-f1-v1-1';
const WEB = 'WEB_CLIENT';

let gw: PermissionStack;
before(async () => {
  gw = await startPermissionStack();
});
after(() => gw.close());

const patient = (id: string) => ({ resourceType: 'Patient', id, name: [{ family: 'Updated' }] });

describe('each verb needs <VERB>_X or MANAGE_X', () => {
  const cases = [
    { verb: 'GET', path: `Patient/${PATIENT}`, status: 200 },
    { verb: 'POST', path: 'Patient', body: { resourceType: 'Patient' }, status: 201 },
    { verb: 'PUT', path: `Patient/${PATIENT}`, body: patient(PATIENT), status: 200 },
    {
      verb: 'PATCH',
      path: `Patient/${PATIENT}`,
      body: [{ op: 'add', path: '/gender', value: 'other' }],
      contentType: 'application/json-patch+json',
      status: 200,
    },
    // Each grant deletes another Observation (patient 2 of each village), so each one is found.
    { verb: 'DELETE', path: 'Observation/obs-d1-f1-v2-2', status: 200 },
  ] as const;
  const deletable = ['obs-d1-f1-v2-2', 'obs-d1-f1-v3-2'];
  for (const c of cases) {
    const type = c.path.split('/')[0]!.toUpperCase();
    const options = (roles: string[]) => ({
      roles: [WEB, ...roles],
      ...('body' in c ? { body: c.body } : {}),
      ...('contentType' in c ? { contentType: c.contentType } : {}),
    });
    [`${c.verb}_${type}`, `MANAGE_${type}`].forEach((role, index) => {
      const path = c.verb === 'DELETE' ? `Observation/${deletable[index]}` : c.path;
      test(`${c.verb} ${c.path.split('/')[0]} is forwarded with ${role}`, async () => {
        const response = await gw.call(c.verb, path, options([role]));
        assert.equal(response.status, c.status, response.text);
        assert.deepEqual(gw.forwarded(), [`${c.verb} /${path}`]);
      });
    });
    test(`${c.verb} ${c.path.split('/')[0]} without ${c.verb}_${type} or MANAGE_${type}: 403, nothing forwarded`, async () => {
      // Every other verb's role for the type, to show that only the matching one counts.
      const others = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
        .filter((v) => v !== c.verb)
        .map((v) => `${v}_${type}`);
      const response = await gw.call(c.verb, c.path, options(others));
      assert.equal(response.status, 403);
      assert.match(diagnostics(response), new RegExp(`${c.verb}_${type} or MANAGE_${type}`));
      assert.deepEqual(gw.forwarded(), []);
    });
  }

  test('PATCH with PATCH_PATIENT changes the resource (the Java checker refuses every PATCH)', async () => {
    const response = await gw.call('PATCH', `Patient/${PATIENT}`, {
      roles: [WEB, 'PATCH_PATIENT'],
      body: [{ op: 'add', path: '/gender', value: 'unknown' }],
      contentType: 'application/json-patch+json',
    });
    assert.equal(response.status, 200, response.text);
    // Without GET_PATIENT the patched record is not shown (W11); it was changed all the same.
    assert.equal(response.text, '');
    const read = await gw.call('GET', `Patient/${PATIENT}`, { roles: [WEB, 'GET_PATIENT'] });
    assert.equal(read.json().gender, 'unknown');
  });

  test('roles are case-sensitive: get_patient does not grant GET Patient', async () => {
    const response = await gw.call('GET', `Patient/${PATIENT}`, {
      roles: [WEB, 'get_patient', 'manage_patient'],
    });
    assert.equal(response.status, 403);
    assert.deepEqual(gw.forwarded(), []);
  });
});

describe('the verb comes from the interaction, not the HTTP method', () => {
  const form = 'application/x-www-form-urlencoded';

  test('POST Patient/_search is a search: GET_PATIENT suffices and it is forwarded as a search', async () => {
    const response = await gw.call('POST', 'Patient/_search', {
      roles: [WEB, 'GET_PATIENT'],
      body: `_id=${PATIENT}`,
      contentType: form,
    });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json().resourceType, 'Bundle');
    assert.deepEqual(gw.forwarded(), ['POST /Patient/_search']);
  });

  test('POST Patient/_search with POST_PATIENT only: 403, nothing forwarded', async () => {
    const response = await gw.call('POST', 'Patient/_search', {
      roles: [WEB, 'POST_PATIENT'],
      body: `_id=${PATIENT}`,
      contentType: form,
    });
    assert.equal(response.status, 403);
    assert.match(diagnostics(response), /GET_PATIENT or MANAGE_PATIENT/);
    assert.deepEqual(gw.forwarded(), []);
  });

  for (const path of [
    `Patient/${PATIENT}/_history`,
    'Patient/_history',
    `Patient?_id=${PATIENT}`,
    `Patient/${PATIENT}/_history/1`,
  ]) {
    test(`GET ${path} needs GET_PATIENT`, async () => {
      const refused = await gw.call('GET', path, { roles: [WEB, 'GET_OBSERVATION'] });
      assert.equal(refused.status, 403);
      assert.deepEqual(gw.forwarded(), []);
      const allowed = await gw.call('GET', path, { roles: [WEB, 'GET_PATIENT'] });
      assert.notEqual(allowed.status, 403, allowed.text);
      assert.equal(gw.forwarded().length, 1);
    });
  }

  test('a compartment search needs GET on the searched type and on the compartment owner', async () => {
    const path = `Patient/${PATIENT}/Observation`;
    for (const roles of [['GET_OBSERVATION'], ['GET_PATIENT']]) {
      const response = await gw.call('GET', path, { roles: [WEB, ...roles] });
      assert.equal(response.status, 403, roles.join());
      assert.deepEqual(gw.forwarded(), []);
    }
    const response = await gw.call('GET', path, { roles: [WEB, 'GET_OBSERVATION', 'MANAGE_PATIENT'] });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(gw.forwarded(), [`GET /${path}`]);
  });

  test('an operation by GET needs GET_X; by POST also POST_X', async () => {
    const get = await gw.call('GET', `Patient/${PATIENT}/$everything`, { roles: [WEB, 'POST_PATIENT'] });
    assert.equal(get.status, 403);
    const post = await gw.call('POST', 'Patient/$validate', {
      roles: [WEB, 'GET_PATIENT'],
      body: { resourceType: 'Patient' },
    });
    assert.equal(post.status, 403);
    assert.match(diagnostics(post), /POST_PATIENT or MANAGE_PATIENT/);
    assert.deepEqual(gw.forwarded(), []);
    // ($everything also needs the role of every type it returns: test/security/joins.test.ts.)
    await gw.call('GET', `Patient/${PATIENT}/$meta`, { roles: [WEB, 'GET_PATIENT'] });
    assert.deepEqual(gw.forwarded(), [`GET /Patient/${PATIENT}/$meta`]);
  });

  for (const path of [`?_id=${PATIENT}`, '_history', '$meta']) {
    test(`system-level GET ${path || '(base)'} names no type: 403 whatever the roles`, async () => {
      const response = await gw.call('GET', path, { roles: [WEB, 'MANAGE_PATIENT', 'GET_PATIENT'] });
      assert.equal(response.status, 403);
      assert.match(diagnostics(response), /names no resource type/);
      assert.deepEqual(gw.forwarded(), []);
    });
  }

  test('a create whose body is another type than its URL: 400, nothing forwarded', async () => {
    const response = await gw.call('POST', 'Patient', {
      roles: [WEB, 'POST_PATIENT'],
      body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } },
    });
    assert.equal(response.status, 400);
    assert.match(diagnostics(response), /The body's resourceType is "Observation", but the URL names Patient/);
    assert.deepEqual(gw.forwarded(), []);
  });
});

describe('Bundles are checked entry by entry', () => {
  const bundle = (type: 'batch' | 'transaction', entry: unknown[]) => ({
    resourceType: 'Bundle',
    type,
    entry,
  });
  const put = (resource: { resourceType: string; id: string }) => ({
    resource,
    request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
  });
  const observation = { resourceType: 'Observation', id: OBSERVATION, status: 'final', code: { text: 'w' } };

  for (const type of ['transaction', 'batch'] as const) {
    test(`a ${type} with one entry lacking its role: 403 naming it, nothing forwarded`, async () => {
      const response = await gw.call('POST', '', {
        roles: [WEB, 'PUT_PATIENT'],
        body: bundle(type, [put(patient(PATIENT)), put(observation)]),
      });
      assert.equal(response.status, 403);
      assert.match(
        diagnostics(response),
        /entry 1 \(PUT Observation\/obs-d1-f1-v1-1\) needs role PUT_OBSERVATION or MANAGE_OBSERVATION/,
      );
      assert.doesNotMatch(diagnostics(response), /entry 0/);
      assert.deepEqual(gw.forwarded(), []);
    });
  }

  test('every missing role is named', async () => {
    const response = await gw.call('POST', '', {
      roles: [WEB],
      body: bundle('transaction', [put(patient(PATIENT)), put(observation)]),
    });
    assert.equal(response.status, 403);
    assert.match(
      diagnostics(response),
      /PUT_PATIENT or MANAGE_PATIENT.*PUT_OBSERVATION or MANAGE_OBSERVATION/,
    );
  });

  test('GET and DELETE entries need no body; a batch with their roles is forwarded', async () => {
    const entries = [
      { request: { method: 'GET', url: `Patient?_id=${PATIENT}` } },
      { request: { method: 'DELETE', url: `Observation/${OBSERVATION}` } },
    ];
    const refused = await gw.call('POST', '', {
      roles: [WEB, 'GET_PATIENT'],
      body: bundle('batch', entries),
    });
    assert.equal(refused.status, 403);
    assert.match(
      diagnostics(refused),
      /entry 1 \(DELETE Observation\/obs-d1-f1-v1-1\) needs role DELETE_OBSERVATION/,
    );
    assert.deepEqual(gw.forwarded(), []);

    const response = await gw.call('POST', '', {
      roles: [WEB, 'GET_PATIENT', 'DELETE_OBSERVATION'],
      body: bundle('batch', entries),
    });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json().type, 'batch-response');
    assert.deepEqual(gw.forwarded(), ['POST /']);
  });

  test('a POST Patient/_search entry is a search: GET_PATIENT suffices', async () => {
    const entries = [{ request: { method: 'POST', url: `Patient/_search?_id=${PATIENT}` } }];
    const response = await gw.call('POST', '', {
      roles: [WEB, 'GET_PATIENT'],
      body: bundle('batch', entries),
    });
    assert.notEqual(response.status, 403, response.text);
    assert.equal(gw.forwarded().length, 1);
  });

  test('an empty transaction (no entry at all) is granted, as upstream', async () => {
    const response = await gw.call('POST', '', {
      roles: [WEB],
      body: { resourceType: 'Bundle', type: 'transaction' },
    });
    assert.notEqual(response.status, 403, response.text);
    assert.deepEqual(gw.forwarded(), ['POST /']);
  });

  test('a malformed entry: 400 naming it, nothing forwarded', async () => {
    const response = await gw.call('POST', '', {
      roles: [WEB, 'MANAGE_PATIENT'],
      body: bundle('batch', [{ request: { method: 'GET' } }]),
    });
    assert.equal(response.status, 400);
    assert.match(diagnostics(response), /entry 0/);
    assert.deepEqual(gw.forwarded(), []);
  });
});

describe('client role gate and claims', () => {
  const read = `Patient/${PATIENT}`;

  test('neither ANDROID_CLIENT nor WEB_CLIENT: 403 with a clear message, not 500', async () => {
    const response = await gw.call('GET', read, { roles: ['GET_PATIENT'] });
    assert.equal(response.status, 403);
    assert.match(diagnostics(response), /exactly one of the roles ANDROID_CLIENT and WEB_CLIENT.*neither/);
    assert.deepEqual(gw.forwarded(), []);
  });

  test('both client roles: 403 with a clear message', async () => {
    const response = await gw.call('GET', read, { roles: ['GET_PATIENT', 'WEB_CLIENT', 'ANDROID_CLIENT'] });
    assert.equal(response.status, 403);
    assert.match(diagnostics(response), /exactly one of the roles.*both/);
    assert.deepEqual(gw.forwarded(), []);
  });

  test('no realm_access claim at all: 403, not 500', async () => {
    const response = await gw.call('GET', read, { claims: { realm_access: undefined } });
    assert.equal(response.status, 403);
    assert.deepEqual(gw.forwarded(), []);
  });

  test('realm_access.roles that is not a list: 403, not 500', async () => {
    const response = await gw.call('GET', read, {
      claims: { realm_access: { roles: 'GET_PATIENT WEB_CLIENT' } },
    });
    assert.equal(response.status, 403);
    assert.deepEqual(gw.forwarded(), []);
  });

  test('a token without subject: 401 saying why', async () => {
    const response = await gw.call('GET', read, { roles: [WEB, 'GET_PATIENT'], claims: { sub: undefined } });
    assert.equal(response.status, 401);
    assert.match(diagnostics(response), /no subject/);
    assert.deepEqual(gw.forwarded(), []);
  });
});
