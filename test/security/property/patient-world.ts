/**
 * Patient-centred worlds for the property test of the `patient` and `list` checkers (issue 10):
 * Patients; resources in and out of their compartments (Observations, Encounters, Conditions,
 * Lists and Groups pointing at one or several patients, at a Group, at nobody, or at a patient only
 * through a field outside the compartment such as `Observation.focus`); resources of no compartment
 * (Practitioner, Organization, Location, Device); access Lists; and callers whose tokens carry
 * `patient_id`, `patient_list` and SMART scopes (v1, v2, granular, malformed) as structured data,
 * so that the oracle knows what each scope says without parsing the string the gateway parses.
 */
import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { type ScopeSpec, scopeArb } from './patient-scopes.js';
import { CONDITION_CLINICAL, OBSERVATION_CATEGORY } from './requests.js';
import type { SeededWorld } from './world.js';

export type CheckerName = 'patient' | 'list' | 'patient,list';
export const CHECKERS: readonly CheckerName[] = ['patient', 'list', 'patient,list'];

export interface CallerSpec {
  /** A patient index (mod), or a claim the checker must refuse. */
  readonly patient: number | 'none' | 'invalid';
  /** An access List index (mod), a List that does not exist, or none. */
  readonly list: number | 'none' | 'missing';
  readonly scopes: readonly ScopeSpec[];
  /** The `scope` claim as an array rather than a space-separated string. */
  readonly scopeArray: boolean;
  readonly anonymous: boolean;
}

export interface PatientCaller extends CallerSpec {
  readonly index: number;
  readonly sub: string;
  readonly label: string;
  readonly patientId: string | undefined;
  readonly listId: string | undefined;
  readonly scopeClaim: string | readonly string[];
}

type Kind =
  | 'Observation'
  | 'Encounter'
  | 'Condition'
  | 'List'
  | 'Group'
  | 'Practitioner'
  | 'Organization'
  | 'Location'
  | 'Device';

interface DataSpec {
  readonly kind: Kind;
  /** Patient picks for the compartment fields; -1: a Group, -2: nobody, -3: a patient that does not exist. */
  readonly refs: readonly number[];
  /** A second compartment field (performer, asserter, source), or a patient outside it (focus). */
  readonly second: number | undefined;
  readonly focus: number | undefined;
  /** Picks among coded values (category, status, code, date) for granular criteria. */
  readonly codes: readonly [number, number, number, number];
}

export interface PatientWorldSpec {
  readonly checker: CheckerName;
  readonly patients: number;
  readonly data: readonly DataSpec[];
  /** Access Lists: patient picks (-1: a Group entry, -3: a patient that does not exist). */
  readonly lists: readonly (readonly number[])[];
  /** Gives each access List a subject (so that the patient checker may see it too). */
  readonly listSubject: boolean;
  readonly callers: readonly CallerSpec[];
}

const pick = fc.integer({ min: -3, max: 20 });

const dataArb: fc.Arbitrary<DataSpec> = fc.record({
  kind: fc.constantFrom<Kind>(
    'Observation',
    'Observation',
    'Observation',
    'Observation',
    'Encounter',
    'Encounter',
    'Condition',
    'Condition',
    'List',
    'Group',
    'Practitioner',
    'Organization',
    'Location',
    'Device',
  ),
  refs: fc.array(pick, { minLength: 1, maxLength: 2 }),
  second: fc.option(pick, { nil: undefined }),
  focus: fc.option(fc.nat(), { nil: undefined, freq: 4 }),
  codes: fc.tuple(fc.nat({ max: 5 }), fc.nat({ max: 3 }), fc.nat({ max: 3 }), fc.nat({ max: 3 })),
});

