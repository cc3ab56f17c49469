import type { OrganizationAffiliation, Resource } from '@medplum/fhirtypes';
import { BUILT_IN_CHECKERS } from '../src/checkers/index.js';
import { startNodeChild } from './processes.js';
import type { LocalIssuer } from '../test/support/issuer.js';
import {
  APP_IDS,
  buildOpenSrpDataset,
  type DatasetShape,
  PERSONAS,
} from '../test/support/opensrp-dataset.js';

/** country → 10 districts → 9 facilities each → 10 villages each: 1,001 Locations. */
export const TREE_1K: DatasetShape = {
  districts: 10,
  facilitiesPerDistrict: 9,
  villagesPerFacility: 10,
  patientsPerVillage: 0,
};
/** country → 10 districts → 10 facilities each → 99 villages each: 10,011 Locations. */
export const TREE_10K: DatasetShape = {
  districts: 10,
  facilitiesPerDistrict: 10,
  villagesPerFacility: 99,
  patientsPerVillage: 0,
};

export const OPENSRP_CHECKER = 'permission';

/** The `permission` checker is written in src/opensrp/; until it is registered, OpenSRP rows print "pending". */
export function openSrpAvailable(): boolean {
  return BUILT_IN_CHECKERS.some((factory) => factory.name === OPENSRP_CHECKER);
}

/**
 * The shared OpenSRP dataset with one change: the worker's team is assigned to the root Location,
 * so the worker's Location strategy covers the whole tree. The other team keeps its one facility
 * (11 Locations).
 */
export function openSrpWorldResources(shape: DatasetShape): {
  resources: Resource[];
  root: string;
  locationCount: number;
} {
  const dataset = buildOpenSrpDataset(shape);
  const root = dataset.locations.country;
  const resources: Resource[] = dataset.resources.map((resource) =>
    resource.resourceType === 'OrganizationAffiliation' &&
    resource.id === `affiliation-${PERSONAS.worker.organizationId}`
      ? ({ ...resource, location: [{ reference: `Location/${root}` }] } satisfies OrganizationAffiliation)
      : resource,
  );
  return { resources, root, locationCount: resources.filter((r) => r.resourceType === 'Location').length };
}

/** Backend calls, by resource type (`Location`, `Composition`, …). */
export interface BackendCalls {
  total: number;
  byType: Record<string, number>;
}

/** The in-memory FHIR server holding an OpenSRP world, in its own process (bench/fhir-process.ts). */
export interface OpenSrpWorld {
  readonly baseUrl: string;
  readonly locationCount: number;
  readonly root: string;
  close(): Promise<void>;
}

export async function startOpenSrpWorld(tree: '1k' | '10k'): Promise<OpenSrpWorld> {
  const child = await startNodeChild('fhir-process.ts', { TREE: tree });
  const info = (await (await fetch(`${new URL(child.url).origin}/__bench/world`)).json()) as {
    locationCount: number;
    root: string;
  };
  return {
    baseUrl: child.url,
    locationCount: info.locationCount,
    root: info.root,
    close: () => child.stop(),
  };
}

/** ANDROID_CLIENT tokens with the Location strategy: the worker (whole tree) and the other (one facility). */
export async function openSrpTokens(issuer: LocalIssuer): Promise<{ worker: string; other: string }> {
  const claims = (sub: string) => ({
    sub,
    preferred_username: sub,
    fhir_core_app_id: APP_IDS.Location,
    realm_access: { roles: ['ANDROID_CLIENT', 'GET_PATIENT', 'GET_LOCATION'] },
  });
  return {
    worker: await issuer.mint(claims(PERSONAS.worker.sub), { expiresInSeconds: 3600 }),
    other: await issuer.mint(claims(PERSONAS.other.sub), { expiresInSeconds: 3600 }),
  };
}
