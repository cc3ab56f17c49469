/**
 * The property test's oracle: what a user may see and what may reach the backend for them, worked
 * out from the world's data as the local FHIR server holds it (read straight from its repository)
 * and from the rules of issue 8 and the OpenSRP spec, never by calling the gateway's own code.
 *
 * The rules, as the oracle applies them:
 * - A resource in an answer needs the read role of its type (GET_X or MANAGE_X) and, for an
 *   ANDROID_CLIENT user, a `meta.tag` of the location system whose code is in the user's tree (the
 *   Locations their affiliations name, and everything below them by `partOf`), unless its type is
 *   exempt: Composition, Binary, ImplementationGuide, or a type the shipped skip-list exempts.
 *   A stored Bundle obeys the tag rule like any resource (R6); a searchset, history, batch-response
 *   or transaction-response Bundle and a Parameters are containers: their contents are judged.
 *   OperationOutcome is a message and always shown. With the shipped allowed-queries file the app
 *   configuration (Composition, Binary, ImplementationGuide) is public: anyone may see it.
 * - Contained resources are judged with the resource that contains them: they have no identity of
 *   their own (FHIR R4 §2.36.0.2), cannot be read or searched alone, and their tags are not sync
 *   tags. The walk therefore does not enter `contained`.
 * - Users with no client role or both, and requests without a token, see only what is public.
 */