const callerArb: fc.Arbitrary<CallerSpec> = fc.record({
  patient: fc.oneof(
    { weight: 25, arbitrary: fc.nat() },
    { weight: 1, arbitrary: fc.constantFrom<'none' | 'invalid'>('none', 'invalid') },
  ),
  list: fc.oneof(
    { weight: 25, arbitrary: fc.nat() },
    { weight: 1, arbitrary: fc.constantFrom<'none' | 'missing'>('none', 'missing') },
  ),
  scopes: fc.array(scopeArb, { minLength: 1, maxLength: 4 }),
  scopeArray: fc.boolean(),
  anonymous: fc.oneof(
    { weight: 15, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});

export const patientWorldArb = (checker?: CheckerName): fc.Arbitrary<PatientWorldSpec> =>
  fc.record({
    checker: checker === undefined ? fc.constantFrom(...CHECKERS) : fc.constant(checker),
    patients: fc.integer({ min: 2, max: 5 }),
    data: fc.array(dataArb, { minLength: 8, maxLength: 24 }),
    lists: fc.array(fc.array(fc.integer({ min: -3, max: 10 }), { maxLength: 3 }), {
      minLength: 1,
      maxLength: 2,
    }),
    listSubject: fc.boolean(),
    callers: fc.array(callerArb, { minLength: 2, maxLength: 4 }),
  });

/** Patient worlds seed no Locations (`locations` is empty). */
export type PatientWorld = SeededWorld<PatientWorldSpec, PatientCaller>;

const ref = (reference: string) => ({ reference });

export function buildPatientWorld(spec: PatientWorldSpec): PatientWorld {
  const resources: Resource[] = [];
  const patients = Array.from({ length: spec.patients }, (_, i) => `pat-${i}`);
  const patientRef = (n: number): string | undefined =>
    n === -1
      ? 'Group/grp-x'
      : n === -2
        ? undefined
        : n === -3
          ? 'Patient/pat-ghost'
          : `Patient/${patients[n % patients.length]}`;

  patients.forEach((id, i) => {
    resources.push({
      resourceType: 'Patient',
      id,
      name: [{ family: `Family-${id}`, given: ['Test'] }],
      gender: i % 2 === 0 ? 'female' : 'male',
      birthDate: i % 3 === 0 ? '1990-04-01' : '2005-09-01',
      // A link names another patient, which does not put this one in its compartment.
      ...(i > 0 && i % 2 === 1
        ? { link: [{ other: ref(`Patient/${patients[i - 1]}`), type: 'seealso' }] }
        : {}),
      ...(i % 2 === 0 ? { generalPractitioner: [ref('Practitioner/prac-gp')] } : {}),
    } as Resource);
  });
  resources.push({ resourceType: 'Practitioner', id: 'prac-gp', name: [{ family: 'GP' }] });
  resources.push({ resourceType: 'Group', id: 'grp-x', type: 'person', actual: true });

  const accessLists = spec.lists.map((members, k) => {
    const id = `access-${k}`;
    resources.push({
      resourceType: 'List',
      id,
      status: 'current',
      mode: 'working',
      title: `Access ${k}`,
      ...(spec.listSubject && members[0] !== undefined && members[0] >= 0
        ? { subject: ref(patientRef(members[0])!) }
        : {}),
      entry: members.flatMap((m) => {
        const r = patientRef(m);
        return r ? [{ item: ref(r) }] : [];
      }),
    } as Resource);
    return id;
  });

  spec.data.forEach((d, n) => {
    const [c0, c1, c2, c3] = d.codes;
    const subject = patientRef(d.refs[0]!);
    const second = d.second === undefined ? undefined : patientRef(d.second);
    const focus = d.focus === undefined ? undefined : `Patient/${patients[d.focus % patients.length]}`;
    switch (d.kind) {
      case 'Observation':
        resources.push({
          resourceType: 'Observation',
          id: `obs-${n}`,
          status: (['final', 'amended', 'preliminary', 'final'] as const)[c1]!,
          ...observationCategory(c0),
          code:
            c2 === 3
              ? { text: 'free text' }
              : { coding: [{ system: 'http://loinc.org', code: ['1234-5', '9999-9', '1234-5'][c2]! }] },
          ...(c3 === 0 ? {} : { effectiveDateTime: ['2023-06-01', '2024-06-01', '2024-01-01'][c3 - 1]! }),
          ...(subject ? { subject: ref(subject) } : {}),
          ...(second ? { performer: [ref(second)] } : {}),
          ...(focus ? { focus: [ref(focus)] } : {}),
        } as Resource);
        break;
      case 'Encounter':
        resources.push({
          resourceType: 'Encounter',
          id: `enc-${n}`,
          status: c1 % 2 === 0 ? 'finished' : 'in-progress',
          class: { code: 'AMB' },
          ...(subject ? { subject: ref(subject) } : {}),
        } as Resource);
        break;
      case 'Condition':
        resources.push({
          resourceType: 'Condition',
          id: `cond-${n}`,
          clinicalStatus: {
            coding: [{ system: CONDITION_CLINICAL, code: c1 % 2 === 0 ? 'active' : 'resolved' }],
          },
          ...(c0 % 3 === 2
            ? {}
            : {
                category: [
                  {
                    coding: [
                      {
                        system: 'http://terminology.hl7.org/CodeSystem/condition-category',
                        code: c0 % 3 === 0 ? 'problem-list-item' : 'encounter-diagnosis',
                      },
                    ],
                  },
                ],
              }),
          subject: ref(subject ?? 'Group/grp-x'),
          ...(second ? { asserter: ref(second) } : {}),
        } as Resource);
        break;
      case 'List':
        resources.push({
          resourceType: 'List',
          id: `list-${n}`,
          status: c1 % 2 === 0 ? 'current' : 'retired',
          mode: 'working',
          ...(subject ? { subject: ref(subject) } : {}),
          ...(second ? { source: ref(second) } : {}),
          entry: d.refs.flatMap((r) => {
            const item = patientRef(r);
            return item ? [{ item: ref(item) }] : [];
          }),
        } as Resource);
        break;
      case 'Group':
        resources.push({
          resourceType: 'Group',
          id: `grp-${n}`,
          type: 'person',
          actual: true,
          member: d.refs.flatMap((r) => {
            const entity = patientRef(r);
            return entity ? [{ entity: ref(entity) }] : [];
          }),
        } as Resource);
        break;
      case 'Practitioner':
        resources.push({ resourceType: 'Practitioner', id: `prac-${n}`, name: [{ family: `P${n}` }] });
        break;
      case 'Organization':
        resources.push({ resourceType: 'Organization', id: `org-${n}`, name: `O${n}` });
        break;
      case 'Location':
        resources.push({ resourceType: 'Location', id: `loc-${n}`, name: `L${n}` });
        break;
      case 'Device':
        resources.push({
          resourceType: 'Device',
          id: `dev-${n}`,
          ...(subject?.startsWith('Patient/') ? { patient: ref(subject) } : {}),
        } as Resource);
        break;
    }
  });

  const users: PatientCaller[] = spec.callers.map((c, index) => {
    const patientId =
      c.patient === 'none'
        ? undefined
        : c.patient === 'invalid'
          ? 'not a valid id!'
          : patients[c.patient % patients.length];
    const listId =
      c.list === 'none'
        ? undefined
        : c.list === 'missing'
          ? 'access-missing'
          : accessLists[c.list % accessLists.length];
    const texts = c.scopes.map((s) => s.text);
    return {
      ...c,
      index,
      sub: `smart-u${index}`,
      patientId,
      listId,
      scopeClaim: c.scopeArray ? ['openid', ...texts] : ['openid', 'launch/patient', ...texts].join(' '),
      label: `u${index}(${c.anonymous ? 'no token' : `patient_id=${patientId ?? '-'} patient_list=${listId ?? '-'} scope="${texts.join(' ')}"`})`,
    };
  });

  const ids = new Map<string, string[]>();
  for (const r of resources) ids.set(r.resourceType, [...(ids.get(r.resourceType) ?? []), r.id!]);
  return { spec, users, resources, locations: [], ids, writable: ids };
}

/** Category codings: laboratory, vital-signs, survey, none, laboratory of another system, two codings. */
function observationCategory(c: number): Record<string, unknown> {
  const coding = (code: string, system = OBSERVATION_CATEGORY) => ({ system, code });
  const codings = [
    [coding('laboratory')],
    [coding('vital-signs')],
    [coding('survey')],
    undefined,
    [coding('laboratory', 'http://example.org/categories')],
    [coding('laboratory'), coding('vital-signs')],
  ][c];
  return codings ? { category: [{ coding: codings }] } : {};
}
