/**
 * The allowed-queries matcher: a list of requests that are granted without any access checker,
 * with the Java gateway's exact matching rules (see docs/configuration.md, "Allowed queries").
 * An entry can also admit requests that carry no token at all (`allowUnauthenticatedRequests`).
 * A match is a plain grant: no mutation, no post-processing.
 */
import type { QueryParam } from '../fhir/request.js';

/** As a param value, matches any single or repeated value; as the last path segment, any sub-path. */
export const ANY_VALUE = 'ANY_VALUE';

const ALLOWED_QUERIES_VARIABLE = 'ALLOWED_QUERIES_FILE';
const ANY_SUB_PATH = `/${ANY_VALUE}`;
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

function pathMatches(entryPath: string, requestPath: string): boolean {
  if (requestPath === entryPath) return true;
  if (!entryPath.endsWith(ANY_SUB_PATH)) return false;
  const prefix = entryPath.slice(0, -ANY_SUB_PATH.length);
  return requestPath === prefix || requestPath.startsWith(`${prefix}/`);
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
    if (expected !== ANY_VALUE && (actual.length !== 1 || actual[0] !== expected)) return false;
    matchedNames++;
  }
  // Upstream counts distinct names: every name in the request must be a configured one.
  return entry.allowExtraParams || matchedNames === valuesByName.size;
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
  if (entry.allowUnauthenticatedRequests) {
    if (writes) warnings.push(`${where}: lets callers without a token send ${methods}`);
    if (pathMatches(entry.path, '')) {
      warnings.push(`${where}: lets callers without a token reach the FHIR base path with ${methods}`);
    }
  } else if (writes) {
    warnings.push(`${where}: lets every authenticated caller send ${methods} without any access checker`);
  }
  return warnings;
}