import { readFileSync } from 'node:fs';
import { getSearchParameter } from '@medplum/core';
import type { MemoryRepository } from '@medplum/fhir-router';
import type { Resource } from '@medplum/fhirtypes';
import { XMLParser } from 'fast-xml-parser';
import { applyPatch, type Operation } from 'rfc6902';
import { TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import type { User } from './world.js';

export const ALWAYS_EXEMPT = new Set(['Composition', 'Binary', 'ImplementationGuide']);
export const PUBLIC_TYPES = ALWAYS_EXEMPT;
/** The types resources/hapi_sync_filter_ignored_queries.json exempts for GET (by `_id`, so any instance). */
export const SKIP_LISTED: ReadonlySet<string> = new Set(
  (
    JSON.parse(
      readFileSync(
        new URL('../../../resources/hapi_sync_filter_ignored_queries.json', import.meta.url),
        'utf8',
      ),
    ) as { entries: { path: string; methodType?: string; queryParams?: Record<string, string> }[] }
  ).entries
    .filter((e) => (e.methodType ?? 'GET') === 'GET' && e.queryParams?.['_id'] === 'ANY_VALUE')
    .map((e) => e.path),
);
/** The resources assignments are derived from: never written by ANDROID_CLIENT users (default settings). */
export const ASSIGNMENT = new Set([
  'Practitioner',
  'PractitionerRole',
  'CareTeam',
  'Organization',
  'OrganizationAffiliation',
  'Location',
]);
const CONTAINER_BUNDLES = new Set(['searchset', 'history', 'batch-response', 'transaction-response']);

type Json = Record<string, unknown>;
export type AnyResource = Json & { resourceType: string; id?: string };

/** The repository of the local FHIR server, read directly (not through the gateway). */
export class RepoView {
  constructor(private readonly repo: MemoryRepository) {}

  async all(type: string): Promise<AnyResource[]> {
    const bundle = await this.repo.search({ resourceType: type as Resource['resourceType'], count: 100000 });
    return (bundle.entry ?? []).map((e) => e.resource as unknown as AnyResource);
  }

  async get(type: string, id: string): Promise<AnyResource | undefined> {
    try {
      return (await this.repo.readResource(type, id)) as unknown as AnyResource;
    } catch {
      return undefined;
    }
  }
}

const idFrom = (reference: unknown, type: string): string | undefined => {
  if (typeof reference !== 'string') return undefined;
  const match = new RegExp(`^${type}/([^/]+)$`).exec(reference);
  return match?.[1];
};
const refsOf = (value: unknown): unknown[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(
    (r) => (r as { reference?: unknown } | null)?.reference,
  );

/**
 * The Location ids an ANDROID_CLIENT user's Location strategy syncs, computed from the stored
 * data: Practitioners naming the user's `sub` as identifier → their CareTeams (participant) and
 * PractitionerRoles → Organizations → OrganizationAffiliations → Locations → everything below
 * them by `partOf`. Several Practitioners with the same identifier give the union (a superset).
 */
export async function scopeOf(view: RepoView, sub: string): Promise<Set<string>> {
  const practitioners = (await view.all('Practitioner')).filter((p) =>
    (p['identifier'] as { value?: unknown }[] | undefined)?.some((i) => i?.value === sub),
  );
  const pracRefs = new Set(practitioners.map((p) => `Practitioner/${p.id}`));
  const orgIds = new Set<string>();
  for (const team of await view.all('CareTeam')) {
    const members = ((team['participant'] as { member?: unknown }[] | undefined) ?? []).flatMap((p) =>
      refsOf(p?.member),
    );
    if (!members.some((m) => typeof m === 'string' && pracRefs.has(m))) continue;
    for (const ref of refsOf(team['managingOrganization'])) {
      const id = idFrom(ref, 'Organization');
      if (id) orgIds.add(id);
    }
  }
  for (const role of await view.all('PractitionerRole')) {
    const [prac] = refsOf(role['practitioner']);
    if (typeof prac !== 'string' || !pracRefs.has(prac)) continue;
    const id = idFrom(refsOf(role['organization'])[0], 'Organization');
    if (id) orgIds.add(id);
  }
  const organizations = new Set(
    (await view.all('Organization')).map((o) => o.id!).filter((id) => orgIds.has(id)),
  );
  const locations = await view.all('Location');
  const existing = new Set(locations.map((l) => l.id!));
  const roots = new Set<string>();
  for (const aff of await view.all('OrganizationAffiliation')) {
    const org = idFrom(refsOf(aff['organization'])[0], 'Organization');
    if (org === undefined || !organizations.has(org)) continue;
    for (const ref of refsOf(aff['location'])) {
      const id = idFrom(ref, 'Location');
      if (id && existing.has(id)) roots.add(id);
    }
  }
  const scope = new Set(roots);
  let level = [...roots];
  while (level.length > 0) {
    const next: string[] = [];
    for (const location of locations) {
      const parent = idFrom(refsOf(location['partOf'])[0], 'Location');
      if (parent && level.includes(parent) && !scope.has(location.id!)) {
        scope.add(location.id!);
        next.push(location.id!);
      }
    }
    level = next;
  }
  return scope;
}

/** Everything the oracle knows about the caller when a request is sent. */
export interface Caller {
  readonly user: User | undefined; // undefined: no token
  readonly roles: ReadonlySet<string>;
  readonly client: 'android' | 'web' | undefined;
  /** The Android user's tree (empty without an assignment or an app id). */
  readonly scope: ReadonlySet<string>;
  readonly publicConfig: boolean;
}

export async function callerOf(
  view: RepoView,
  user: User | undefined,
  publicConfig: boolean,
): Promise<Caller> {
  const client =
    user === undefined || user.client === 'both' || user.client === 'none' || user.client === 'anonymous'
      ? undefined
      : user.client;
  const scope = client === 'android' && user?.appId ? await scopeOf(view, user.sub) : new Set<string>();
  return {
    user: user?.client === 'anonymous' ? undefined : user,
    roles: new Set(user?.roles ?? []),
    client,
    scope,
    publicConfig,
  };
}

export const canRead = (caller: Caller, type: string): boolean =>
  caller.roles.has(`GET_${type.toUpperCase()}`) || caller.roles.has(`MANAGE_${type.toUpperCase()}`);
export const hasRole = (caller: Caller, verb: string, type: string): boolean =>
  caller.roles.has(`${verb}_${type.toUpperCase()}`) || caller.roles.has(`MANAGE_${type.toUpperCase()}`);

export function locationTags(resource: unknown): string[] {
  const tags = (resource as { meta?: { tag?: unknown } } | null)?.meta?.tag;
  if (!Array.isArray(tags)) return [];
  return tags
    .filter((t: { system?: unknown; code?: unknown } | null) => t?.system === TAG_SYSTEMS.location)
    .map((t: { code?: unknown }) => String(t.code));
}

export const inScope = (caller: Caller, resource: unknown): boolean =>
  locationTags(resource).some((code) => caller.scope.has(code));
export const exemptType = (type: string): boolean => ALWAYS_EXEMPT.has(type) || SKIP_LISTED.has(type);

/** Why the caller may not see this (stored) resource, or undefined when they may. */
export function hiddenBecause(caller: Caller, resource: AnyResource): string | undefined {
  const type = resource.resourceType;
  if (type === 'OperationOutcome') return undefined;
  if (caller.publicConfig && PUBLIC_TYPES.has(type)) return undefined;
  if (caller.client === undefined) return 'the caller has no single client role (or no token)';
  if (!canRead(caller, type))
    return `the caller has neither GET_${type.toUpperCase()} nor MANAGE_${type.toUpperCase()}`;
  if (caller.client === 'android' && !exemptType(type) && !inScope(caller, resource)) {
    const tags = locationTags(resource);
    return `outside the Android user's tree {${[...caller.scope].join(',')}} (location tags: ${tags.length === 0 ? 'none' : tags.join(',')})`;
  }
  return undefined;
}

const isResource = (value: unknown): value is AnyResource =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  typeof (value as { resourceType?: unknown }).resourceType === 'string';

const isContainer = (r: AnyResource): boolean =>
  r.resourceType === 'Parameters' ||
  (r.resourceType === 'Bundle' && CONTAINER_BUNDLES.has(String(r['type'])));

/**
 * Every resource in an answer the caller may not see, as `Type/id: why`. `storedTop` says whether
 * a top-level Bundle that is not a searchset/history/response is a stored one (a read of
 * `Bundle/<id>`) rather than an operation's output.
 */
export function leaksIn(caller: Caller, body: unknown, storedTop: boolean): string[] {
  return leaksWith((resource) => hiddenBecause(caller, resource), body, storedTop);
}

/** As `leaksIn`, with the reason a resource is hidden given by `hidden` (undefined: visible). */
export function leaksWith(
  hidden: (resource: AnyResource) => string | undefined,
  body: unknown,
  storedTop: boolean,
): string[] {
  const leaks: string[] = [];
  const judge = (resource: AnyResource) => {
    const why = hidden(resource);
    if (why) leaks.push(`${resource.resourceType}/${resource.id ?? '?'}: ${why}`);
  };
  const walk = (value: unknown, top: boolean): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, false);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    if (isResource(value)) {
      const container = isContainer(value) || (top && !storedTop && value.resourceType === 'Bundle');
      if (!container) judge(value);
      for (const [key, field] of Object.entries(value)) {
        if (key === 'contained') continue; // judged with their container
        walk(field, false);
      }
      return;
    }
    for (const field of Object.values(value)) walk(field, false);
  };
  walk(body, true);
  return leaks;
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
});

