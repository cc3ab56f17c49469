/**
 * Searchset answers: type, system and compartment searches, `POST _search`, instance
 * `Patient/$everything`, and HAPI `_getpages` continuations. Matches come first with
 * `search.mode = match`, then the page's joined resources with `search.mode = include`.
 */
import type { MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import { offsetLinks, withQuery } from './bundle-links.js';
import { patientCompartmentParams } from './compartment.js';
import type { FhirBackend } from './fhir-handler.js';
import { type Reply, sendOutcome, sendResource } from './http-response.js';
import { findIncluded, type Join, parseJoins } from './includes.js';
import { continuationWindow, gcpLinks, hapiLinks, type KeptSearch } from './paging.js';
import { allOfType, keyOf, readKey, referenceParams, referencesOf } from './references.js';
import { problem } from './request-body.js';
import { type Failure, findMatches, requestedWindow, type SearchQuery } from './search.js';

/** `$everything` adds what its members reference, once (HAPI's `_include=*` for the operation). */
const EVERYTHING_JOINS: Join[] = [{ reverse: false, iterate: false, sourceType: '*', param: '*' }];

interface PageInput {
  all: Resource[];
  total: number;
  window: { offset: number; count?: number };
  joins: Join[];
  /** The parameters of the request being answered (for the echoed links and HAPI's link extras). */
  request: URLSearchParams;
  selfUrl: string;
  /** Where offset-mode links point (the search or operation URL). */
  searchUrl: string;
  /** For a first page in HAPI mode: what a continuation replays. */
  keep?: (count: number) => KeptSearch;
  /** For a continuation: the kept search's id. */
  searchId?: string;
  /** `$everything`'s `_type`: only these types are returned. */
  types?: ReadonlySet<string>;
}

export async function answerSearch(backend: FhirBackend, reply: Reply, query: SearchQuery): Promise<void> {
  const joins = parseJoins(query.params);
  if (typeof joins === 'string') return sendOutcome(reply, 400, problem('invalid', joins));
  const found = await findMatches(backend.repo, query);
  if ('outcome' in found) return sendOutcome(reply, found.status, found.outcome);
  const searchUrl = query.type ? `${backend.baseUrl}/${query.type}` : backend.baseUrl;
  await sendPage(backend, reply, {
    all: found.all,
    total: found.total,
    window: found,
    joins,
    request: query.params,
    selfUrl: withQuery(searchUrl, query.params),
    searchUrl,
    keep: (count) => ({ kind: 'search', query, count }),
  });
}

export async function answerEverything(
  backend: FhirBackend,
  reply: Reply,
  patientId: string,
  params: URLSearchParams,
): Promise<void> {
  const window = requestedWindow(params);
  if ('outcome' in window) return sendOutcome(reply, window.status, window.outcome);
  const all = await everythingMatches(backend.repo, backend.baseUrl, patientId);
  if ('outcome' in all) return sendOutcome(reply, all.status, all.outcome);
  const searchUrl = `${backend.baseUrl}/Patient/${patientId}/$everything`;
  const types = typeFilter(params);
  const matches = types ? all.filter((r) => types.has(r.resourceType)) : all;
  await sendPage(backend, reply, {
    all: matches,
    total: matches.length,
    window,
    joins: EVERYTHING_JOINS,
    request: params,
    selfUrl: withQuery(searchUrl, params),
    searchUrl,
    keep: (count) => ({ kind: 'everything', patientId, params, count }),
    ...(types ? { types } : {}),
  });
}

/** `GET [base]?_getpages=<id>&_getpagesoffset=N&_count=N`: the kept search again, for that window. */
export async function answerContinuation(
  backend: FhirBackend,
  reply: Reply,
  params: URLSearchParams,
): Promise<void> {
  const searchId = params.get('_getpages') ?? '';
  const kept = backend.searches.find(searchId);
  if ('outcome' in kept) return sendOutcome(reply, kept.status, kept.outcome);
  const window = continuationWindow(params, kept);
  if ('outcome' in window) return sendOutcome(reply, window.status, window.outcome);
  const common = { window, request: params, selfUrl: withQuery(backend.baseUrl, params), searchId };
  if (kept.kind === 'search') {
    const joins = parseJoins(kept.query.params);
    const found = await findMatches(backend.repo, kept.query);
    if ('outcome' in found) return sendOutcome(reply, found.status, found.outcome);
    const searchUrl = kept.query.type ? `${backend.baseUrl}/${kept.query.type}` : backend.baseUrl;
    return sendPage(backend, reply, {
      ...common,
      all: found.all,
      total: found.total,
      joins: typeof joins === 'string' ? [] : joins,
      searchUrl,
    });
  }
  const all = await everythingMatches(backend.repo, backend.baseUrl, kept.patientId);
  if ('outcome' in all) return sendOutcome(reply, all.status, all.outcome);
  const types = typeFilter(kept.params);
  const matches = types ? all.filter((r) => types.has(r.resourceType)) : all;
  return sendPage(backend, reply, {
    ...common,
    all: matches,
    total: matches.length,
    joins: EVERYTHING_JOINS,
    searchUrl: `${backend.baseUrl}/Patient/${kept.patientId}/$everything`,
    ...(types ? { types } : {}),
  });
}

async function sendPage(backend: FhirBackend, reply: Reply, input: PageInput): Promise<void> {
  const hapi = backend.paging === 'hapi';
  const offset = input.window.offset;
  const count = input.window.count ?? (hapi ? backend.pageSize : undefined);
  const page = input.all.slice(offset, count === undefined ? undefined : offset + count);
  let included = await findIncluded(backend.repo, backend.baseUrl, page, input.joins);
  if (input.types) included = included.filter((r) => input.types?.has(r.resourceType));

  let searchId = input.searchId;
  if (hapi && !searchId && input.keep)
    searchId = backend.searches.keep(input.keep(count ?? backend.pageSize));
  const links: BundleLink[] =
    hapi && searchId
      ? hapiLinks(
          backend.baseUrl,
          input.selfUrl,
          searchId,
          { offset, count: count ?? backend.pageSize },
          input.total,
          input.request,
        )
      : backend.paging === 'gcp'
        ? gcpLinks(
            input.searchUrl,
            input.request,
            { offset, ...(count === undefined ? {} : { count }) },
            input.total,
          )
        : offsetLinks(input.searchUrl, input.request, input.total);

  const entry: BundleEntry[] = [
    ...page.map((resource) => searchEntry(backend.baseUrl, resource, 'match')),
    ...included.map((resource) => searchEntry(backend.baseUrl, resource, 'include')),
  ];
  const bundle: Bundle = {
    resourceType: 'Bundle',
    ...(hapi && searchId ? { id: searchId, meta: { lastUpdated: new Date().toISOString() } } : {}),
    type: 'searchset',
    total: input.total,
    link: links,
    ...(entry.length > 0 ? { entry } : {}),
  };
  sendResource(reply, 200, bundle);
}

function searchEntry(baseUrl: string, resource: Resource, mode: 'match' | 'include'): BundleEntry {
  return { fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode } };
}

