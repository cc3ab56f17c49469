import { getSearchParameter } from '@medplum/core';

/**
 * Picks the search parameter that turns a compartment search (`Patient/123/Observation`) into a type
 * search (`Observation?patient=Patient/123`); fhir-router has no compartment routes.
 * Returns undefined when the target type has no such parameter.
 */
export function compartmentSearchParam(compartmentType: string, targetType: string): string | undefined {
  const candidates = [compartmentType.charAt(0).toLowerCase() + compartmentType.slice(1), 'subject'];
  return candidates.find((code) => getSearchParameter(targetType, code) !== undefined);
}
