/**
 * Which patient a FHIR reference names. Only what the FHIR server itself would read as a local
 * Patient counts: `Patient/<id>` (also `Patient/<id>/_history/<vid>`), the same under the
 * backend's own base URL, and, inside a Bundle, a `urn:uuid:` fullUrl of an entry that is a
 * Patient. Anything else (another type, another server, a logical or conditional reference) names
 * no patient.
 */
import { isFhirId } from '../fhir/ids.js';

/** Stands for a Patient that the same Bundle creates (its id is not known before it runs). */
export const NEW_PATIENT = '#new-patient';

export interface ReferenceContext {
  /** The FHIR server's base URL (PROXY_TO): absolute references under it are local. */
  readonly backendBase?: string;
  /**
   * Bundle-local references (`urn:uuid:…`, or an entry's fullUrl): to `Patient/<id>`, to
   * NEW_PATIENT, or to another `Type/id`; undefined when the Bundle has no such entry.
   */
  readonly resolve?: (reference: string) => string | undefined;
}

const LOCAL_PATIENT = /^Patient\/([^/]+)(?:\/_history\/[^/]+)?$/;

/** The patient id `reference` names, NEW_PATIENT, or undefined when it names no patient. */
export function patientIdOf(reference: string, context: ReferenceContext = {}): string | undefined {
  const resolved = context.resolve?.(reference);
  if (resolved === NEW_PATIENT) return NEW_PATIENT;
  const local = localPart(resolved ?? reference, context.backendBase);
  const match = local === undefined ? null : LOCAL_PATIENT.exec(local);
  return match && isFhirId(match[1]!) ? match[1] : undefined;
}

function localPart(reference: string, backendBase: string | undefined): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(reference)) return reference.replace(/^\//, '');
  if (backendBase && reference.startsWith(`${backendBase}/`)) return reference.slice(backendBase.length + 1);
  return undefined;
}
