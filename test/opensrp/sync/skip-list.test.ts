/**
 * SyncAccessDecisionTest skip-list cases: the shipped file exempts config resource types; the list
 * form of a param value exempts only that exact set of ids (order-insensitive).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../../../src/config/config-error.js';
import { loadSkipList, parseSkipList } from '../../../src/opensrp/sync/skip-list.js';
import { type SyncStack, searchesOf, startSyncStack, tagValuesOf } from './sync-stack.js';

const listFile = JSON.stringify({
  entries: [
    { path: 'Questionnaire', methodType: 'GET', queryParams: { _id: 'ANY_VALUE' } },
    { path: 'StructureMap', methodType: 'GET', queryParams: { _id: ['1000', '2000', '3000'] } },
  ],
});

describe('skip-list matching', () => {
  const list = parseSkipList(listFile, 'test');
  const q = (path: string, params: Record<string, string> = {}, method = 'GET') => ({
    path,
    method,
    query: Object.entries(params).map(([name, value]) => ({ name, value })),
  });

  test('ANY_VALUE matches with or without the param, only on the exact path and method', () => {
    assert.equal(list.matches(q('Questionnaire', { _id: 'a' })), true);
    assert.equal(list.matches(q('Questionnaire')), true);
    assert.equal(list.matches(q('Questionnaire/_search', { _id: 'a' })), false);
    assert.equal(list.matches(q('Questionnaire', { _id: 'a' }, 'POST')), false);
    assert.equal(list.matches(q('Patient', { _id: 'a' })), false);
  });

  test('a list value matches the same ids in any order, not a subset', () => {
    assert.equal(list.matches(q('StructureMap', { _id: '3000,1000,2000' })), true);
    assert.equal(list.matches(q('StructureMap', { _id: '1000,2000' })), false);
  });

  test('the shipped default file loads and exempts the config types', () => {
    const shipped = loadSkipList(undefined);
    for (const type of [
      'Questionnaire',
      'StructureMap',
      'List',
      'PlanDefinition',
      'Library',
      'Measure',
      'ActivityDefinition',
      'CodeSystem',
      'ConceptMap',
      'Device',
      'StructureDefinition',
    ]) {
      assert.equal(shipped.matches(q(type, { _id: 'x' })), true, type);
    }
    assert.equal(shipped.matches(q('LocationHierarchy', { identifier: 'x' })), true);
    assert.equal(shipped.matches(q('PractitionerDetail', { 'keycloak-uuid': 'x' })), true);
    assert.equal(shipped.matches(q('Patient', { _id: 'x' })), false);
  });

  test('a broken file is a ConfigError naming SYNC_FILTER_IGNORE_RESOURCES_FILE', () => {
    assert.throws(
      () => parseSkipList('{"entries":[{"methodType":"GET"}]}', 'f.json'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, 'SYNC_FILTER_IGNORE_RESOURCES_FILE');
        assert.match(error.message, /entries\[0\]\.path/);
        return true;
      },
    );
    assert.throws(() => parseSkipList('{}', 'f.json'), ConfigError);
    assert.throws(() => loadSkipList('/nonexistent/skip.json'), /cannot be read/);
  });
});

describe('skip-list in the gateway (SYNC_FILTER_IGNORE_RESOURCES_FILE)', () => {
  let s: SyncStack;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skip-list-'));
    const file = join(dir, 'skip.json');
    writeFileSync(file, listFile);
    s = await startSyncStack({ env: { SYNC_FILTER_IGNORE_RESOURCES_FILE: file } });
  });
  after(() => s.close());

  const narrowed = async (path: string) => {
    const response = await s.call(await s.token(), path);
    assert.equal(response.status, 200, `${path}: ${response.text}`);
    const type = path.split('?')[0]!;
    return tagValuesOf(searchesOf(s.received(), type)[0]!).length > 0;
  };

  test('Questionnaire without _id → no mutation', async () => {
    assert.equal(await narrowed('Questionnaire'), false);
  });

  test('StructureMap _id=1000,2000,3000 matching the list → no mutation', async () => {
    assert.equal(await narrowed('StructureMap?_id=1000,2000,3000'), false);
  });

  test('StructureMap _id=1000,2000 → filtered', async () => {
    assert.equal(await narrowed('StructureMap?_id=1000,2000'), true);
  });

  test('Patient (not in the skip-list) → exactly one added _tag param', async () => {
    assert.equal(await narrowed('Patient'), true);
    const [search] = searchesOf(s.received(), 'Patient');
    assert.equal(tagValuesOf(search!).length, 1);
  });

  test('a type missing from this file (List) is narrowed', async () => {
    assert.equal(await narrowed('List'), true);
  });
});
