import type { Patient } from '@medplum/fhirtypes';

export interface SeedPatientsOptions {
  /** Tag system for `meta.tag`; defaults to OpenSRP's organisation tag. */
  tagSystem?: string;
  /** Codes handed out round-robin: patient 1 gets the first code, patient 2 the second, … No codes, no tags. */
  tagCodes?: string[];
}

export const DEFAULT_SEED_TAG_SYSTEM = 'https://smartregister.org/organisation-tag-id';

/** Deterministic simple Patients with ids `pat-1` … `pat-<count>`. */
export function seedPatients(count: number, options: SeedPatientsOptions = {}): Patient[] {
  const tagSystem = options.tagSystem ?? DEFAULT_SEED_TAG_SYSTEM;
  const tagCodes = options.tagCodes ?? [];
  const patients: Patient[] = [];
  for (let n = 1; n <= count; n++) {
    const tagCode = tagCodes.length > 0 ? tagCodes[(n - 1) % tagCodes.length] : undefined;
    patients.push({
      resourceType: 'Patient',
      id: `pat-${n}`,
      ...(tagCode === undefined ? {} : { meta: { tag: [{ system: tagSystem, code: tagCode }] } }),
      active: true,
      identifier: [{ system: 'urn:example:seed-patient', value: String(n) }],
      name: [{ family: `Family${n}`, given: [`Given${n}`] }],
      gender: n % 2 === 1 ? 'female' : 'male',
      birthDate: `${1950 + (n % 60)}-${pad((n % 12) + 1)}-${pad((n % 28) + 1)}`,
    });
  }
  return patients;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
