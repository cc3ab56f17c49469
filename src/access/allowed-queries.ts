/**
 * The allowed-queries matcher: a list of requests that are granted without any access checker,
 * in the Java gateway's file format (see docs/configuration.md, "Allowed queries").
 * An entry can also admit requests that carry no token at all (`allowUnauthenticatedRequests`).
 * A match is a plain grant: no mutation, no post-processing. So matching is exact where upstream's
 * is loose (issue 8, cases U1-U4, U8): a path wildcard stands for one id, never for a sub-path or
 * for no id at all, and params that reach other resources pass only when the entry names them.
 */
import { isFhirId } from '../fhir/ids.js';
import type { QueryParam } from '../fhir/request.js';
import { isResourceType } from '../fhir/resource-types.js';

/**
 * As a param value, matches any non-blank value (single or repeated; a comma list without empty
 * items). As a path segment after the first, matches exactly one FHIR id: `Composition/ANY_VALUE`
 * matches `Composition/1`, not `Composition`, `Composition/1/$document` nor `Composition/1/_history`.
 */
export const ANY_VALUE = 'ANY_VALUE';

const ALLOWED_QUERIES_VARIABLE = 'ALLOWED_QUERIES_FILE';
const READ_METHODS = new Set(['GET', 'HEAD']);
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

export interface AllowedQueryEntry {
  /** Request path without the leading slash and the FHIR base; `''` is the base itself. */
  readonly path: string;
  /** HTTP method, compared case-insensitively; undefined matches every method (as upstream). */
  readonly requestType?: string;
  /** Param name → exact decoded value, or ANY_VALUE. */
  readonly queryParams: Readonly<Record<string, string>>;
  readonly allowExtraParams: boolean;
  readonly allParamsRequired: boolean;
  readonly allowUnauthenticatedRequests: boolean;
}

/** What the matcher needs from a request. */
export interface AllowedQueryRequest {
  readonly method: string;
  /** Without the leading slash and the FHIR base; `''` for the base itself. */
  readonly path: string;
  readonly query: readonly QueryParam[];
}

export class AllowedQueries {
  /** The allow-list when ALLOWED_QUERIES_FILE is unset: matches nothing. */
  static readonly NONE = new AllowedQueries([]);

  readonly entries: readonly AllowedQueryEntry[];
  readonly #loadWarnings: readonly string[];

  /** @param loadWarnings notes from reading the file (e.g. ignored unknown fields), reported by warnings(). */
  constructor(entries: readonly AllowedQueryEntry[], loadWarnings: readonly string[] = []) {
    this.entries = entries;
    this.#loadWarnings = loadWarnings;
  }

  /**
   * The first entry that matches, or undefined. Without a token (`authenticated` false) only the
   * entries with `allowUnauthenticatedRequests` count; with one, all entries do.
   */
  match(req: AllowedQueryRequest, authenticated: boolean): AllowedQueryEntry | undefined {
    return this.entries.find(
      (entry) => (authenticated || entry.allowUnauthenticatedRequests) && entryMatches(entry, req),
    );
  }

