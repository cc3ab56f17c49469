/**
 * Attack cases J1-J8 (../shared/cases/attacks.md, issue 8, "joins need roles"): joins, operations
 * and destructive extensions that reached types the caller holds no role for. Each must answer 403
 * before anything reaches the FHIR server; variants use other types, `:iterate`, wildcards, type vs
 * instance operations, POST `_search`, Bundle entries and conditional requests. Controls show that
 * the same joins pass once the caller holds every reached type's read role.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { diagnostics, type PermissionStack, startPermissionStack } from '../opensrp/permissions-stack.js';
import { bearer, type RawResponse, send } from '../support/http.js';

const P1 = 'pat-d1-f1-v1-1';
const O1 = 'obs-d1-f1-v1-1';
const WEB = 'WEB_CLIENT';
const ANDROID = 'ANDROID_CLIENT';
const L9_TAG = 'https://smartregister.org/location-tag-id|loc-d2-f1';

let gw: PermissionStack;
before(async () => {
  gw = await startPermissionStack();
});
after(() => gw.close());

const get = (path: string, roles: string[]) => gw.call('GET', path, { roles });

/** 403 whose diagnostics match `reason`, and not a single request reached the FHIR server. */
function assertRefused(response: RawResponse, reason: RegExp, what: string): void {
  assert.equal(response.status, 403, `${what}: ${response.text}`);
  assert.match(diagnostics(response), reason, what);
  assert.deepEqual(gw.forwarded(), [], `${what} reached the backend`);
}

function assertForwarded(response: RawResponse, path: string, method = 'GET'): void {
  assert.ok(response.status < 500, response.text);
  assert.notEqual(response.status, 403, response.text);
  assert.ok(
    gw.forwarded().some((line) => decodeURIComponent(line).startsWith(`${method} ${path}`)),
    `${path} was not forwarded: ${gw.forwarded().join(' | ')}`,
  );
}

const needs = (role: string) => new RegExp(`${role} or MANAGE_${role.split('_')[1]}`);
const UNBOUNDED = /cannot be bounded/;

describe('J1 a _revinclude needs the read role of the type it returns', () => {
  test('J1 WEB GET_PATIENT only: Patient?_id=p1&_revinclude=Observation:subject → 403', async () => {
    const response = await get(`Patient?_id=${P1}&_revinclude=Observation:subject`, [WEB, 'GET_PATIENT']);
    assertRefused(response, needs('GET_OBSERVATION'), 'J1');
    assert.match(diagnostics(response), /Observation is returned by _revinclude=Observation:subject/);
  });

  test('J1 variants: :iterate, another type, POST _search, a batch entry → 403', async () => {
    assertRefused(
      await get(`Patient?_id=${P1}&_revinclude:iterate=Observation:subject`, [WEB, 'GET_PATIENT']),
      needs('GET_OBSERVATION'),
      ':iterate',
    );
    assertRefused(
      await get('Location?_revinclude=Encounter:location', [WEB, 'GET_LOCATION']),
      needs('GET_ENCOUNTER'),
      'another type',
    );
    const search = await gw.call('POST', 'Patient/_search', {
      roles: [WEB, 'GET_PATIENT'],
      body: `_id=${P1}&_revinclude=Observation:subject`,
      contentType: 'application/x-www-form-urlencoded',
    });
    assertRefused(search, needs('GET_OBSERVATION'), 'POST _search');
    const batch = await gw.call('POST', '', {
      roles: [WEB, 'GET_PATIENT'],
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { request: { method: 'GET', url: `Patient/${P1}` } },
          { request: { method: 'GET', url: `Patient?_id=${P1}&_revinclude=Observation:subject` } },
        ],
      },
    });
    assertRefused(batch, /entry 1 .*GET_OBSERVATION or MANAGE_OBSERVATION/, 'batch entry');
  });

  test('J1 control: with GET_OBSERVATION (or MANAGE_OBSERVATION) too it is forwarded', async () => {
    for (const role of ['GET_OBSERVATION', 'MANAGE_OBSERVATION']) {
      const response = await get(`Patient?_id=${P1}&_revinclude=Observation:subject`, [
        WEB,
        'GET_PATIENT',
        role,
      ]);
      assertForwarded(response, '/Patient?');
    }
  });
});

