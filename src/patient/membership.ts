/**
 * Whose compartment a resource is in: the patients its compartment params point at
 * (definitions.ts), or, for a Patient, its own id. The same rule decides what a caller may see,
 * which resources a write may create, and what a write may leave behind.
 */
import { evalFhirPath } from '@medplum/core';
import { compartmentParams } from './definitions.js';
import { type ReferenceContext, patientIdOf } from './references.js';

/** A set of patients a caller may act for: one patient, or the members of a List. */
export interface PatientSet {
  has(patientId: string): boolean;
  /** For reasons shown to the client: `Patient/123` or `the patients of List/abc`. */
  readonly description: string;
}

/** The ids of the patients whose compartment `resource` is in (NEW_PATIENT for Bundle-created ones). */
export function patientsOf(resource: unknown, context: ReferenceContext = {}): Set<string> {
  const found = new Set<string>();
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) return found;
  const { resourceType, id } = resource as { resourceType?: unknown; id?: unknown };
  if (typeof resourceType !== 'string') return found;
  if (resourceType === 'Patient') {
    if (typeof id === 'string') found.add(id);
    return found;
  }
  for (const param of compartmentParams(resourceType)) {
    let values: unknown[];
    try {
      values = evalFhirPath(param.expression, resource);
    } catch {
      continue; // a value the expression cannot walk names nobody
    }
    for (const value of values) {
      const reference = (value as { reference?: unknown } | null)?.reference;
      if (typeof reference !== 'string') continue;
      const patient = patientIdOf(reference, context);
      if (patient !== undefined) found.add(patient);
    }
  }
  return found;
}

/** True when `resource` is in the compartment of a patient of `patients`. */
export function inCompartmentOf(
  resource: unknown,
  patients: PatientSet,
  context?: ReferenceContext,
): boolean {
  for (const id of patientsOf(resource, context)) if (patients.has(id)) return true;
  return false;
}
