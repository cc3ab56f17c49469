/**
 * Generated requests for the property test, as data (so fast-check can print and shrink them),
 * rendered into HTTP against a world at run time: indices pick ids, Locations and users of the
 * world, so one request spec fits any world.
 */
import fc from 'fast-check';
import { TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import { APP_ID, OTHER_TAG_SYSTEM, type World } from './world.js';

const LOC = TAG_SYSTEMS.location;
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';

/** A param as a template: `{Type}` → an id of that type, `{ref:Type}` → `Type/<id>`, `{loc}` → a Location id. */
export type ParamSpec = readonly [name: string, template: string, n: number];

export interface Target {
  readonly n: number;
  readonly missing: boolean;
}

export type XmlAsk = 'no' | 'format' | 'accept';
export type Conditional = 'none' | 'star' | 'etag' | 'stale' | 'since';

export interface TagPick {
  readonly system: 'location' | 'organisation' | 'other';
  readonly n: number;
}

export type Spec =
  | { kind: 'metadata'; user: number; xml: XmlAsk }
  | {
      kind: 'read';
      user: number;
      type: string;
      target: Target;
      head: boolean;
      conditional: Conditional;
      xml: XmlAsk;
      listEntries: boolean;
    }
  | { kind: 'vread'; user: number; type: string; target: Target; version: number; head: boolean; xml: XmlAsk }
  | {
      kind: 'history';
      user: number;
      level: 'instance' | 'type' | 'system';
      type: string;
      target: Target;
      count: number;
    }
  | {
      kind: 'search';
      user: number;
      type: string;
      params: readonly ParamSpec[];
      via: 'get' | 'post' | 'compartment';
      compartment: Target;
      follow: number;
      follower: number | 'same';
      xml: XmlAsk;
      head: boolean;
    }
  | { kind: 'system-search'; user: number; types: readonly string[]; pages: 'none' | 'blank' | 'unknown' }
  | { kind: 'operation'; user: number; op: string; type: string; target: Target; post: boolean }
  | {
      kind: 'create';
      user: number;
      type: string;
      bodyType: string;
      tags: readonly TagPick[];
      refs: readonly number[];
      bodyId: boolean;
      prefer: 'none' | 'minimal' | 'representation' | 'OperationOutcome';
      ifNoneExist: ParamSpec | undefined;
    }
  | {
      kind: 'update';
      user: number;
      type: string;
      target: Target;
      bodyType: string;
      bodyId: 'same' | 'other' | 'none';
      tags: readonly TagPick[];
      refs: readonly number[];
      fromStored: boolean;
      prefer: 'none' | 'minimal' | 'representation';
    }
  | {
      kind: 'patch';
      user: number;
      type: string;
      target: Target;
      op: PatchOp;
      tag: TagPick;
    }
  | { kind: 'delete'; user: number; type: string; target: Target; cascade: boolean; expunge: boolean }
  | { kind: 'bundle'; user: number; bundleType: 'batch' | 'transaction'; entries: readonly EntrySpec[] };

/** `subject` moves a resource to another patient; `category` changes what granular criteria see. */
export type PatchOp = 'retag' | 'addtag' | 'gender' | 'removemeta' | 'id' | 'subject' | 'category';

export type EntrySpec =
  | { method: 'GET'; type: string; target: Target; search: readonly ParamSpec[] | undefined }
  | {
      method: 'POST';
      type: string;
      bodyType: string;
      tags: readonly TagPick[];
      refs: readonly number[];
      ifNoneExist: ParamSpec | undefined;
    }
  | {
      method: 'PUT';
      type: string;
      target: Target;
      bodyId: 'same' | 'other';
      tags: readonly TagPick[];
      refs: readonly number[];
    }
  | { method: 'PATCH'; type: string; target: Target; tag: TagPick }
  | { method: 'DELETE'; type: string; target: Target };

const DATA_TYPES = [
  'Patient',
  'Patient',
  'Patient',
  'Observation',
  'Observation',
  'Encounter',
  'List',
  'Bundle',
];
const OTHER_TYPES = [
  'Composition',
  'Binary',
  'Questionnaire',
  'Location',
  'Practitioner',
  'PractitionerRole',
  'CareTeam',
  'Organization',
  'OrganizationAffiliation',
  'ImplementationGuide',
];
export const TYPES = [...DATA_TYPES, ...DATA_TYPES, ...OTHER_TYPES];

const GENERIC: readonly (readonly [string, string])[] = [
  ['_id', '{self}'],
  ['_tag', `${LOC}|{loc}`],
  ['_tag', `${LOC}|{loc},${LOC}|{loc2}`],
  ['_tag', `${TAG_SYSTEMS.organisation}|org-u{u}`],
  ['_tag:not', `${LOC}|{loc}`],
  ['_count', '{count}'],
  ['_count', '{count}'],
  ['_summary', 'count'],
  ['_elements', 'id,meta'],
  ['_sort', '-_lastUpdated'],
  ['_include', '*'],
  ['_revinclude', '*'],
  ['_contained', 'true'],
  ['_list', '{List}'],
  ['_lastUpdated', 'gt2000-01-01'],
  ['_filter', 'name eq x'],
  ['_has:Observation:subject:status', 'final'],
  ['_has:List:item:_tag', `${LOC}|{loc}`],
  ['_include:iterate', 'Observation:subject'],
  ['_revinclude:iterate', 'List:item'],
];

const BY_TYPE: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  Patient: [
    ['name', 'Test'],
    ['family', 'Family-{Patient}'],
    ['gender', 'female'],
    ['_revinclude', 'Observation:subject'],
    ['_revinclude', 'Observation:patient'],
    ['_revinclude', 'Encounter:subject'],
    ['_revinclude', 'List:item'],
    ['_revinclude:iterate', 'Observation:subject'],
    ['_has:Observation:subject:_tag', `${LOC}|{loc}`],
    ['_has:Observation:patient:code', 'code-1'],
    ['organization.name', 'Organization'],
    ['organization', '{ref:Organization}'],
    ['_include', 'Patient:organization'],
    ['general-practitioner:Practitioner.name', 'x'],
  ],
  Observation: [
    ['subject', '{ref:Patient}'],
    ['patient', '{Patient}'],
    ['subject:Patient.name', 'Test'],
    ['subject.name', 'Test'],
    ['_include', 'Observation:subject'],
    ['_include', 'Observation:subject'],
    ['_include', 'Observation:patient'],
    ['_include', 'Observation:encounter'],
    ['_include', 'Observation:subject:Patient'],
    ['_include:iterate', 'Encounter:subject'],
    ['_include', 'Observation:*'],
    ['code', 'code-1'],
    ['status', 'final'],
    ['encounter', '{ref:Encounter}'],
    ['_revinclude', 'List:item'],
    ['_include', 'Observation:encounter:Encounter'],
  ],
  Encounter: [
    ['subject', '{ref:Patient}'],
    ['_include', 'Encounter:subject'],
    ['_include', 'Encounter:patient'],
    ['_include', 'Encounter:subject:Patient'],
    ['_revinclude', 'Observation:encounter'],
  ],
  List: [
    ['_include', 'List:item'],
    ['_include', 'List:subject'],
    ['_include', 'List:item:Patient'],
    ['_include', 'List:item:Bundle'],
    ['_include', 'List:item:Observation'],
    ['item', '{ref:Patient}'],
    ['mode', 'list-entries'],
    ['mode', 'list-entries'],
    ['subject', '{ref:Patient}'],
  ],
  Composition: [
    ['_include', 'Composition:subject'],
    ['_include', 'Composition:entry'],
    ['_include', 'Composition:entry:Observation'],
    ['_include', 'Composition:subject:Patient'],
    ['_revinclude', 'Bundle:composition'],
    ['identifier', APP_ID],
    ['subject', '{ref:Patient}'],
  ],
  Bundle: [
    ['composition', '{ref:Composition}'],
    ['type', 'document'],
    ['_include', 'Bundle:composition'],
  ],
  Location: [
    ['partof', '{ref:Location}'],
    ['_revinclude', 'OrganizationAffiliation:location'],
    ['_include', 'Location:partof'],
    ['_tag', `${TAG_SYSTEMS.lineage}|{Location}`],
  ],
  Practitioner: [
    ['identifier', 'kc-u{u}'],
    ['_revinclude', 'CareTeam:participant'],
    ['_revinclude', 'PractitionerRole:practitioner'],
  ],
  CareTeam: [
    ['participant', '{ref:Practitioner}'],
    ['_include', 'CareTeam:participant'],
    ['_include', 'CareTeam:managing-organization'],
  ],
  Organization: [['_revinclude', 'OrganizationAffiliation:primary-organization']],
  OrganizationAffiliation: [
    ['_include', 'OrganizationAffiliation:location'],
    ['primary-organization', '{ref:Organization}'],
  ],
  PractitionerRole: [
    ['_include', 'PractitionerRole:organization'],
    ['practitioner', '{ref:Practitioner}'],
  ],
};

