/**
 * UtilsTest (Composition sections, findSyncStrategy) and the strategy errors, which the Java plugin
 * answers with 500: here a 403 that names what is misconfigured, and nothing is forwarded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Binary, Composition, CompositionSection, Resource } from '@medplum/fhirtypes';
import { applicationReference } from '../../../src/opensrp/sync/strategy.js';
import { PERSONAS } from '../../support/opensrp-dataset.js';
import { diagnostics, idsIn, type SyncStack, searchesOf, startSyncStack } from './sync-stack.js';

function app(appId: string, sections: CompositionSection[], config?: unknown): Resource[] {
  const composition: Composition = {
    resourceType: 'Composition',
    id: `composition-${appId}`,
    identifier: { value: appId },
    status: 'final',
    type: { text: 'Application' },
    date: '2024-01-01',
    author: [{ display: 'test' }],
    title: appId,
    section: sections,
  };
  const binary: Binary = {
    resourceType: 'Binary',
    id: `binary-${appId}`,
    contentType: 'application/json',
    data: Buffer.from(JSON.stringify(config ?? {})).toString('base64'),
  };
  return config === undefined ? [composition] : [composition, binary];
}

const applicationSection = (appId: string): CompositionSection => ({
  focus: { reference: `Binary/binary-${appId}`, identifier: { value: 'application' } },
});

describe('sync strategy from the app configuration', () => {
  let s: SyncStack;
  before(async () => {
    s = await startSyncStack({
      seed: [
        ...app('app-nosection', [
          { title: 'Questionnaires', focus: { reference: 'Questionnaire/q-registration' } },
        ]),
        ...app('app-nobinary', [
          { focus: { reference: 'Binary/missing', identifier: { value: 'application' } } },
        ]),
        ...app('app-nostrategy', [applicationSection('app-nostrategy')], { appId: 'app-nostrategy' }),
        ...app('app-unknown', [applicationSection('app-unknown')], { syncStrategy: ['Household'] }),
        ...app(
          'app-nested',
          [
            {
              title: 'outer',
              focus: { identifier: { value: 'application' } },
              section: [applicationSection('app-nested')],
            },
          ],
          { syncStrategy: ['location', 'Organization'] },
        ),
      ],
    });
  });
  after(() => s.close());

  const callAs = async (appId: string) =>
    s.call(await s.token({ claims: { fhir_core_app_id: appId } }), 'Patient');

  for (const [appId, message] of [
    ['app-missing', /No Composition found for application id 'app-missing'/],
    ['app-nosection', /no section whose focus identifier is 'application'/],
    ['app-nobinary', /Binary\/missing' of app 'app-nobinary' does not exist/],
    ['app-nostrategy', /names no syncStrategy/],
    ['app-unknown', /sync strategy 'Household' of app 'app-unknown' is not supported/],
  ] as const) {
    test(`${appId}: 403 naming the misconfiguration, nothing forwarded`, async () => {
      const response = await callAs(appId);
      assert.equal(response.status, 403);
      assert.match(diagnostics(response), message);
      assert.equal(searchesOf(s.received(), 'Patient').length, 0);
    });
  }

  test('nested application section and a lower-case strategy name (first of many) work', async () => {
    const response = await callAs('app-nested');
    assert.equal(response.status, 200);
    assert.deepEqual(
      idsIn(response),
      s.dataset.patientsIn(s.dataset.subtreeOf(PERSONAS.worker.facility)).sort(),
    );
  });

  test('Composition, Binary and ImplementationGuide requests of an Android user are never narrowed', async () => {
    const token = await s.token({ claims: { fhir_core_app_id: 'app-missing' } });
    for (const path of [
      'Composition?identifier=app-location',
      'Binary/app-config-app-location',
      'ImplementationGuide',
    ]) {
      const response = await s.call(token, path);
      assert.equal(response.status, 200, path);
      assert.equal(new URLSearchParams(s.received()[0]!.query).has('_tag'), false, path);
    }
  });
});

describe('applicationReference (UtilsTest: Composition section search)', () => {
  const focus = (value?: string, reference?: string): CompositionSection => ({
    focus: { ...(reference ? { reference } : {}), ...(value ? { identifier: { value } } : {}) },
  });

  test('finds the application section at the top level', () => {
    assert.equal(
      applicationReference([focus('other', 'Binary/a'), focus('application', 'Binary/b')]),
      'Binary/b',
    );
  });

  test('searches nested sections, and the children of a matching section without a reference', () => {
    const nested = {
      ...focus('application'),
      section: [focus('x', 'Binary/x'), focus('application', 'Binary/deep')],
    };
    assert.equal(applicationReference([nested, focus('application', 'Binary/later')]), 'Binary/deep');
  });

  test('no sections, no focus, no identifier → undefined', () => {
    assert.equal(applicationReference([]), undefined);
    assert.equal(applicationReference([{ title: 'no focus' }, focus(undefined, 'Binary/a')]), undefined);
  });
});