/**
 * FHIR XML as the JSON shape `leaksIn` walks: each element named after a resource type becomes a
 * resource with its id, `meta.tag`, Bundle `type`, entries and parameters; other elements keep
 * their children. (Enough to judge which resources an XML answer carries.)
 */
export function xmlAsJson(text: string): unknown {
  const doc = xml.parse(text) as Json;
  const value = (el: unknown): string | undefined => {
    const first = Array.isArray(el) ? el[0] : el;
    const v = (first as Json | undefined)?.['@value'];
    return typeof v === 'string' ? v : undefined;
  };
  const convert = (name: string, el: Json): unknown => {
    if (/^[A-Z]/.test(name)) {
      const out: Json = { resourceType: name };
      const id = value(el['id']);
      if (id !== undefined) out['id'] = id;
      const meta = (el['meta'] as Json[] | undefined)?.[0];
      const tags = (meta?.['tag'] as Json[] | undefined) ?? [];
      if (tags.length > 0)
        out['meta'] = { tag: tags.map((t) => ({ system: value(t['system']), code: value(t['code']) })) };
      const type = value(el['type']);
      if (type !== undefined) out['type'] = type;
      for (const [key, children] of Object.entries(el)) {
        if (
          key === 'id' ||
          key === 'meta' ||
          key === 'type' ||
          key.startsWith('@') ||
          !Array.isArray(children)
        )
          continue;
        out[key] = primitive(children) ?? children.map((child) => convertChildren(child as Json));
      }
      return out;
    }
    return convertChildren(el);
  };
  // `<status value="final"/>` is "final" (and several such elements an array of strings).
  const primitive = (children: unknown[]): unknown => {
    const values = children.map((child) => {
      const keys = Object.keys(child as Json);
      return keys.length === 1 && keys[0] === '@value' ? (child as Json)['@value'] : undefined;
    });
    if (values.some((v) => v === undefined)) return undefined;
    return values.length === 1 ? values[0] : values;
  };
  const convertChildren = (el: Json): unknown => {
    if (typeof el !== 'object' || el === null) return el;
    const out: Json = {};
    for (const [key, children] of Object.entries(el)) {
      if (key.startsWith('@') || !Array.isArray(children)) continue;
      const converted = primitive(children) ?? children.map((child) => convert(key, child as Json));
      // A `<resource>` wraps one resource element.
      out[key] = converted;
    }
    // Unwrap `{ Patient: [resource] }` under `resource` so the walk sees the resource itself.
    const keys = Object.keys(out);
    if (keys.length === 1 && /^[A-Z]/.test(keys[0]!)) return (out[keys[0]!] as unknown[])[0];
    return out;
  };
  const roots = Object.entries(doc).filter(([key]) => !key.startsWith('?'));
  if (roots.length !== 1) return undefined;
  const [name, els] = roots[0]!;
  return convert(name, (els as Json[])[0]!);
}

