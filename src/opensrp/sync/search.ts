/** Small search helpers for the OpenSRP lookups: reference ids and id-list searches in chunks. */
import type { FhirClient } from '../../access/contract.js';
import type { QueryParam } from '../../fhir/request.js';

/**
 * Characters of comma-joined ids per search. Long searches go upstream as `POST _search` form
 * bodies (BackendFhirClient), so a whole level of a hierarchy is one search; this only bounds the
 * form body (servers such as Tomcat default to a 2 MB limit).
 */
const MAX_IDS_CHARS = 500_000;

/** `_count` of every lookup: fewer round trips where the server allows it (HAPI clamps to its maximum). */
export const LOOKUP_PAGE_SIZE = '1000';

const withPageSize = (query: readonly QueryParam[]): QueryParam[] =>
  query.some((p) => p.name === '_count')
    ? [...query]
    : [...query, { name: '_count', value: LOOKUP_PAGE_SIZE }];

/**
 * The id part of a reference to `type`: `Organization/1`, `http://x/fhir/Organization/1/_history/2`
 * → `1`; undefined for a reference to another type or no reference.
 */
export function referencedId(reference: string | undefined, type: string): string | undefined {
  if (!reference) return undefined;
  const match = /(?:^|\/)([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]*)?$/.exec(reference);
  return match && match[1] === type ? match[2] : undefined;
}

/** Distinct values in first-seen order, without undefined. */
export function distinct(values: Iterable<string | undefined>): string[] {
  const seen = new Set<string>();
  for (const value of values) if (value !== undefined && value !== '') seen.add(value);
  return [...seen];
}

/** Splits values into groups whose comma-joined length stays under `maxChars`. */
export function chunkValues(values: readonly string[], maxChars = MAX_IDS_CHARS): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const value of values) {
    if (current.length > 0 && length + value.length + 1 > maxChars) {
      chunks.push(current);
      current = [];
      length = 0;
    }
    current.push(value);
    length += value.length + 1;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * `Type?<param>=v1,v2,…&<extra>` over every chunk of values, every page followed. Values are
 * OR-ed by the server, so the chunks' results are simply concatenated (duplicates removed by id).
 */
export async function searchByValues<T>(
  fhir: FhirClient,
  resourceType: string,
  param: string,
  values: readonly string[],
  extra: readonly QueryParam[] = [],
): Promise<T[]> {
  if (values.length === 0) return [];
  const pages = await Promise.all(
    chunkValues(values).map((chunk) =>
      fhir.searchAll(resourceType, withPageSize([{ name: param, value: chunk.join(',') }, ...extra])),
    ),
  );
  const byId = new Map<string, Record<string, unknown>>();
  const anonymous: Record<string, unknown>[] = [];
  for (const resource of pages.flat()) {
    if (typeof resource.id === 'string') byId.set(resource.id, resource);
    else anonymous.push(resource);
  }
  return [...byId.values(), ...anonymous] as unknown as T[];
}

/** `fhir.searchAll` with the lookup page size, typed: the caller names the resource type it searched. */
export async function searchAllOf<T>(
  fhir: FhirClient,
  resourceType: string,
  query: readonly QueryParam[],
): Promise<T[]> {
  return (await fhir.searchAll(resourceType, withPageSize(query))) as unknown as T[];
}
