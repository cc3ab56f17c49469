import type {
  Binary,
  CareTeam,
  Composition,
  List,
  Location,
  Observation,
  Organization,
  OrganizationAffiliation,
  Patient,
  Practitioner,
  PractitionerRole,
  Questionnaire,
  Resource,
} from '@medplum/fhirtypes';

/**
 * An OpenSRP-shaped dataset for tests, the demo and the benchmarks: an app config per sync
 * strategy, a country → district → facility → village Location tree, practitioners with their
 * teams, and patients and observations tagged the way the Android app tags them.
 */

export const TAG_SYSTEMS = {
  location: 'https://smartregister.org/location-tag-id',
  organisation: 'https://smartregister.org/organisation-tag-id',
  careTeam: 'https://smartregister.org/care-team-tag-id',
  relatedEntityLocation: 'https://smartregister.org/related-entity-location-tag-id',
  practitioner: 'https://smartregister.org/practitioner-tag-id',
  lineage: 'http://smartregister.org/CodeSystem/location-lineage',
  adminLevel: 'https://smartregister.org/codes/administrative-level',
} as const;

/** `fhir_core_app_id` values; each app's config names one sync strategy. */
export const APP_IDS = {
  Location: 'app-location',
  Organization: 'app-organization',
  CareTeam: 'app-careteam',
  RelatedEntityLocation: 'app-rel',
  Practitioner: 'app-practitioner',
} as const;

export type SyncStrategy = keyof typeof APP_IDS;

/**
 * Personas. `worker` is assigned (CareTeam → Organization → OrganizationAffiliation) to facility
 * `loc-d1-f1`; `other` to facility `loc-d2-f1`; `supervisor` leads the worker's team.
 */
export const PERSONAS = {
  worker: {
    sub: 'kc-worker',
    practitionerId: 'prac-worker',
    organizationId: 'org-1',
    careTeamId: 'team-1',
    facility: 'loc-d1-f1',
  },
  other: {
    sub: 'kc-other',
    practitionerId: 'prac-other',
    organizationId: 'org-2',
    careTeamId: 'team-2',
    facility: 'loc-d2-f1',
  },
  supervisor: {
    sub: 'kc-supervisor',
    practitionerId: 'prac-supervisor',
    organizationId: 'org-1',
    careTeamId: 'team-1',
    facility: 'loc-d1-f1',
  },
} as const;

export interface DatasetShape {
  districts: number;
  facilitiesPerDistrict: number;
  villagesPerFacility: number;
  patientsPerVillage: number;
}

export const SMALL_SHAPE: DatasetShape = {
  districts: 2,
  facilitiesPerDistrict: 2,
  villagesPerFacility: 3,
  patientsPerVillage: 2,
};

export interface OpenSrpDataset {
  resources: Resource[];
  /** Every Location id by level. */
  locations: { country: string; districts: string[]; facilities: string[]; villages: string[] };
  /** The ids in a persona's facility subtree (the facility and its villages). */
  subtreeOf(facility: string): string[];
  /** Patient ids living in the given villages. */
  patientsIn(villages: readonly string[]): string[];
}

const tag = (system: string, code: string) => ({ system, code });

function location(
  id: string,
  name: string,
  level: number,
  parent: string | undefined,
  ancestors: string[],
): Location {
  return {
    resourceType: 'Location',
    id,
    name,
    status: 'active',
    ...(parent ? { partOf: { reference: `Location/${parent}` } } : {}),
    type: [{ coding: [{ system: TAG_SYSTEMS.adminLevel, code: String(level) }] }],
    meta: { tag: ancestors.map((a) => tag(TAG_SYSTEMS.lineage, a)) },
  };
}

export function buildOpenSrpDataset(shape: DatasetShape = SMALL_SHAPE): OpenSrpDataset {
  const resources: Resource[] = [];
  const country = 'loc-country';
  const districts: string[] = [];
  const facilities: string[] = [];
  const villages: string[] = [];
  const villagesOf = new Map<string, string[]>();
  const patientsOf = new Map<string, string[]>();
  resources.push(location(country, 'Country', 0, undefined, []));
  for (let d = 1; d <= shape.districts; d++) {
    const district = `loc-d${d}`;
    districts.push(district);
    resources.push(location(district, `District ${d}`, 1, country, [country]));
    for (let f = 1; f <= shape.facilitiesPerDistrict; f++) {
      const facility = `${district}-f${f}`;
      facilities.push(facility);
      villagesOf.set(facility, []);
      resources.push(location(facility, `Facility ${d}.${f}`, 2, district, [country, district]));
      for (let v = 1; v <= shape.villagesPerFacility; v++) {
        const village = `${facility}-v${v}`;
        villages.push(village);
        villagesOf.get(facility)!.push(village);
        resources.push(
          location(village, `Village ${d}.${f}.${v}`, 3, facility, [country, district, facility]),
        );
      }
    }
  }

  resources.push(...appConfigs(), ...people());
  for (const village of villages) {
    const facility = village.replace(/-v\d+$/, '');
    const team = ownerOf(facility);
    const ids: string[] = [];
    for (let p = 1; p <= shape.patientsPerVillage; p++) {
      const id = `pat-${village.slice(4)}-${p}`;
      ids.push(id);
      const tags = [
        tag(TAG_SYSTEMS.location, village),
        tag(TAG_SYSTEMS.organisation, team.organizationId),
        tag(TAG_SYSTEMS.careTeam, team.careTeamId),
        tag(TAG_SYSTEMS.relatedEntityLocation, village),
        tag(TAG_SYSTEMS.practitioner, team.practitionerId),
      ];
      const patient: Patient = {
        resourceType: 'Patient',
        id,
        meta: { tag: tags },
        name: [{ family: `Family-${id}`, given: ['Test'] }],
        gender: p % 2 === 0 ? 'female' : 'male',
      };
      const observation: Observation = {
        resourceType: 'Observation',
        id: `obs-${id.slice(4)}`,
        meta: { tag: tags },
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
        subject: { reference: `Patient/${id}` },
        valueQuantity: { value: 60 + p, unit: 'kg' },
      };
      resources.push(patient, observation);
    }
    patientsOf.set(village, ids);
  }
  return {
    resources,
    locations: { country, districts, facilities, villages },
    subtreeOf: (facility) => [facility, ...(villagesOf.get(facility) ?? [])],
    patientsIn: (vs) => vs.flatMap((v) => patientsOf.get(v) ?? []),
  };
}