  /** Entries that open more than their author probably meant; the caller logs these at start. */
  warnings(): string[] {
    return [...this.#loadWarnings, ...this.entries.flatMap((entry, index) => entryWarnings(entry, index))];
  }
}

function entryMatches(entry: AllowedQueryEntry, req: AllowedQueryRequest): boolean {
  return (
    pathMatches(entry.path, req.path) && methodMatches(entry, req.method) && paramsMatch(entry, req.query)
  );
}

// Segment by segment, same count: the request path is canonical (fhir/serialize formatPath), so
// `Type/id/$op`, `Type/id/_history` and `Type/_search` all have a segment that is not an id.
function pathMatches(entryPath: string, requestPath: string): boolean {
  if (requestPath === entryPath) return true;
  const expected = entryPath.split('/');
  const actual = requestPath.split('/');
  if (expected.length !== actual.length) return false;
  return expected.every((segment, index) =>
    index > 0 && segment === ANY_VALUE ? isFhirId(actual[index]!) : segment === actual[index],
  );
}

// An empty requestType never matches, as upstream (it compares "" with the method name).
function methodMatches(entry: AllowedQueryEntry, method: string): boolean {
  return entry.requestType === undefined || entry.requestType.toUpperCase() === method.toUpperCase();
}

function paramsMatch(entry: AllowedQueryEntry, query: readonly QueryParam[]): boolean {
  const valuesByName = new Map<string, string[]>();
  for (const { name, value } of query) {
    const values = valuesByName.get(name);
    if (values === undefined) valuesByName.set(name, [value]);
    else values.push(value);
  }
  let matchedNames = 0;
  for (const [name, expected] of Object.entries(entry.queryParams)) {
    const actual = valuesByName.get(name);
    if (actual === undefined) {
      if (entry.allParamsRequired) return false;
      continue;
    }
    // A repeated param (`a=1&a=2`) matches only ANY_VALUE; a comma list is one whole value.
    if (expected === ANY_VALUE) {
      if (!actual.every(isFilledValue)) return false;
    } else if (actual.length !== 1 || actual[0] !== expected) return false;
    matchedNames++;
  }
  // Upstream counts distinct names: every name in the request must be a configured one.
  if (matchedNames === valuesByName.size) return true;
  if (!entry.allowExtraParams) return false;
  for (const [name, values] of valuesByName) {
    if (Object.hasOwn(entry.queryParams, name)) continue;
    if (reachesOtherData(name) || sortsByOtherData(name, values)) return false;
  }
  return true;
}

/** `_sort=subject.name` orders by another resource's field: an oracle on it (RT8); `_sort=-date` is not. */
function sortsByOtherData(name: string, values: readonly string[]): boolean {
  return name.trim().toLowerCase() === '_sort' && values.some((value) => /[.:]/.test(value));
}

// FHIR servers ignore a blank search value (and blank items of an OR list), which would turn
// `Binary?_id=` into a search of every Binary.
function isFilledValue(value: string): boolean {
  return value.split(',').every((item) => item.trim() !== '');
}

const JOIN_PARAM_PREFIXES = [
  '_include', // also _include:iterate, _include:recurse
  '_revinclude',
  '_has', // reverse chaining, _has:Type:ref:param
  '_contained', // also _containedType
  '_filter',
  '_query', // named queries run server-side logic
  '_list', // membership of a List: a probe of that List
];
/** A continuation of another search (HAPI); `_getpagesoffset` alone is harmless. */
const PAGING_PARAM = '_getpages';

/**
 * Params that make the answer carry, or the match depend on, resources other than the ones the
 * entry's path names: joins, chains (search.html#chaining, `subject:Patient.name`), reverse chains,
 * contained resources, filters, named queries and paging continuations. `allowExtraParams` never
 * admits them; an entry must name them. Compared leniently (case, spaces) since servers differ.
 */
export function reachesOtherData(name: string): boolean {
  const normalized = name.trim().toLowerCase();
  return (
    normalized.includes('.') ||
    normalized === PAGING_PARAM ||
    JOIN_PARAM_PREFIXES.some((prefix) => normalized.startsWith(prefix))
  );
}

function entryWarnings(entry: AllowedQueryEntry, index: number): string[] {
  const where = `${ALLOWED_QUERIES_VARIABLE}: entries[${index}] (path ${JSON.stringify(entry.path)})`;
  const method = entry.requestType?.toUpperCase();
  if (method !== undefined && !KNOWN_METHODS.has(method)) {
    return [
      `${where}: requestType ${JSON.stringify(entry.requestType)} is not an HTTP method; the entry never matches`,
    ];
  }
  const methods = method === undefined ? 'any method (no requestType)' : method;
  const writes = method === undefined || !READ_METHODS.has(method);
  const warnings: string[] = [];
  if (entry.path.startsWith('/')) {
    warnings.push(
      `${where}: the path starts with "/" but paths are relative to the FHIR base; the entry never matches`,
    );
  }
  if (entry.allowUnauthenticatedRequests) {
    if (writes) warnings.push(`${where}: lets callers without a token send ${methods}`);
    if (pathMatches(entry.path, '')) {
      warnings.push(`${where}: lets callers without a token reach the FHIR base path with ${methods}`);
    }
    if (searchesWholeType(entry)) {
      warnings.push(
        `${where}: lets callers without a token reach every resource under ${JSON.stringify(entry.path)} (a request without params matches)`,
      );
    }
  } else if (writes) {
    warnings.push(`${where}: lets every authenticated caller send ${methods} without any access checker`);
  }
  return warnings;
}

/** A type-level path (search or history) that the entry admits with no param at all. */
function searchesWholeType(entry: AllowedQueryEntry): boolean {
  const last = entry.path.split('/').at(-1)!;
  return (isResourceType(last) || last === '_history') && paramsMatch(entry, []);
}