export type Violation = {
  kind: 'leak' | 'forward' | 'gateway-5xx' | 'existence' | 'rejection';
  detail: string;
};

/** A request as the local FHIR server received it, below the FHIR base. */
export interface Forwarded {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What the oracle knows of the stored data before the request (for writes). */
export interface Before {
  stored(type: string, id: string): AnyResource | undefined;
  /** True when `Type/id` has a history but no current version (a PUT would bring it back). */
  deleted(type: string, id: string): boolean;
}

/** Why a forwarded request was not authorized for the caller, or [] when it was. */
export function forwardProblems(
  caller: Caller,
  fwd: Forwarded,
  before: Before,
  pageOwner: (id: string) => User | undefined,
): string[] {
  const segments = fwd.path.split('/').filter((s) => s !== '');
  const problems: string[] = [];
  const say = (text: string) =>
    problems.push(`${fwd.method} /${segments.join('/')}${fwd.query.size ? `?${fwd.query}` : ''}: ${text}`);

  const pages = fwd.query.getAll('_getpages');
  if (segments.length === 0 && pages.length > 0) {
    if (caller.user === undefined) say('a paging link without a token');
    for (const page of pages) {
      const owner = pageOwner(page);
      if (caller.client === undefined) say('a paging link for a caller with no single client role');
      else if (owner !== undefined && owner.sub !== caller.user?.sub)
        say(`page ${page} belongs to ${owner.label}`);
    }
    return problems;
  }
  if (segments.length === 0 && fwd.method === 'POST') {
    const entries = bundleEntriesOf(fwd);
    if (typeof entries === 'string') return [entries];
    for (const [index, sub] of entries.entries())
      for (const p of forwardProblems(caller, sub, before, pageOwner)) problems.push(`entry ${index}: ${p}`);
    return problems;
  }

  const type = segments[0] ?? '';
  if (type === 'metadata' && segments.length === 1) return problems;
  if (type.startsWith('$') || type.startsWith('_') || segments.length === 0) {
    // System-level searches, histories and operations name no type: no role grants them.
    say('a system-level request reached the backend');
    return problems;
  }

  const isPublicRead =
    caller.publicConfig &&
    PUBLIC_TYPES.has(type) &&
    (fwd.method === 'GET' || fwd.method === 'HEAD') &&
    !segments.some((s) => s.startsWith('$')) &&
    ![...fwd.query.keys()].some(joinParam);
  if (caller.client === undefined) {
    if (!isPublicRead) say('forwarded for a caller with no single client role (or no token)');
    return problems;
  }

  const op = segments.find((s) => s.startsWith('$'));
  const compartment =
    segments.length === 3 && !segments[2]!.startsWith('$') && !segments[2]!.startsWith('_')
      ? segments[2]
      : undefined;
  const read =
    fwd.method === 'GET' || fwd.method === 'HEAD' || (fwd.method === 'POST' && segments[1] === '_search');
  const needs: [string, string][] = [];
  if (op !== undefined) {
    if (
      op === '$graphql' ||
      op === '$everything' ||
      op === '$document' ||
      op === '$graph' ||
      op === '$export'
    )
      say(`${op} cannot be bounded by roles`);
    needs.push(['GET', type]);
    if (fwd.method === 'POST') needs.push(['POST', type]);
    if (op === '$expunge') needs.push(['DELETE', type]);
  } else if (read) {
    needs.push(['GET', type]);
    if (compartment) needs.push(['GET', compartment]);
  } else if (fwd.method === 'POST') needs.push(['POST', type]);
  else if (fwd.method === 'PUT') needs.push(['PUT', type]);
  else if (fwd.method === 'PATCH') needs.push(['PATCH', type]);
  else if (fwd.method === 'DELETE') needs.push(['DELETE', type]);
  if (fwd.query.has('_cascade')) say('_cascade reached the backend');
  if (fwd.query.has('_expunge')) needs.push(['DELETE', type]);

  const searchType = compartment ?? type;
  const params: [string, string][] = [...fwd.query.entries()];
  if (fwd.headers['if-none-exist'] !== undefined) {
    const header = fwd.headers['if-none-exist'];
    params.push(...new URLSearchParams(header.startsWith('?') ? header.slice(1) : header).entries());
  }
  if (fwd.method === 'POST' && segments[1] === '_search')
    params.push(...new URLSearchParams(fwd.body).entries());
  for (const [name, value] of params) {
    for (const reached of reachOf(name, value, searchType)) {
      if (reached === '*') say(`${name}=${value} reaches types that cannot be named`);
      else if (reached.startsWith('probe:')) {
        const t = reached.slice(6);
        needs.push(['GET', t]);
        if (caller.client === 'android' && !exemptType(t))
          say(`${name} searches ${t}, which cannot be narrowed`);
      } else needs.push(['GET', reached]);
    }
  }
  for (const [verb, t] of needs)
    if (!hasRole(caller, verb, t) && !isPublicRead) say(`needs ${verb}_${t.toUpperCase()}`);

  if (caller.client === 'android') {
    if (op === '$expunge' || fwd.query.has('_expunge')) say('an Android user erased data');
    const search = read && (segments.length === 1 || compartment !== undefined || segments[1] === '_search');
    if (search && !exemptType(searchType)) {
      const tags = params.filter(([name]) => name === '_tag').map(([, value]) => value);
      const narrowed = tags.some(
        (value) =>
          value !== '' &&
          value.split(',').every((v) => {
            const [system, code] = v.split('|');
            return system === TAG_SYSTEMS.location && code !== undefined && caller.scope.has(code);
          }),
      );
      if (!narrowed)
        say(`an Android search without the _tag narrowing to the tree {${[...caller.scope].join(',')}}`);
    }
    if (!read && op === undefined)
      problems.push(
        ...androidWriteProblems(caller, fwd, segments, before).map(
          (p) => `${fwd.method} /${segments.join('/')}: ${p}`,
        ),
      );
  }
  if (!read && op === undefined) for (const p of bodyIdentityProblems(fwd, segments)) say(p);
  return problems;
}

/** A create or update body must be the resource its URL names, with the URL's id. */
export function bodyIdentityProblems(fwd: Forwarded, segments: readonly string[]): string[] {
  if ((fwd.method !== 'POST' && fwd.method !== 'PUT') || fwd.body === '') return [];
  const type = segments[0];
  const problems: string[] = [];
  try {
    const body = JSON.parse(fwd.body) as Json;
    if (body['resourceType'] !== type)
      problems.push(`a ${String(body['resourceType'])} body written as ${type}`);
    if (
      fwd.method === 'PUT' &&
      segments[1] !== undefined &&
      body['id'] !== undefined &&
      body['id'] !== segments[1]
    )
      problems.push(`a body with id ${String(body['id'])} written to ${type}/${segments[1]}`);
  } catch {
    // Not JSON (XML bodies are not generated for writes).
  }
  return problems;
}

/** The entries of a Bundle POSTed to the base, each as the request it stands for. */
export function bundleEntriesOf(fwd: Forwarded): Forwarded[] | string {
  let bundle: Json;
  try {
    bundle = JSON.parse(fwd.body) as Json;
  } catch {
    return 'POST base: a body that is not JSON reached the backend';
  }
  return ((bundle['entry'] as Json[] | undefined) ?? []).map((entry): Forwarded => {
    const request = entry?.['request'] as
      | { method?: string; url?: string; ifNoneExist?: unknown }
      | undefined;
    const [path, search] = (request?.url ?? '').split('?');
    return {
      method: request?.method ?? 'GET',
      path: path ?? '',
      query: new URLSearchParams(search ?? ''),
      headers:
        request?.ifNoneExist !== undefined
          ? { 'if-none-exist': String(request.ifNoneExist) }
          : ({} as Record<string, string>),
      body: entry?.['resource'] === undefined ? '' : JSON.stringify(entry['resource']),
    };
  });
}

export function joinParam(name: string): boolean {
  return /^_(rev)?include|^_has|^_contained|^_filter|^_query|\./.test(name);
}

/** Types a search parameter returns or searches: a type, `probe:<type>`, or `*` when it cannot be named. */
function reachOf(name: string, value: string, base: string): string[] {
  if (/^_include/.test(name)) {
    return value.split(',').flatMap((spec) => {
      const [source, code, target] = spec.split(':');
      if (!source || !code || code === '*') return ['*'];
      if (target) return [target];
      const param = getSearchParameter(source, code);
      if (!param?.target || param.target.length > 20) return ['*'];
      return param.target;
    });
  }
  if (/^_revinclude/.test(name)) {
    return value.split(',').map((spec) => {
      const [source, code] = spec.split(':');
      return !source || !code || source === '*' ? '*' : source;
    });
  }
  if (name === '_type') return value.split(',');
  if (name === '_list') return ['probe:List'];
  if (name === '_filter' || name === '_query' || name === '_containedType') return ['*'];
  if (name === '_contained') return value === 'false' ? [] : ['*'];
  return chainReach(name, [base]);
}

function chainReach(name: string, bases: readonly string[]): string[] {
  if (name.startsWith('_has:')) {
    const [, type, , ...rest] = name.split(':');
    if (!type) return ['*'];
    return [`probe:${type}`, ...chainReach(rest.join(':'), [type])];
  }
  const dot = name.indexOf('.');
  if (dot === -1) return [];
  const [code, typed] = name.slice(0, dot).split(':');
  const next = name.slice(dot + 1);
  if (typed) return [`probe:${typed}`, ...chainReach(next, [typed])];
  const targets = bases.flatMap((b) => getSearchParameter(b, code ?? '')?.target ?? []);
  if (targets.length === 0 || targets.length > 20) return ['*'];
  return [...targets.map((t) => `probe:${t}`), ...chainReach(next, targets)];
}

/** The write rules of issue 8 for ANDROID_CLIENT users (default settings). */
function androidWriteProblems(caller: Caller, fwd: Forwarded, segments: string[], before: Before): string[] {
  const type = segments[0]!;
  const id = segments[1];
  const problems: string[] = [];
  if (ASSIGNMENT.has(type))
    problems.push(`an Android user wrote ${type}, which assignments are derived from`);
  if (ALWAYS_EXEMPT.has(type)) problems.push(`an Android user wrote app configuration (${type})`);
  if (id === undefined && fwd.method !== 'POST') {
    problems.push('a conditional write reached the backend (not generated; judge by hand)');
    return problems;
  }
  const stored = id === undefined ? undefined : before.stored(type, id);
  if (stored !== undefined && !inScope(caller, stored))
    problems.push(`the stored ${type}/${id} is outside the tree`);
  let next: unknown;
  try {
    if (fwd.method === 'POST' || fwd.method === 'PUT') next = JSON.parse(fwd.body);
    else if (fwd.method === 'PATCH' && stored !== undefined) {
      const patched = structuredClone(stored);
      applyPatch(patched, parsePatch(fwd) as Operation[]);
      next = patched;
    }
  } catch {
    next = undefined;
  }
  if (next !== undefined) {
    const outside = locationTags(next).filter((code) => !caller.scope.has(code));
    if (outside.length > 0)
      problems.push(`the new version carries location tags outside the tree: ${outside.join(',')}`);
    if (fwd.method !== 'POST' && !inScope(caller, next))
      problems.push('the new version carries no tag of the tree');
    // An untagged resource of a skip-listed type is app configuration, which Android users do not write.
    if (fwd.method === 'POST' && SKIP_LISTED.has(type) && !carriesSyncTag(next))
      problems.push(`an untagged ${type} (app configuration) was created`);
  }
  return problems;
}

const SYNC_SYSTEMS: ReadonlySet<string> = new Set(
  Object.values(TAG_SYSTEMS).filter((s) => s !== TAG_SYSTEMS.adminLevel),
);

function carriesSyncTag(resource: unknown): boolean {
  const tags = (resource as { meta?: { tag?: unknown } } | null)?.meta?.tag;
  return (
    Array.isArray(tags) && tags.some((t: { system?: unknown } | null) => SYNC_SYSTEMS.has(String(t?.system)))
  );
}

export function parsePatch(fwd: Forwarded): unknown {
  const body = JSON.parse(fwd.body) as unknown;
  // A Bundle entry carries a JSON Patch as a Binary (the Android FHIR engine's way).
  if ((body as Json)?.['resourceType'] === 'Binary') {
    return JSON.parse(Buffer.from(String((body as Json)['data']), 'base64').toString('utf8'));
  }
  return body;
}