/** What a generator draws from: the types, search params and patch operations of one kind of world. */
export interface Vocabulary {
  readonly types: readonly string[];
  readonly generic: readonly (readonly [string, string])[];
  readonly byType: Readonly<Record<string, readonly (readonly [string, string])[]>>;
  readonly patchOps: readonly PatchOp[];
}

const OPERATIONS = [
  '$everything',
  '$document',
  '$graphql',
  '$graphql-system',
  '$meta',
  '$meta',
  '$meta-type',
  '$expunge',
  '$validate',
];

export const OPENSRP_VOCABULARY: Vocabulary = {
  types: TYPES,
  generic: GENERIC,
  byType: BY_TYPE,
  patchOps: ['retag', 'addtag', 'gender', 'removemeta', 'id'],
};

/** Request specs over a vocabulary (the same draws for the same vocabulary and seed). */
export function specArbFor(v: Vocabulary): fc.Arbitrary<Spec> {
  const target: fc.Arbitrary<Target> = fc.record({
    n: fc.nat(),
    missing: fc.oneof(
      { weight: 8, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
  });
  const user = fc.nat({ max: 7 });
  const type = fc.constantFrom(...v.types);
  const xmlAsk = fc.constantFrom<XmlAsk>('no', 'no', 'no', 'no', 'format', 'accept');
  const tagPick: fc.Arbitrary<TagPick> = fc.record({
    system: fc.constantFrom<TagPick['system']>('location', 'location', 'location', 'organisation', 'other'),
    n: fc.integer({ min: -1, max: 40 }),
  });
  const tags = fc.array(tagPick, { maxLength: 2 });
  const refs = fc.array(fc.nat(), { minLength: 2, maxLength: 3 });

  function paramFor(t: string): fc.Arbitrary<ParamSpec> {
    const templates = [...v.generic, ...(v.byType[t] ?? []), ...(v.byType[t] ?? [])];
    return fc
      .tuple(fc.constantFrom(...templates), fc.nat())
      .map(([[name, template], n]) => [name, template, n] as const);
  }
  const anyParam: fc.Arbitrary<ParamSpec> = type.chain(paramFor);

  const searchSpec = type.chain((t) =>
    fc.record({
      kind: fc.constant('search' as const),
      user,
      type: fc.constant(t),
      params: fc.array(paramFor(t), { maxLength: 4 }),
      via: fc.constantFrom<'get' | 'post' | 'compartment'>('get', 'get', 'get', 'get', 'post', 'compartment'),
      compartment: target,
      follow: fc.constantFrom(0, 0, 1, 2),
      follower: fc.oneof(
        { weight: 3, arbitrary: fc.constant<'same'>('same') },
        { weight: 1, arbitrary: user },
      ),
      xml: xmlAsk,
      head: fc.constantFrom(false, false, false, false, false, true),
    }),
  );

  /** Same type most of the time, another one sometimes. */
  const bodyTypeFor = (t: string) =>
    fc.oneof({ weight: 6, arbitrary: fc.constant(t) }, { weight: 1, arbitrary: type });

  const entrySpec: fc.Arbitrary<EntrySpec> = fc.oneof(
    fc.record({
      method: fc.constant('GET' as const),
      type,
      target,
      search: fc.option(fc.array(anyParam, { maxLength: 2 }), { nil: undefined }),
    }),
    fc
      .record({
        method: fc.constant('POST' as const),
        type,
        bodyType: type,
        tags,
        refs,
        ifNoneExist: fc.option(anyParam, { nil: undefined, freq: 3 }),
      })
      .chain((e) => bodyTypeFor(e.type).map((bodyType) => ({ ...e, bodyType }))),
    fc.record({
      method: fc.constant('PUT' as const),
      type,
      target,
      bodyId: fc.constantFrom<'same' | 'other'>('same', 'same', 'other'),
      tags,
      refs,
    }),
    fc.record({ method: fc.constant('PATCH' as const), type, target, tag: tagPick }),
    fc.record({ method: fc.constant('DELETE' as const), type, target }),
  );

  return fc.oneof(
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('metadata' as const), user, xml: xmlAsk }) },
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('read' as const),
        user,
        type,
        target,
        head: fc.constantFrom(false, false, false, true),
        conditional: fc.constantFrom<Conditional>(
          'none',
          'none',
          'none',
          'none',
          'star',
          'etag',
          'stale',
          'since',
        ),
        xml: xmlAsk,
        listEntries: fc.constantFrom(false, false, false, true),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('vread' as const),
        user,
        type,
        target,
        version: fc.nat({ max: 3 }),
        head: fc.boolean(),
        xml: xmlAsk,
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('history' as const),
        user,
        level: fc.constantFrom<'instance' | 'type' | 'system'>(
          'instance',
          'instance',
          'instance',
          'type',
          'system',
        ),
        type,
        target,
        count: fc.nat({ max: 3 }),
      }),
    },
    { weight: 14, arbitrary: searchSpec },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('system-search' as const),
        user,
        types: fc.uniqueArray(type, { minLength: 1, maxLength: 2 }),
        pages: fc.constantFrom<'none' | 'blank' | 'unknown'>('none', 'blank', 'unknown'),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('operation' as const),
        user,
        op: fc.constantFrom(...OPERATIONS),
        type,
        target,
        post: fc.boolean(),
      }),
    },
    {
      weight: 5,
      arbitrary: type.chain((t) =>
        fc.record({
          kind: fc.constant('create' as const),
          user,
          type: fc.constant(t),
          bodyType: bodyTypeFor(t),
          tags,
          refs,
          bodyId: fc.boolean(),
          prefer: fc.constantFrom<'none' | 'minimal' | 'representation' | 'OperationOutcome'>(
            'none',
            'none',
            'minimal',
            'representation',
            'OperationOutcome',
          ),
          ifNoneExist: fc.option(paramFor(t), { nil: undefined, freq: 3 }),
        }),
      ),
    },
    {
      weight: 5,
      arbitrary: type.chain((t) =>
        fc.record({
          kind: fc.constant('update' as const),
          user,
          type: fc.constant(t),
          target,
          bodyType: bodyTypeFor(t),
          bodyId: fc.constantFrom<'same' | 'other' | 'none'>('same', 'same', 'same', 'other', 'none'),
          tags,
          refs,
          fromStored: fc.boolean(),
          prefer: fc.constantFrom<'none' | 'minimal' | 'representation'>('none', 'minimal', 'representation'),
        }),
      ),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('patch' as const),
        user,
        type,
        target,
        op: fc.constantFrom(...v.patchOps),
        tag: tagPick,
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('delete' as const),
        user,
        type,
        target,
        cascade: fc.constantFrom(false, false, false, true),
        expunge: fc.constantFrom(false, false, false, true),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('bundle' as const),
        user,
        bundleType: fc.constantFrom<'batch' | 'transaction'>('batch', 'transaction'),
        entries: fc.array(entrySpec, { minLength: 1, maxLength: 4 }),
      }),
    },
  );
}

