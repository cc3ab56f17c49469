import { getResourceTypes } from '@medplum/core';
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';

const typeInteractions: CapabilityStatementRestResource['interaction'] = [
  { code: 'read' },
  { code: 'vread' },
  { code: 'update' },
  { code: 'patch' },
  { code: 'delete' },
  { code: 'history-instance' },
  { code: 'create' },
  { code: 'search-type' },
];

/** A minimal R4 CapabilityStatement; fhir-router has no `/metadata`, so the wrapper serves this one. */
export function buildCapabilityStatement(baseUrl: string, date: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date,
    kind: 'instance',
    software: { name: 'local test FHIR server (@medplum/fhir-router in memory)' },
    implementation: { description: 'In-memory FHIR server for tests', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['json', 'xml'],
    rest: [
      {
        mode: 'server',
        resource: getResourceTypes().map((type) => ({ type, interaction: typeInteractions })),
        interaction: [{ code: 'batch' }, { code: 'transaction' }],
      },
    ],
  };
}
