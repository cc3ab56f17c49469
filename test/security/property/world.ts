/**
 * A generated world for the property test: a small Location tree, users of generated client roles,
 * roles and assignments (Practitioner → CareTeam or PractitionerRole → Organization →
 * OrganizationAffiliation → Locations, as test/support/opensrp-dataset.ts builds them), and data
 * tagged with generated Locations (some untagged, some tagged with other systems or unknown codes),
 * the app configuration of the Location strategy, and exempt types (Composition, Binary,
 * ImplementationGuide, skip-listed Questionnaire and List).
 */
import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { TAG_SYSTEMS } from '../../support/opensrp-dataset.js';

export const APP_ID = 'app-location';
export const OTHER_TAG_SYSTEM = 'http://example.org/not-a-sync-tag';

/** Types roles are generated for (the data types, the assignment types, config and containers). */
export const ROLE_TYPES = [
  'Patient',
  'Observation',
  'Encounter',
  'List',
  'Location',
  'Composition',
  'Binary',
  'Questionnaire',
  'Bundle',
  'Practitioner',
  'PractitionerRole',
  'CareTeam',
  'Organization',
  'OrganizationAffiliation',
  'ImplementationGuide',
  'Group',
  'Device',
] as const;

export type Client = 'android' | 'web' | 'both' | 'none' | 'anonymous';

export interface UserSpec {
  readonly client: Client;
  readonly roles: readonly string[];
  /** Indices into the world's Locations (mod); undefined: no Practitioner for this user at all. */
  readonly assigned: readonly number[] | undefined;
  readonly via: 'careteam' | 'role';
  /** The token carries `fhir_core_app_id`. */
  readonly appId: boolean;
}

export interface User extends UserSpec {
  readonly index: number;
  readonly sub: string;
  readonly label: string;
}

type DataKind =
  | 'Patient'
  | 'Observation'
  | 'Encounter'
  | 'List'
  | 'Bundle'
  | 'Composition'
  | 'Questionnaire'
  | 'Binary'
  | 'ImplementationGuide';

interface TagSpec {
  readonly system: 'location' | 'organisation' | 'other';
  /** An index into the Locations (mod), or -1 for a code no Location has. */
  readonly loc: number;
}

interface DataSpec {
  readonly kind: DataKind;
  readonly tags: readonly TagSpec[];
  readonly refs: readonly number[];
  readonly contained: boolean;
}

export interface WorldSpec {
  /** Districts, each a list of facilities, each a number of villages. */
  readonly tree: readonly (readonly number[])[];
  readonly users: readonly UserSpec[];
  readonly data: readonly DataSpec[];
  /** Run with resources/opensrp_allowed_queries.json (public app config, `_getpages` links). */
  readonly allowedQueries: boolean;
}