export const specArb: fc.Arbitrary<Spec> = specArbFor(OPENSRP_VOCABULARY);

/** One HTTP request to the gateway, below `/fhir`. */
export interface Rendered {
  readonly method: string;
  /** `/Patient/1?x=y`, `?_getpages=…`, or `` (the base). */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** The resource a by-id request acts on (for the existence twin and the current-version rule). */
  readonly target?: { type: string; id: string; missing: boolean };
  /** read/vread/HEAD/conditional read of one resource: the answer is that stored resource. */
  readonly readsOne: boolean;
  readonly interaction: string;
  /** The type a search (or its continuation) searches: its entries of that type are its matches. */
  readonly searchType?: string;
}

/** Resolves indices against the world and, for by-id requests, the ids it currently holds. */
/** What rendering needs of a world: its ids, the Locations tags pick from, how many users. */
export type RenderWorld = Pick<World, 'ids' | 'writable' | 'locations'> & {
  readonly users: readonly unknown[];
};

export class Renderer {
  private counter = 0;
  constructor(
    private readonly world: RenderWorld,
    /** Current etag of `Type/id` (for If-None-Match: <etag>); resolved by the harness. */
    private readonly versions: (type: string, id: string) => Promise<string[]>,
    /** A patient of the sending user (`{me}` in params; half the patient references of bodies), if any. */
    private readonly me?: (user: number, n: number) => string | undefined,
  ) {}