describe('J2 an _include needs the read role of every target type', () => {
  test('J2 WEB GET_OBSERVATION only: Observation?_id=o9&_include=Observation:subject → 403', async () => {
    const response = await get('Observation?_id=o9&_include=Observation:subject', [WEB, 'GET_OBSERVATION']);
    // Observation.subject can point at Patient, Group, Device and Location: each needs its role.
    assertRefused(response, needs('GET_PATIENT'), 'J2');
    for (const role of ['GET_GROUP', 'GET_DEVICE', 'GET_LOCATION'])
      assert.match(diagnostics(response), needs(role));
  });

  test('J2 variants: a named target, :iterate, another type → 403', async () => {
    assertRefused(
      await get('Observation?_include=Observation:subject:Patient', [WEB, 'GET_OBSERVATION']),
      needs('GET_PATIENT'),
      'named target',
    );
    assertRefused(
      await get('Observation?_include:iterate=Observation:performer', [
        WEB,
        'GET_OBSERVATION',
        'GET_PATIENT',
      ]),
      needs('GET_PRACTITIONER'),
      ':iterate',
    );
    assertRefused(
      await get('Encounter?_include=Encounter:subject:Patient', [WEB, 'GET_ENCOUNTER']),
      needs('GET_PATIENT'),
      'another type',
    );
  });

  test('J2 wildcards cannot be bounded: 403 whatever the roles', async () => {
    const all = [WEB, 'MANAGE_OBSERVATION', 'MANAGE_PATIENT', 'MANAGE_COMPOSITION', 'MANAGE_PRACTITIONER'];
    for (const path of [
      'Observation?_include=*',
      'Observation?_include=Observation:*',
      'Composition?_include:iterate=*&_revinclude:iterate=*',
      'Patient?_revinclude=*:subject',
    ]) {
      assertRefused(await get(path, all), UNBOUNDED, path);
    }
  });

  test('J2 control: Observation?_include=Observation:subject:Patient with GET_PATIENT is forwarded', async () => {
    const response = await get(`Observation?_id=${O1}&_include=Observation:subject:Patient`, [
      WEB,
      'GET_OBSERVATION',
      'GET_PATIENT',
    ]);
    assertForwarded(response, '/Observation?');
  });
});

describe('J3 $everything returns what the compartment references, of any type: refused', () => {
  test('J3 WEB GET_PATIENT only: Patient/p1/$everything → 403', async () => {
    const response = await get(`Patient/${P1}/$everything`, [WEB, 'GET_PATIENT']);
    assertRefused(response, UNBOUNDED, 'J3');
    assert.match(diagnostics(response), /Patient\/\$everything/);
  });

  test('J3 variants: type level, POST, more roles, Encounter and Group → 403', async () => {
    const many = [
      WEB,
      'MANAGE_PATIENT',
      'MANAGE_OBSERVATION',
      'MANAGE_ENCOUNTER',
      'MANAGE_LIST',
      'MANAGE_GROUP',
    ];
    assertRefused(await get('Patient/$everything', [WEB, 'GET_PATIENT']), UNBOUNDED, 'type level');
    const post = await gw.call('POST', `Patient/${P1}/$everything`, {
      roles: [WEB, 'GET_PATIENT', 'POST_PATIENT'],
      body: { resourceType: 'Parameters' },
    });
    assertRefused(post, UNBOUNDED, 'POST');
    for (const path of [`Patient/${P1}/$everything`, 'Encounter/e1/$everything', 'Group/g1/$everything']) {
      assertRefused(await get(path, many), UNBOUNDED, path);
    }
  });
});

describe('J4 operations whose answer cannot be bounded are refused', () => {
  test('J4 WEB GET_PATIENT only: Patient/p1/$graphql?query={ObservationList…} → 403', async () => {
    const query = encodeURIComponent('{ObservationList(_reference: subject){id}}');
    const response = await get(`Patient/${P1}/$graphql?query=${query}`, [WEB, 'GET_PATIENT']);
    assertRefused(response, UNBOUNDED, 'J4');
    assert.match(diagnostics(response), /Patient\/\$graphql/);
  });

  test('J4 variants: with every role named, type level, $document, $summary, an unknown operation → 403', async () => {
    const roles = [WEB, 'MANAGE_PATIENT', 'MANAGE_OBSERVATION', 'MANAGE_COMPOSITION'];
    for (const path of [
      `Patient/${P1}/$graphql?query=%7Bid%7D`,
      'Patient/$graphql?query=%7Bid%7D',
      'Composition/comp-1/$document',
      `Patient/${P1}/$summary`,
      `Patient/${P1}/$some-vendor-operation`,
      'Observation/$export',
    ]) {
      assertRefused(await get(path, roles), UNBOUNDED, path);
    }
  });

  test('J4 control: operations that return only their own type still pass ($meta, $validate)', async () => {
    assertForwarded(await get(`Patient/${P1}/$meta`, [WEB, 'GET_PATIENT']), `/Patient/${P1}/$meta`);
    const validate = await gw.call('POST', 'Patient/$validate', {
      roles: [WEB, 'GET_PATIENT', 'POST_PATIENT'],
      body: { resourceType: 'Patient' },
    });
    assertForwarded(validate, '/Patient/$validate', 'POST');
  });
});

