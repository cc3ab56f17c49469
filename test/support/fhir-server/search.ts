import { getStatus, isResourceType, normalizeOperationOutcome, parseSearchRequest } from '@medplum/core';
import type { MemoryRepository } from '@medplum/fhir-router';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { isJoinParam } from './includes.js';
import { problem, toRouterQuery } from './request-body.js';

export type Failure = { status: number; outcome: OperationOutcome };

/** A type search (`type` set) or a system search over `_type`, with every parameter as asked. */
export interface SearchQuery {
  type?: string;
  params: URLSearchParams;
}

/** Every match in order, the total, and the page window the query asked for (`_count`, `_offset`). */
export interface Matches {
  all: Resource[];
  total: number;
  offset: number;
  count?: number;
}

/** Parameters the wrapper handles itself; MemoryRepository would read them as filters matching nothing. */
const WRAPPER_PARAMS = new Set(['_format', '_pretty', '_bundletype', '_getpages', '_getpagesoffset']);

export function isWrapperParam(name: string): boolean {
  return WRAPPER_PARAMS.has(name) || isJoinParam(name);
}

export async function findMatches(repo: MemoryRepository, query: SearchQuery): Promise<Matches | Failure> {
  const filters = new URLSearchParams();
  for (const [name, value] of query.params) {
    if (!isWrapperParam(name) && !(query.type === undefined && name === '_type')) filters.append(name, value);
  }
  const types = query.type ? [query.type] : systemSearchTypes(query.params);
  if (!Array.isArray(types)) return types;
  try {
    const all: Resource[] = [];
    let total = 0;
    let window: { offset: number; count?: number } = { offset: 0 };
    for (const type of types) {
      const request = parseSearchRequest(type as Resource['resourceType'], toRouterQuery(filters));
      const parsed = pageWindow(request.offset, request.count);
      if (typeof parsed === 'string') return { status: 400, outcome: problem('invalid', parsed) };
      window = parsed;
      // The page is cut here, after all matches are known, so paging modes can share one search.
      const bundle = await repo.search({ ...request, offset: undefined, count: undefined });
      for (const entry of bundle.entry ?? []) if (entry.resource) all.push(entry.resource);
      total += bundle.total ?? 0;
    }
    return { all, total, ...window };
  } catch (err) {
    const outcome = normalizeOperationOutcome(err);
    return { status: getStatus(outcome), outcome };
  }
}

function pageWindow(
  offset: number | null | undefined,
  count: number | null | undefined,
): { offset: number; count?: number } | string {
  if (offset === null || (offset !== undefined && (!Number.isInteger(offset) || offset < 0))) {
    return 'Invalid _offset parameter: expected a non-negative integer';
  }
  if (count === null || (count !== undefined && (!Number.isInteger(count) || count < 0))) {
    return 'Invalid _count parameter: expected a non-negative integer';
  }
  return { offset: offset ?? 0, ...(count === undefined ? {} : { count }) };
}

function systemSearchTypes(params: URLSearchParams): string[] | Failure {
  const types = params
    .getAll('_type')
    .flatMap((value) => value.split(','))
    .map((type) => type.trim())
    .filter(Boolean);
  const unknown = types.find((type) => !isResourceType(type));
  if (unknown)
    return { status: 400, outcome: problem('invalid', `Unknown resource type in _type: ${unknown}`) };
  if (types.length === 0) return { status: 400, outcome: problem('invalid', 'A system search needs _type') };
  return types;
}

/** `_count` and `_offset` of a request the repository does not parse (an operation's). */
export function requestedWindow(params: URLSearchParams): { offset: number; count?: number } | Failure {
  const read = (name: string) => {
    const value = params.get(name);
    if (value === null) return undefined;
    return /^\d+$/.test(value) ? Number.parseInt(value, 10) : null;
  };
  const window = pageWindow(read('_offset'), read('_count'));
  return typeof window === 'string' ? { status: 400, outcome: problem('invalid', window) } : window;
}