  /** The user of the spec being rendered. */
  private user = 0;

  private mine(n: number): string | undefined {
    return this.me?.(this.user, n);
  }

  id(t: string, pick: Target, writable = false): { id: string; missing: boolean } {
    const pool = (writable ? this.world.writable : this.world.ids).get(t) ?? [];
    if (pick.missing || pool.length === 0) return { id: `missing-${pick.n % 97}`, missing: true };
    return { id: pool[pick.n % pool.length]!, missing: false };
  }

  private loc(n: number): string {
    if (this.world.locations.length === 0) return 'loc-unknown';
    return n < 0 ? 'loc-unknown' : this.world.locations[n % this.world.locations.length]!;
  }

  private tagOf(t: TagPick) {
    if (t.system === 'location') return { system: LOC, code: this.loc(t.n) };
    if (t.system === 'organisation')
      return { system: TAG_SYSTEMS.organisation, code: `org-u${Math.max(t.n, 0) % this.world.users.length}` };
    return { system: OTHER_TAG_SYSTEM, code: this.loc(t.n) };
  }

  param([name, template, n]: ParamSpec, self: string): [string, string] {
    const value = template
      .replaceAll('{self}', this.id(self, { n, missing: false }).id)
      .replaceAll('{loc}', this.loc(n))
      .replaceAll('{loc2}', this.loc(n + 1))
      .replaceAll('{u}', String(n % Math.max(this.world.users.length, 1)))
      .replaceAll('{count}', String(1 + (n % 3)))
      .replaceAll('{ref:me}', `Patient/${this.mine(n) ?? this.id('Patient', { n, missing: false }).id}`)
      .replaceAll('{me}', this.mine(n) ?? this.id('Patient', { n, missing: false }).id)
      .replaceAll('{Patient2}', this.id('Patient', { n: n + 1, missing: false }).id)
      .replaceAll('{ref:Patient2}', `Patient/${this.id('Patient', { n: n + 1, missing: false }).id}`)
      .replace(/\{ref:([A-Za-z]+)\}/g, (_, t: string) => `${t}/${this.id(t, { n, missing: false }).id}`)
      .replace(/\{([A-Z][A-Za-z]+)\}/g, (_, t: string) => this.id(t, { n, missing: false }).id);
    return [name, value];
  }

