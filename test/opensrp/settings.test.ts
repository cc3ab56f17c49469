import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readOpenSrpSettings } from '../../src/opensrp/settings.js';

describe('OpenSRP settings', () => {
  test('defaults: upstream tag systems, 300 s caches, no skip-list file', () => {
    const settings = readOpenSrpSettings({});
    assert.equal(settings.tagSystems.location, 'https://smartregister.org/location-tag-id');
    assert.equal(settings.tagSystems.organisation, 'https://smartregister.org/organisation-tag-id');
    assert.equal(settings.tagSystems.lineage, 'http://smartregister.org/CodeSystem/location-lineage');
    assert.equal(settings.cacheTtlSeconds, 300);
    assert.equal(settings.skipListFile, undefined);
  });

  test('cache TTL: upstream name, its legacy misspelling, and the README name', () => {
    assert.equal(readOpenSrpSettings({ opensrp_cache_timeout_seconds: '0' }).cacheTtlSeconds, 0);
    assert.equal(readOpenSrpSettings({ openrsp_cache_timeout_seconds: '60' }).cacheTtlSeconds, 60);
    assert.equal(readOpenSrpSettings({ OPENSRP_CACHE_EXPIRY_SECONDS: '90' }).cacheTtlSeconds, 90);
    assert.equal(
      readOpenSrpSettings({ opensrp_cache_timeout_seconds: '10', OPENSRP_CACHE_EXPIRY_SECONDS: '90' })
        .cacheTtlSeconds,
      10,
    );
  });

  test('bad values name the variable', () => {
    assert.throws(
      () => readOpenSrpSettings({ openrsp_cache_timeout_seconds: 'soon' }),
      /openrsp_cache_timeout_seconds/,
    );
    assert.throws(() => readOpenSrpSettings({ LOCATION_TAG_URL: 'not a url' }), /LOCATION_TAG_URL/);
  });

  test('Android config and assignment writes are off by default; flags take true/false/1/0', () => {
    assert.equal(readOpenSrpSettings({}).androidConfigWrites, false);
    assert.equal(readOpenSrpSettings({}).androidAssignmentWrites, false);
    assert.equal(readOpenSrpSettings({ OPENSRP_ANDROID_CONFIG_WRITES: 'TRUE' }).androidConfigWrites, true);
    assert.equal(
      readOpenSrpSettings({ OPENSRP_ANDROID_ASSIGNMENT_WRITES: '1' }).androidAssignmentWrites,
      true,
    );
    assert.equal(
      readOpenSrpSettings({ OPENSRP_ANDROID_ASSIGNMENT_WRITES: '0' }).androidAssignmentWrites,
      false,
    );
    assert.throws(
      () => readOpenSrpSettings({ OPENSRP_ANDROID_CONFIG_WRITES: 'yes' }),
      /OPENSRP_ANDROID_CONFIG_WRITES/,
    );
  });

  test('client-role clients are a trimmed comma list', () => {
    assert.deepEqual(
      readOpenSrpSettings({ OPENSRP_CLIENT_ROLE_CLIENTS: ' fhir-web , app ,' }).clientRoleClients,
      ['fhir-web', 'app'],
    );
  });
});
