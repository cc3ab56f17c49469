/**
 * Which patients a search (or a conditional write, or an If-None-Exist) names, and whether that
 * confines its matches to a set of patients.
 *
 * Each occurrence of a patient param (definitions.ts: `subject`, `patient`, `performer`, …; `_id` for
 * Patient) is one group: its comma-separated values are ORed, so every patient in it must be in
 * the set. Occurrences are ANDed, so one group inside the set confines every match to those
 * patients' compartments, whatever the other params say. A value that mixes patients with other
 * resources (`subject=Group/g,Patient/p`) is refused: the Group's matches would ride along
 * (google/fhir-gateway checked only the patients of such a list).
 *
 * Bare ids (`subject=123`) are rewritten to `Patient/123`: on a param that can point at other types
 * (Observation.subject: Group, Device, Location too) a bare id would match `Group/123` as well
 * (`ambiguous`), and some servers match reference params only by their typed form.
 */
import { type DeniedDecision, denied, type RequestMutation } from '../access/contract.js';
import { isFhirId } from '../fhir/ids.js';
import type { QueryParam } from '../fhir/request.js';
import { inPatientCompartment, patientSearchParams } from './definitions.js';
import type { PatientSet } from './membership.js';

export interface PatientGroup {
  /** The param as the client wrote it (`subject`, `subject:Patient`, `_id`). */
  readonly param: string;
  readonly ids: readonly string[];
}

export interface NamedPatients {
  readonly groups: readonly PatientGroup[];
  /** Rewrites bare ids to `Patient/<id>`; undefined when there are none. */
  readonly typed?: RequestMutation;
  /** True when a bare id sits on a param that can point at other types than Patient. */
  readonly ambiguous: boolean;
}

/**
 * The patient groups of a search of `type` with `query`.
 * @returns a DeniedDecision for a value that mixes patients with other resources (403) or an invalid id (400).
 */
export function namedPatients(type: string, query: readonly QueryParam[]): NamedPatients | DeniedDecision {
  const groups: PatientGroup[] = [];
  const params = patientSearchParams(type);
  const retyped = new Set<string>();
  let ambiguous = false;
  for (const { name, value } of query) {
    const [code = '', modifier] = name.split(':', 2);
    if (type === 'Patient') {
      if (name !== '_id') continue;
      const ids = value.split(',');
      if (ids.some((id) => !isFhirId(id))) return denied(`Invalid Patient id in _id=${value}`, 400);
      groups.push({ param: name, ids });
      continue;
    }
    const param = params.get(code);
    if (param === undefined || (modifier !== undefined && modifier !== 'Patient')) continue;
    const pieces = value.split(',');
    const ids = pieces.map((piece) => patientOfValue(piece));
    const patients = ids.filter((id): id is string => id !== undefined);
    if (patients.length === 0) continue;
    if (patients.length !== pieces.length) {
      return denied(
        `${name}=${value} mixes patients with other resources; a search may name patients or other resources in one value, not both`,
      );
    }
    if (pieces.some((piece) => !piece.includes('/'))) {
      retyped.add(name);
      if (param.multiTarget && modifier === undefined) ambiguous = true;
    }
    groups.push({ param: name, ids: patients });
  }
  if (retyped.size === 0) return { groups, ambiguous };
  const typed: QueryParam[] = query
    .filter((p) => retyped.has(p.name))
    .map((p) => ({ name: p.name, value: p.value.split(',').map(typedPiece).join(',') }));
  return { groups, ambiguous, typed: { discardParams: [...retyped], addParams: typed } };
}

/**
 * Whether a search of `type` is confined to `patients`: granted (with the id-typing mutation, if
 * any) when one patient group lies inside the set.
 */
export function confinedTo(
  type: string,
  query: readonly QueryParam[],
  patients: PatientSet,
  what = 'The search',
):
  | { readonly canAccess: true; readonly typed?: RequestMutation; readonly ambiguous: boolean }
  | DeniedDecision {
  if (!inPatientCompartment(type)) {
    return denied(
      `${type} resources belong to no patient's compartment, so ${patients.description} cannot reach them`,
    );
  }
  const named = namedPatients(type, query);
  if ('canAccess' in named) return named;
  if (named.groups.length === 0) {
    if (type === 'Patient')
      return denied(`${what} must name its patients with _id (in ${patients.description})`);
    const params = [...patientSearchParams(type).keys()].join(', ');
    return denied(`${what} of ${type} must name a patient with one of ${params}`, 400);
  }
  if (named.groups.some((group) => group.ids.every((id) => patients.has(id)))) {
    const ambiguous = named.ambiguous;
    return named.typed ? { canAccess: true, typed: named.typed, ambiguous } : { canAccess: true, ambiguous };
  }
  const outside = [...new Set(named.groups.flatMap((g) => g.ids.filter((id) => !patients.has(id))))].map(
    (id) => `Patient/${id}`,
  );
  return denied(`${what} names ${outside.join(', ')}, outside ${patients.description}`);
}

function patientOfValue(piece: string): string | undefined {
  const id = piece.startsWith('Patient/') ? piece.slice('Patient/'.length) : piece.includes('/') ? '' : piece;
  return isFhirId(id) ? id : undefined;
}

function typedPiece(piece: string): string {
  return piece.includes('/') ? piece : `Patient/${piece}`;
}