  private query(params: readonly [string, string][]): string {
    return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  }

  private xmlHeaders(xml: XmlAsk, params: [string, string][], headers: Record<string, string>): void {
    if (xml === 'format') params.push(['_format', 'xml']);
    if (xml === 'accept') headers['accept'] = 'application/fhir+xml';
  }

  body(
    t: string,
    bodyType: string,
    tags: readonly TagPick[],
    r: readonly number[],
    id?: string,
  ): Record<string, unknown> {
    const ref = (rt: string, k: number) => {
      const own = rt === 'Patient' && (r[k] ?? 0) % 2 === 0 ? this.mine(r[k] ?? 0) : undefined;
      return `${rt}/${own ?? this.id(rt, { n: r[k] ?? 0, missing: false }).id}`;
    };
    const n = ++this.counter;
    const meta = tags.length > 0 ? { meta: { tag: tags.map((tag) => this.tagOf(tag)) } } : {};
    const base = { resourceType: bodyType, ...(id === undefined ? {} : { id }), ...meta };
    switch (bodyType) {
      case 'Patient':
        return { ...base, name: [{ family: `Gen-${n}` }], gender: 'other' };
      case 'Observation':
        return {
          ...base,
          status: 'final',
          // Varied so that granular SMART criteria (category, date) match some bodies and not others.
          category: [
            { coding: [{ system: OBSERVATION_CATEGORY, code: n % 2 === 0 ? 'laboratory' : 'vital-signs' }] },
          ],
          effectiveDateTime: n % 3 === 0 ? '2023-06-01' : '2024-06-01',
          code: { text: 'gen' },
          subject: { reference: ref('Patient', 0) },
        };
      case 'Condition':
        return {
          ...base,
          clinicalStatus: {
            coding: [{ system: CONDITION_CLINICAL, code: n % 2 === 0 ? 'active' : 'resolved' }],
          },
          subject: { reference: ref('Patient', 0) },
          asserter: { reference: ref('Patient', 1) },
        };
      case 'Group':
        return {
          ...base,
          type: 'person',
          actual: true,
          member: [{ entity: { reference: ref('Patient', 0) } }],
        };
      case 'Encounter':
        return {
          ...base,
          status: 'finished',
          class: { code: 'AMB' },
          subject: { reference: ref('Patient', 0) },
        };
      case 'List':
        return {
          ...base,
          status: 'current',
          mode: 'working',
          entry: [{ item: { reference: ref('Patient', 0) } }],
        };
      case 'Location':
        return { ...base, name: `Gen-${n}`, status: 'active', partOf: { reference: ref('Location', 0) } };
      case 'Practitioner':
        return {
          ...base,
          identifier: [{ value: `kc-u${(r[0] ?? 0) % this.world.users.length}` }],
          active: true,
        };
      case 'PractitionerRole':
        return {
          ...base,
          practitioner: { reference: ref('Practitioner', 0) },
          organization: { reference: ref('Organization', 1) },
        };
      case 'CareTeam':
        return {
          ...base,
          status: 'active',
          participant: [{ member: { reference: ref('Practitioner', 0) } }],
          managingOrganization: [{ reference: ref('Organization', 1) }],
        };
      case 'Organization':
        return { ...base, name: `Gen-${n}`, active: true };
      case 'OrganizationAffiliation':
        return {
          ...base,
          organization: { reference: ref('Organization', 0) },
          location: [{ reference: ref('Location', 1) }],
        };
      case 'Composition':
        return {
          ...base,
          status: 'final',
          type: { text: 'gen' },
          date: '2026-01-01',
          author: [{ display: 'x' }],
          title: 'gen',
        };
      case 'Binary':
        return { ...base, contentType: 'text/plain', data: Buffer.from(`gen-${n}`).toString('base64') };
      case 'Questionnaire':
        return { ...base, status: 'active' };
      case 'Bundle':
        return { ...base, type: 'collection', entry: [] };
      case 'ImplementationGuide':
        return {
          ...base,
          url: `http://example.org/ig/gen-${n}`,
          name: `Gen${n}`,
          status: 'active',
          packageId: `gen.ig${n}`,
          fhirVersion: ['4.0.1'],
        };
      default:
        return { ...base, ...(t === bodyType ? {} : {}) };
    }
  }