describe('J5 Android users: the same role rule', () => {
  test('J5 Android GET_PATIENT only: _revinclude=Observation:subject and Patient/p1/$everything → 403', async () => {
    assertRefused(
      await get('Patient?_revinclude=Observation:subject', [ANDROID, 'GET_PATIENT']),
      needs('GET_OBSERVATION'),
      '_revinclude',
    );
    assertRefused(await get(`Patient/${P1}/$everything`, [ANDROID, 'GET_PATIENT']), UNBOUNDED, '$everything');
  });

  test('J5 variants: _include of another type, $graphql → 403', async () => {
    assertRefused(
      await get('Patient?_include=Patient:organization', [ANDROID, 'GET_PATIENT']),
      needs('GET_ORGANIZATION'),
      '_include',
    );
    assertRefused(
      await get(`Patient/${P1}/$graphql?query=%7Bid%7D`, [ANDROID, 'GET_PATIENT', 'GET_OBSERVATION']),
      UNBOUNDED,
      '$graphql',
    );
  });
});

describe('J6 a _has or a chain needs the read role of the type it searches', () => {
  test('J6 WEB GET_PATIENT only: Patient?_has:Observation:subject:code=x → 403', async () => {
    const response = await get('Patient?_has:Observation:subject:code=x', [WEB, 'GET_PATIENT']);
    assertRefused(response, needs('GET_OBSERVATION'), 'J6 _has');
    assert.match(diagnostics(response), /Observation is searched by _has:Observation:subject:code/);
  });

  test('J6 WEB GET_OBSERVATION only: Observation?subject:Patient.name=x → 403', async () => {
    assertRefused(
      await get('Observation?subject:Patient.name=x', [WEB, 'GET_OBSERVATION']),
      needs('GET_PATIENT'),
      'J6 chain',
    );
  });

  test('J6 variants: untyped and multi-level chains, nested _has, _sort, _list → 403', async () => {
    const rows: [string, string[], string][] = [
      ['Observation?subject.name=x', [WEB, 'GET_OBSERVATION'], 'GET_PATIENT'],
      [
        'Observation?subject:Patient.organization.name=x',
        [WEB, 'GET_OBSERVATION', 'GET_PATIENT'],
        'GET_ORGANIZATION',
      ],
      [
        'Patient?_has:Observation:subject:_has:Provenance:target:agent=x',
        [WEB, 'GET_PATIENT', 'GET_OBSERVATION'],
        'GET_PROVENANCE',
      ],
      ['Observation?_sort=subject:Patient.birthdate', [WEB, 'GET_OBSERVATION'], 'GET_PATIENT'],
      ['Patient?_list=list-1', [WEB, 'GET_PATIENT'], 'GET_LIST'],
    ];
    for (const [path, roles, role] of rows) assertRefused(await get(path, roles), needs(role), path);
  });

  test('J6 variants: a conditional delete and an If-None-Exist that search through another type → 403', async () => {
    const del = await gw.call('DELETE', 'Patient?_has:Observation:subject:code=x', {
      roles: [WEB, 'DELETE_PATIENT'],
    });
    assertRefused(del, needs('GET_OBSERVATION'), 'conditional delete');
    const token = await gw.stack.issuer.mint({
      sub: 'kc-worker',
      fhir_core_app_id: 'app-location',
      realm_access: { roles: [WEB, 'POST_PATIENT'] },
    });
    // The permission stack's call() sends no extra headers; the request log was cleared by the call above.
    const create = await send(gw.stack.gatewayUrl, {
      method: 'POST',
      path: '/fhir/Patient',
      headers: bearer(token, {
        'content-type': 'application/fhir+json',
        'if-none-exist': 'general-practitioner:Practitioner.name=x',
      }),
      body: JSON.stringify({ resourceType: 'Patient' }),
    });
    assertRefused(create, needs('GET_PRACTITIONER'), 'If-None-Exist');
  });

  test('J6 control: with the searched type role the _has search is forwarded', async () => {
    const response = await get('Patient?_has:Observation:subject:code=x', [
      WEB,
      'GET_PATIENT',
      'GET_OBSERVATION',
    ]);
    assertForwarded(response, '/Patient?');
  });
});