/**
 * The patient, then every resource in its compartment (a reference parameter the compartment
 * definition names points at it), in type order.
 */
async function everythingMatches(
  repo: MemoryRepository,
  baseUrl: string,
  patientId: string,
): Promise<Resource[] | Failure> {
  const patientKey = `Patient/${patientId}`;
  const patient = await readKey(repo, patientKey);
  if (!patient) {
    return { status: 404, outcome: problem('not-found', `Resource ${patientKey} is not known`) };
  }
  const members: Resource[] = [patient];
  for (const [type, codes] of patientCompartmentParams()) {
    const params = referenceParams(type);
    const compartmentParams = codes.flatMap((code) => params.get(code) ?? []);
    if (compartmentParams.length === 0) continue;
    for (const candidate of await allOfType(repo, type)) {
      if (keyOf(candidate) === patientKey) continue;
      const inside = compartmentParams.some((param) =>
        referencesOf(candidate, param, baseUrl).includes(patientKey),
      );
      if (inside) members.push(candidate);
    }
  }
  return members;
}

function typeFilter(params: URLSearchParams): ReadonlySet<string> | undefined {
  const types = params
    .getAll('_type')
    .flatMap((value) => value.split(','))
    .map((type) => type.trim())
    .filter(Boolean);
  return types.length > 0 ? new Set(types) : undefined;
}