  private patchOps(op: string, tag: TagPick, type: string): unknown[] {
    switch (op) {
      case 'retag':
        return [{ op: 'replace', path: '/meta/tag/0', value: this.tagOf(tag) }];
      case 'addtag':
        return [{ op: 'add', path: '/meta/tag/-', value: this.tagOf(tag) }];
      case 'gender':
        return type === 'Patient'
          ? [{ op: 'replace', path: '/gender', value: 'unknown' }]
          : [{ op: 'add', path: '/language', value: 'en' }];
      case 'removemeta':
        return [{ op: 'remove', path: '/meta/tag' }];
      case 'subject':
        return type === 'Patient'
          ? [{ op: 'replace', path: '/gender', value: 'female' }]
          : [
              {
                op: 'add',
                path: '/subject',
                value: {
                  reference: `Patient/${this.id('Patient', { n: Math.max(tag.n, 0), missing: false }).id}`,
                },
              },
            ];
      case 'category':
        return type === 'Observation'
          ? [
              {
                op: 'add',
                path: '/category',
                value: [
                  {
                    coding: [
                      { system: OBSERVATION_CATEGORY, code: tag.n % 2 === 0 ? 'laboratory' : 'survey' },
                    ],
                  },
                ],
              },
            ]
          : [{ op: 'add', path: '/language', value: 'en' }];
      default:
        return [{ op: 'replace', path: '/id', value: 'patched-id' }];
    }
  }