describe('J7 Android users cannot search through types the assignment cannot narrow', () => {
  test(`J7 Android: Patient?_has:Observation:subject:_tag=<location system>|L9 → 403`, async () => {
    const response = await get(`Patient?_has:Observation:subject:_tag=${encodeURIComponent(L9_TAG)}`, [
      ANDROID,
      'GET_PATIENT',
      'GET_OBSERVATION',
    ]);
    assertRefused(response, /cannot be narrowed/, 'J7');
    assert.match(diagnostics(response), /Observation by _has:Observation:subject:_tag/);
  });

  test('J7 variants: chains, nested _has, POST _search, a batch entry → 403', async () => {
    // Every type the chains below reach, so that only the narrowing rule can refuse them.
    const reached = ['PATIENT', 'OBSERVATION', 'PRACTITIONER', 'GROUP', 'DEVICE', 'LOCATION'];
    const roles = [ANDROID, ...reached.map((type) => `GET_${type}`)];
    for (const path of [
      'Observation?subject:Patient.name=x',
      'Observation?subject.name=x',
      'Patient?general-practitioner:Practitioner.name=x',
      'Patient?_has:Observation:subject:performer:Practitioner.name=x',
    ]) {
      assertRefused(await get(path, roles), /cannot be narrowed/, path);
    }
    const search = await gw.call('POST', 'Patient/_search', {
      roles,
      body: '_has:Observation:subject:code=x',
      contentType: 'application/x-www-form-urlencoded',
    });
    assertRefused(search, /cannot be narrowed/, 'POST _search');
    const batch = await gw.call('POST', '', {
      roles,
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [{ request: { method: 'GET', url: 'Patient?_has:Observation:subject:code=x' } }],
      },
    });
    assert.equal(batch.status, 403, batch.text);
    assert.ok(!gw.forwarded().some((line) => line.includes('_has')), gw.forwarded().join(' | '));
  });

  test('J7 control: a WEB user with both roles is not narrowed, so the same search is forwarded', async () => {
    const response = await get(`Patient?_has:Observation:subject:_tag=${encodeURIComponent(L9_TAG)}`, [
      WEB,
      'GET_PATIENT',
      'GET_OBSERVATION',
    ]);
    assertForwarded(response, '/Patient?');
  });
});

describe('J8 destructive extensions need the delete role', () => {
  test('J8 Android GET_PATIENT+POST_PATIENT: POST Patient/p1/$expunge → 403', async () => {
    const response = await gw.call('POST', `Patient/${P1}/$expunge`, {
      roles: [ANDROID, 'GET_PATIENT', 'POST_PATIENT'],
      body: { resourceType: 'Parameters' },
    });
    assertRefused(response, needs('DELETE_PATIENT'), 'J8');
    assert.match(diagnostics(response), /for \$expunge/);
  });

  test('J8 variants: type-level $expunge, WEB user, another type → 403; _expunge on an update → 400', async () => {
    const cases: [string, string, string[], string][] = [
      ['POST', 'Patient/$expunge', [WEB, 'GET_PATIENT', 'POST_PATIENT'], 'DELETE_PATIENT'],
      [
        'POST',
        `Observation/${O1}/$expunge`,
        [WEB, 'MANAGE_PATIENT', 'GET_OBSERVATION', 'POST_OBSERVATION'],
        'DELETE_OBSERVATION',
      ],
    ];
    for (const [method, path, roles, role] of cases) {
      assertRefused(
        await gw.call(method, path, { roles, body: { resourceType: 'Parameters' } }),
        needs(role),
        `${method} ${path}`,
      );
    }
    // An update by id takes no search params at all (src/fhir/route.ts).
    const update = await gw.call('PUT', `Patient/${P1}?_expunge=true`, {
      roles: [WEB, 'PUT_PATIENT', 'DELETE_PATIENT'],
      body: { resourceType: 'Patient', id: P1 },
    });
    assert.equal(update.status, 400, update.text);
    assert.match(diagnostics(update), /takes no search parameter \(got "_expunge"\)/);
  });

  test('J8 _cascade cannot be bounded: 403 even with MANAGE_PATIENT', async () => {
    for (const path of [`Patient/${P1}?_cascade=delete`, `Patient/${P1}?_cascade=delete&_expunge=true`]) {
      assertRefused(await gw.call('DELETE', path, { roles: [WEB, 'MANAGE_PATIENT'] }), UNBOUNDED, path);
    }
  });

  test('J8 control: a WEB user with DELETE_PATIENT may $expunge', async () => {
    const response = await gw.call('POST', `Patient/${P1}/$expunge`, {
      roles: [WEB, 'GET_PATIENT', 'POST_PATIENT', 'DELETE_PATIENT'],
      body: { resourceType: 'Parameters' },
    });
    assert.notEqual(response.status, 403, response.text);
    assert.ok(gw.forwarded().includes(`POST /Patient/${P1}/$expunge`), gw.forwarded().join(' | '));
  });
});