/** Facilities of district 1 belong to team 1 (org-1), the others to team 2 (org-2). */
function ownerOf(facility: string) {
  return facility.startsWith('loc-d1-') ? PERSONAS.worker : PERSONAS.other;
}

function appConfigs(): Resource[] {
  const resources: Resource[] = [];
  for (const [strategy, appId] of Object.entries(APP_IDS)) {
    const binaryId = `app-config-${appId}`;
    const config = { appId, configType: 'application', syncStrategy: [strategy] };
    const binary: Binary = {
      resourceType: 'Binary',
      id: binaryId,
      contentType: 'application/json',
      data: Buffer.from(JSON.stringify(config)).toString('base64'),
    };
    const composition: Composition = {
      resourceType: 'Composition',
      id: `composition-${appId}`,
      identifier: { use: 'official', value: appId },
      status: 'final',
      type: { coding: [{ system: 'http://snomed.info/sct', code: '1156600005', display: 'Application' }] },
      date: '2024-01-01',
      author: [{ reference: 'Practitioner/prac-supervisor' }],
      title: `Config for ${appId}`,
      section: [
        {
          title: 'Application',
          focus: { reference: `Binary/${binaryId}`, identifier: { value: 'application' } },
        },
        {
          title: 'Questionnaires',
          section: [
            { focus: { reference: 'Questionnaire/q-registration', identifier: { value: 'q-registration' } } },
          ],
        },
        {
          title: 'Resources',
          focus: { reference: 'List/config-list', identifier: { value: 'config-list' } },
        },
      ],
    };
    resources.push(binary, composition);
  }
  const questionnaire: Questionnaire = {
    resourceType: 'Questionnaire',
    id: 'q-registration',
    status: 'active',
    title: 'Patient registration',
    item: [{ linkId: 'name', text: 'Name', type: 'string' }],
  };
  const list: List = {
    resourceType: 'List',
    id: 'config-list',
    status: 'current',
    mode: 'working',
    entry: [
      { item: { reference: 'Questionnaire/q-registration' } },
      { item: { reference: 'Location/loc-d1-f1' } },
      { item: { reference: 'Location/loc-d2-f1' } },
    ],
  };
  resources.push(questionnaire, list);
  return resources;
}

function people(): Resource[] {
  const resources: Resource[] = [];
  for (const persona of Object.values(PERSONAS)) {
    const practitioner: Practitioner = {
      resourceType: 'Practitioner',
      id: persona.practitionerId,
      identifier: [
        { use: 'official', value: persona.practitionerId },
        { use: 'secondary', value: persona.sub },
      ],
      active: true,
      name: [{ family: persona.practitionerId }],
    };
    const role: PractitionerRole = {
      resourceType: 'PractitionerRole',
      id: `role-${persona.practitionerId}`,
      active: true,
      practitioner: { reference: `Practitioner/${persona.practitionerId}` },
      organization: { reference: `Organization/${persona.organizationId}` },
    };
    resources.push(practitioner, role);
  }
  for (const team of [PERSONAS.worker, PERSONAS.other]) {
    const organization: Organization = {
      resourceType: 'Organization',
      id: team.organizationId,
      active: true,
      name: team.organizationId,
    };
    const members = Object.values(PERSONAS).filter((p) => p.careTeamId === team.careTeamId);
    const careTeam: CareTeam = {
      resourceType: 'CareTeam',
      id: team.careTeamId,
      status: 'active',
      name: team.careTeamId,
      managingOrganization: [{ reference: `Organization/${team.organizationId}` }],
      participant: members.map((m) => ({ member: { reference: `Practitioner/${m.practitionerId}` } })),
    };
    const affiliation: OrganizationAffiliation = {
      resourceType: 'OrganizationAffiliation',
      id: `affiliation-${team.organizationId}`,
      active: true,
      organization: { reference: `Organization/${team.organizationId}` },
      location: [{ reference: `Location/${team.facility}` }],
    };
    resources.push(organization, careTeam, affiliation);
  }
  return resources;
}