  async render(spec: Spec): Promise<Rendered> {
    this.user = spec.user;
    const headers: Record<string, string> = {};
    const json = 'application/fhir+json';
    switch (spec.kind) {
      case 'metadata': {
        const params: [string, string][] = [];
        this.xmlHeaders(spec.xml, params, headers);
        return {
          method: 'GET',
          path: `/metadata${params.length ? `?${this.query(params)}` : ''}`,
          headers,
          readsOne: false,
          interaction: 'capabilities',
        };
      }
      case 'read': {
        const { id, missing } = this.id(spec.type, spec.target);
        const params: [string, string][] = [];
        this.xmlHeaders(spec.xml, params, headers);
        if (spec.listEntries && spec.type === 'List') params.push(['mode', 'list-entries']);
        if (spec.conditional === 'star') headers['if-none-match'] = '*';
        if (spec.conditional === 'etag')
          headers['if-none-match'] = `W/"${(await this.versions(spec.type, id))[0] ?? 'x'}"`;
        if (spec.conditional === 'stale') headers['if-none-match'] = 'W/"stale"';
        if (spec.conditional === 'since')
          headers['if-modified-since'] = new Date(Date.now() + 60_000).toUTCString();
        return {
          method: spec.head ? 'HEAD' : 'GET',
          path: `/${spec.type}/${id}${params.length ? `?${this.query(params)}` : ''}`,
          headers,
          target: { type: spec.type, id, missing },
          readsOne: true,
          interaction: 'read',
        };
      }
      case 'vread': {
        const { id, missing } = this.id(spec.type, spec.target);
        const versions = await this.versions(spec.type, id);
        const version = versions.length === 0 ? 'v-missing' : versions[spec.version % versions.length]!;
        const params: [string, string][] = [];
        this.xmlHeaders(spec.xml, params, headers);
        return {
          method: spec.head ? 'HEAD' : 'GET',
          path: `/${spec.type}/${id}/_history/${version}${params.length ? `?${this.query(params)}` : ''}`,
          headers,
          target: { type: spec.type, id, missing },
          readsOne: true,
          interaction: 'vread',
        };
      }
      case 'history': {
        const count = spec.count > 0 ? `?_count=${spec.count}` : '';
        if (spec.level === 'system')
          return {
            method: 'GET',
            path: `/_history${count}`,
            headers,
            readsOne: false,
            interaction: 'history-system',
          };
        if (spec.level === 'type')
          return {
            method: 'GET',
            path: `/${spec.type}/_history${count}`,
            headers,
            readsOne: false,
            interaction: 'history-type',
          };
        const { id, missing } = this.id(spec.type, spec.target);
        return {
          method: 'GET',
          path: `/${spec.type}/${id}/_history${count}`,
          headers,
          target: { type: spec.type, id, missing },
          readsOne: false,
          interaction: 'history-instance',
        };
      }
      case 'search': {
        const params = spec.params.map((p) => this.param(p, spec.type));
        this.xmlHeaders(spec.xml, params, headers);
        if (spec.via === 'post') {
          headers['content-type'] = 'application/x-www-form-urlencoded';
          return {
            method: 'POST',
            path: `/${spec.type}/_search`,
            headers,
            body: this.query(params),
            readsOne: false,
            interaction: 'search',
            searchType: spec.type,
          };
        }
        const q = params.length ? `?${this.query(params)}` : '';
        if (spec.via === 'compartment') {
          const id =
            (spec.compartment.n % 2 === 0 ? this.mine(spec.compartment.n) : undefined) ??
            this.id('Patient', spec.compartment).id;
          const inner = spec.type === 'Patient' ? 'Observation' : spec.type;
          return {
            method: spec.head ? 'HEAD' : 'GET',
            path: `/Patient/${id}/${inner}${q}`,
            headers,
            readsOne: false,
            interaction: 'search',
            searchType: inner,
          };
        }
        return {
          method: spec.head ? 'HEAD' : 'GET',
          path: `/${spec.type}${q}`,
          headers,
          readsOne: false,
          interaction: 'search',
          searchType: spec.type,
        };
      }
      case 'system-search': {
        if (spec.pages === 'blank')
          return {
            method: 'GET',
            path: `?_getpages=&_type=${spec.types.join(',')}`,
            headers,
            readsOne: false,
            interaction: 'paging',
          };
        if (spec.pages === 'unknown')
          return {
            method: 'GET',
            path: '?_getpages=not-a-page&_getpagesoffset=0',
            headers,
            readsOne: false,
            interaction: 'paging',
          };
        return {
          method: 'GET',
          path: `?_type=${spec.types.join(',')}`,
          headers,
          readsOne: false,
          interaction: 'search-system',
        };
      }
      case 'operation': {
        const opType =
          spec.op === '$everything' ? 'Patient' : spec.op === '$document' ? 'Composition' : spec.type;
        const { id, missing } = this.id(opType, spec.target);
        const t = { type: opType, id, missing };
        switch (spec.op) {
          case '$graphql-system':
            return {
              method: 'GET',
              path: `/$graphql?query=${encodeURIComponent('{PatientList{id meta{tag{code}}}}')}`,
              headers,
              readsOne: false,
              interaction: 'operation',
            };
          case '$graphql':
            return {
              method: 'GET',
              path: `/${opType}/${id}/$graphql?query=${encodeURIComponent('{ObservationList(_reference: subject){id}}')}`,
              headers,
              target: t,
              readsOne: false,
              interaction: 'operation',
            };
          case '$meta-type':
            return {
              method: 'GET',
              path: `/${opType}/$meta`,
              headers,
              readsOne: false,
              interaction: 'operation',
            };
          case '$expunge':
            headers['content-type'] = json;
            return {
              method: 'POST',
              path: `/${opType}/${id}/$expunge`,
              headers,
              body: JSON.stringify({
                resourceType: 'Parameters',
                parameter: [{ name: 'limit', valueInteger: 10 }],
              }),
              target: t,
              readsOne: false,
              interaction: 'operation',
            };
          case '$validate':
            headers['content-type'] = json;
            return {
              method: 'POST',
              path: `/${opType}/$validate`,
              headers,
              body: JSON.stringify(this.body(opType, opType, [], [0, 1])),
              readsOne: false,
              interaction: 'operation',
            };
          default:
            if (spec.post) {
              headers['content-type'] = json;
              return {
                method: 'POST',
                path: `/${opType}/${id}/${spec.op}`,
                headers,
                body: JSON.stringify({ resourceType: 'Parameters' }),
                target: t,
                readsOne: false,
                interaction: 'operation',
              };
            }
            return {
              method: 'GET',
              path: `/${opType}/${id}/${spec.op}`,
              headers,
              target: t,
              readsOne: false,
              interaction: 'operation',
            };
        }
      }
      case 'create': {
        headers['content-type'] = json;
        if (spec.prefer !== 'none') headers['prefer'] = `return=${spec.prefer}`;
        if (spec.ifNoneExist)
          headers['if-none-exist'] = this.query([this.param(spec.ifNoneExist, spec.type)]);
        const body = this.body(
          spec.type,
          spec.bodyType,
          spec.tags,
          spec.refs,
          spec.bodyId ? `client-id-${this.counter}` : undefined,
        );
        return {
          method: 'POST',
          path: `/${spec.type}`,
          headers,
          body: JSON.stringify(body),
          readsOne: false,
          interaction: 'create',
        };
      }
      case 'update': {
        headers['content-type'] = json;
        if (spec.prefer !== 'none') headers['prefer'] = `return=${spec.prefer}`;
        const { id, missing } = this.id(spec.type, spec.target, true);
        const bodyId =
          spec.bodyId === 'same'
            ? id
            : spec.bodyId === 'other'
              ? this.id(spec.type, { n: spec.target.n + 1, missing: false }, true).id
              : undefined;
        const body = this.body(spec.type, spec.bodyType, spec.tags, spec.refs, bodyId);
        return {
          method: 'PUT',
          path: `/${spec.type}/${id}`,
          headers,
          body: JSON.stringify(body),
          target: { type: spec.type, id, missing },
          readsOne: false,
          interaction: 'update',
        };
      }
      case 'patch': {
        headers['content-type'] = 'application/json-patch+json';
        const { id, missing } = this.id(spec.type, spec.target, true);
        return {
          method: 'PATCH',
          path: `/${spec.type}/${id}`,
          headers,
          body: JSON.stringify(this.patchOps(spec.op, spec.tag, spec.type)),
          target: { type: spec.type, id, missing },
          readsOne: false,
          interaction: 'patch',
        };
      }
      case 'delete': {
        const { id, missing } = this.id(spec.type, spec.target, true);
        const params: [string, string][] = [];
        if (spec.cascade) params.push(['_cascade', 'delete']);
        if (spec.expunge) params.push(['_expunge', 'true']);
        return {
          method: 'DELETE',
          path: `/${spec.type}/${id}${params.length ? `?${this.query(params)}` : ''}`,
          headers,
          target: { type: spec.type, id, missing },
          readsOne: false,
          interaction: 'delete',
        };
      }
      case 'bundle': {
        headers['content-type'] = json;
        const entry = spec.entries.map((e, index) => this.entry(e, index));
        return {
          method: 'POST',
          path: '',
          headers,
          body: JSON.stringify({ resourceType: 'Bundle', type: spec.bundleType, entry }),
          readsOne: false,
          interaction: spec.bundleType,
        };
      }
    }
  }