const userArb: fc.Arbitrary<UserSpec> = fc.record({
  client: fc.oneof(
    { weight: 5, arbitrary: fc.constant<Client>('android') },
    { weight: 3, arbitrary: fc.constant<Client>('web') },
    { weight: 1, arbitrary: fc.constantFrom<Client>('both', 'none', 'anonymous') },
  ),
  roles: fc
    .array(
      fc.tuple(
        fc.constantFrom('none', 'none', 'read', 'read', 'read', 'write', 'write', 'manage'),
        fc.subarray(['POST', 'PUT', 'PATCH', 'DELETE']),
      ),
      { minLength: ROLE_TYPES.length, maxLength: ROLE_TYPES.length },
    )
    .map((levels) =>
      levels.flatMap(([level, writes], i) => {
        const type = ROLE_TYPES[i]!.toUpperCase();
        if (level === 'none') return [];
        if (level === 'manage') return [`MANAGE_${type}`];
        return [`GET_${type}`, ...(level === 'write' ? writes.map((verb) => `${verb}_${type}`) : [])];
      }),
    ),
  assigned: fc.option(fc.array(fc.nat(), { maxLength: 2 }), { freq: 6 }).map((v) => v ?? undefined),
  via: fc.constantFrom<'careteam' | 'role'>('careteam', 'careteam', 'role'),
  appId: fc.oneof({ weight: 12, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

const tagArb: fc.Arbitrary<TagSpec> = fc.record({
  system: fc.constantFrom<TagSpec['system']>('location', 'location', 'location', 'organisation', 'other'),
  loc: fc.integer({ min: -1, max: 40 }),
});

const dataArb: fc.Arbitrary<DataSpec> = fc.record({
  kind: fc.constantFrom<DataKind>(
    'Patient',
    'Patient',
    'Patient',
    'Observation',
    'Observation',
    'Observation',
    'Encounter',
    'List',
    'Bundle',
    'Composition',
    'Questionnaire',
    'Binary',
    'ImplementationGuide',
  ),
  tags: fc.array(tagArb, { maxLength: 2 }),
  refs: fc.array(fc.nat(), { maxLength: 3 }),
  contained: fc.boolean(),
});

export const worldArb: fc.Arbitrary<WorldSpec> = fc.record({
  tree: fc.array(fc.array(fc.nat({ max: 2 }), { minLength: 1, maxLength: 2 }), {
    minLength: 1,
    maxLength: 3,
  }),
  users: fc.array(userArb, { minLength: 2, maxLength: 4 }),
  data: fc.array(dataArb, { minLength: 8, maxLength: 28 }),
  allowedQueries: fc.boolean(),
});

/** A generated world as the harness seeds and renders it. */
export interface SeededWorld<S, U> {
  readonly spec: S;
  readonly users: readonly U[];
  readonly resources: Resource[];
  /** Location ids in tree order (country first). */
  readonly locations: readonly string[];
  /** Seeded ids by type (app config excluded from `writable`). */
  readonly ids: ReadonlyMap<string, readonly string[]>;
  /** Ids that writes may target: the seeded ones except the app configuration. */
  readonly writable: ReadonlyMap<string, readonly string[]>;
}

export type World = SeededWorld<WorldSpec, User>;

const tag = (system: string, code: string) => ({ system, code });

export function buildWorld(spec: WorldSpec): World {
  const resources: Resource[] = [];
  const locations: string[] = [];
  const add = (resource: Resource) => resources.push(resource);
  const location = (id: string, parent: string | undefined, ancestors: string[]) => {
    locations.push(id);
    add({
      resourceType: 'Location',
      id,
      name: id,
      status: 'active',
      ...(parent ? { partOf: { reference: `Location/${parent}` } } : {}),
      meta: { tag: ancestors.map((a) => tag(TAG_SYSTEMS.lineage, a)) },
    });
  };
  location('loc-c', undefined, []);
  spec.tree.forEach((facilities, d) => {
    const district = `loc-d${d}`;
    location(district, 'loc-c', ['loc-c']);
    facilities.forEach((villages, f) => {
      const facility = `${district}-f${f}`;
      location(facility, district, ['loc-c', district]);
      for (let v = 0; v < villages; v++)
        location(`${facility}-v${v}`, facility, ['loc-c', district, facility]);
    });
  });
  const locAt = (n: number) => (n < 0 ? 'loc-unknown' : locations[n % locations.length]!);

  // The app configuration of the Location strategy.
  const config = { appId: APP_ID, configType: 'application', syncStrategy: ['Location'] };
  add({
    resourceType: 'Binary',
    id: 'app-config-binary',
    contentType: 'application/json',
    data: Buffer.from(JSON.stringify(config)).toString('base64'),
  });
  add({
    resourceType: 'Composition',
    id: 'app-config-composition',
    identifier: { use: 'official', value: APP_ID },
    status: 'final',
    type: { text: 'Application' },
    date: '2024-01-01',
    author: [{ display: 'admin' }],
    title: `Config for ${APP_ID}`,
    section: [
      {
        title: 'Application',
        focus: { reference: 'Binary/app-config-binary', identifier: { value: 'application' } },
      },
    ],
  });

  const users: User[] = spec.users.map((u, index) => ({
    ...u,
    appId: u.appId,
    index,
    sub: `kc-u${index}`,
    label: `u${index}(${u.client}${u.assigned ? ` @${u.assigned.map(locAt).join('+') || '-'}` : ' unassigned'}; ${u.roles.join(' ')})`,
  }));
  for (const user of users) {
    if (user.assigned === undefined) continue;
    const i = user.index;
    add({
      resourceType: 'Practitioner',
      id: `prac-u${i}`,
      identifier: [{ use: 'secondary', value: user.sub }],
      active: true,
      name: [{ family: `Practitioner ${i}` }],
    });
    if (user.via === 'careteam') {
      add({
        resourceType: 'CareTeam',
        id: `team-u${i}`,
        status: 'active',
        participant: [{ member: { reference: `Practitioner/prac-u${i}` } }],
        managingOrganization: [{ reference: `Organization/org-u${i}` }],
      });
    } else {
      add({
        resourceType: 'PractitionerRole',
        id: `role-u${i}`,
        active: true,
        practitioner: { reference: `Practitioner/prac-u${i}` },
        organization: { reference: `Organization/org-u${i}` },
      });
    }
    add({ resourceType: 'Organization', id: `org-u${i}`, active: true, name: `Organization ${i}` });
    add({
      resourceType: 'OrganizationAffiliation',
      id: `aff-u${i}`,
      active: true,
      organization: { reference: `Organization/org-u${i}` },
      location: user.assigned.map((n) => ({ reference: `Location/${locAt(n)}` })),
    });
  }

  const tagsOf = (tags: readonly TagSpec[]) =>
    tags.map((t) =>
      t.system === 'location'
        ? tag(TAG_SYSTEMS.location, locAt(t.loc))
        : t.system === 'organisation'
          ? tag(TAG_SYSTEMS.organisation, `org-u${Math.max(t.loc, 0) % Math.max(users.length, 1)}`)
          : tag(OTHER_TAG_SYSTEM, locAt(t.loc)),
    );
  const idOf = (d: DataSpec, n: number) => `${d.kind.toLowerCase()}-${n}`;
  const dataIds = spec.data.map(idOf);
  const byKind = (kind: DataKind) => dataIds.filter((_, n) => spec.data[n]!.kind === kind);
  const patients = byKind('Patient');
  const encounters = byKind('Encounter');
  const pick = (pool: readonly string[], n: number | undefined, fallback: string) =>
    pool.length === 0 || n === undefined ? fallback : pool[n % pool.length]!;
  const built = new Map<string, Resource>();

  spec.data.forEach((d, n) => {
    const id = idOf(d, n);
    const meta = d.tags.length > 0 ? { meta: { tag: tagsOf(d.tags) } } : {};
    const patient = pick(patients, d.refs[0], 'missing-patient');
    const contained: Resource[] = d.contained
      ? [
          {
            resourceType: 'Patient',
            id: 'inner',
            name: [{ family: `Contained-${id}` }],
            meta: { tag: [tag(TAG_SYSTEMS.location, locAt((d.refs[1] ?? 0) + 3))] },
          },
        ]
      : [];
    let resource: Resource;
    switch (d.kind) {
      case 'Patient':
        resource = {
          resourceType: 'Patient',
          id,
          name: [{ family: `Family-${id}`, given: ['Test'] }],
          gender: n % 2 === 0 ? 'female' : 'male',
          ...(d.refs[0] !== undefined
            ? { managingOrganization: { reference: `Organization/org-u${d.refs[0] % 4}` } }
            : {}),
        };
        break;
      case 'Observation':
        resource = {
          resourceType: 'Observation',
          id,
          status: 'final',
          code: { text: `code-${n % 3}` },
          subject: { reference: `Patient/${patient}` },
          ...(encounters.length > 0 && d.refs[1] !== undefined
            ? { encounter: { reference: `Encounter/${pick(encounters, d.refs[1], '')}` } }
            : {}),
          valueQuantity: { value: n, unit: 'kg' },
        };
        break;
      case 'Encounter':
        resource = {
          resourceType: 'Encounter',
          id,
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          subject: { reference: `Patient/${patient}` },
        };
        break;
      case 'List':
        resource = {
          resourceType: 'List',
          id,
          status: 'current',
          mode: 'working',
          title: `List ${n}`,
          subject: { reference: `Patient/${patient}` },
          entry: d.refs.map((r) => ({ item: { reference: refTo(spec, dataIds, r) } })),
        };
        break;
      case 'Composition':
        resource = {
          resourceType: 'Composition',
          id,
          status: 'final',
          type: { text: 'summary' },
          date: '2026-01-01',
          author: [{ display: 'x' }],
          title: `Composition ${n}`,
          subject: { reference: `Patient/${patient}` },
          section: [{ title: 's', entry: d.refs.map((r) => ({ reference: refTo(spec, dataIds, r) })) }],
        };
        break;
      case 'Bundle': {
        // A stored Bundle: copies of seeded resources (tags included); a document starts with a Composition.
        const inner = d.refs
          .map((r) => built.get(refTo(spec, dataIds, r)))
          .filter((r): r is Resource => r !== undefined && r.resourceType !== 'Bundle');
        const composition = inner.find((r) => r.resourceType === 'Composition');
        const document = composition !== undefined;
        const entries = document ? [composition, ...inner.filter((r) => r !== composition)] : inner;
        resource = {
          resourceType: 'Bundle',
          id,
          type: document ? 'document' : 'collection',
          ...(document
            ? { identifier: { system: 'urn:x', value: id }, timestamp: '2026-01-01T00:00:00Z' }
            : {}),
          entry: entries.map((r) => ({ fullUrl: `urn:uuid:${r.resourceType}-${r.id}`, resource: r })),
        } as Resource;
        break;
      }
      case 'Questionnaire':
        resource = { resourceType: 'Questionnaire', id, status: 'active', title: `Q ${n}` };
        break;
      case 'Binary':
        resource = {
          resourceType: 'Binary',
          id,
          contentType: 'text/plain',
          data: Buffer.from(id).toString('base64'),
        };
        break;
      case 'ImplementationGuide':
        resource = {
          resourceType: 'ImplementationGuide',
          id,
          url: `http://example.org/ig/${id}`,
          name: `IG${n}`,
          status: 'active',
          packageId: `example.ig${n}`,
          fhirVersion: ['4.0.1'],
        };
        break;
    }
    resource = {
      ...resource,
      ...meta,
      ...(contained.length > 0 && d.kind !== 'Binary' && d.kind !== 'Bundle' ? { contained } : {}),
    } as Resource;
    built.set(`${d.kind}/${id}`, resource);
    add(resource);
  });

  const ids = new Map<string, string[]>();
  for (const r of resources) {
    const list = ids.get(r.resourceType) ?? [];
    list.push(r.id!);
    ids.set(r.resourceType, list);
  }
  const writable = new Map<string, string[]>();
  for (const [type, list] of ids) {
    writable.set(
      type,
      list.filter((id) => id !== 'app-config-binary' && id !== 'app-config-composition'),
    );
  }
  return { spec, users, resources, locations, ids, writable };
}

/** A reference to the r-th seeded data resource (mod). */
function refTo(spec: WorldSpec, dataIds: readonly string[], r: number): string {
  if (dataIds.length === 0) return 'Patient/missing';
  const n = r % dataIds.length;
  return `${spec.data[n]!.kind}/${dataIds[n]}`;
}