  private entry(e: EntrySpec, index: number): Record<string, unknown> {
    switch (e.method) {
      case 'GET': {
        if (e.search !== undefined) {
          const q = this.query(e.search.map((p) => this.param(p, e.type)));
          return { request: { method: 'GET', url: `${e.type}${q ? `?${q}` : ''}` } };
        }
        return { request: { method: 'GET', url: `${e.type}/${this.id(e.type, e.target).id}` } };
      }
      case 'POST':
        return {
          fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
          resource: this.body(e.type, e.bodyType, e.tags, e.refs),
          request: {
            method: 'POST',
            url: e.type,
            ...(e.ifNoneExist ? { ifNoneExist: this.query([this.param(e.ifNoneExist, e.type)]) } : {}),
          },
        };
      case 'PUT': {
        const { id } = this.id(e.type, e.target, true);
        const bodyId =
          e.bodyId === 'same' ? id : this.id(e.type, { n: e.target.n + 1, missing: false }, true).id;
        return {
          resource: this.body(e.type, e.type, e.tags, e.refs, bodyId),
          request: { method: 'PUT', url: `${e.type}/${id}` },
        };
      }
      case 'PATCH': {
        const { id } = this.id(e.type, e.target, true);
        const patch = this.patchOps('retag', e.tag, e.type);
        return {
          resource: {
            resourceType: 'Binary',
            contentType: 'application/json-patch+json',
            data: Buffer.from(JSON.stringify(patch)).toString('base64'),
          },
          request: { method: 'PATCH', url: `${e.type}/${id}` },
        };
      }
      case 'DELETE':
        return { request: { method: 'DELETE', url: `${e.type}/${this.id(e.type, e.target, true).id}` } };
    }
  }
}
