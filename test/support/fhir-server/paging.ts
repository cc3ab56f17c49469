/**
 * HAPI JPA's paging (`paging: 'hapi'`): a search is kept server-side under a UUID, and its links
 * point at the base with `_getpages=<uuid>&_getpagesoffset=N&_count=N&_bundletype=searchset`
 * (plus `_format`, `_pretty`, `_include` and `_elements` when the request had them), so they carry
 * none of the search's own parameters. Following one replays the kept search, joins included, for
 * that window; an unknown or forgotten id answers 410 as HAPI does (HAPI-0417).
 */
import { randomUUID } from 'node:crypto';
import type { BundleLink } from '@medplum/fhirtypes';
import { problem } from './request-body.js';
import type { Failure, SearchQuery } from './search.js';

export type PagingMode = 'offset' | 'hapi' | 'gcp';

/** What a continuation replays: a search, or an instance `$everything`. */
export type KeptSearch =
  | { kind: 'search'; query: SearchQuery; count: number }
  | { kind: 'everything'; patientId: string; params: URLSearchParams; count: number };

/** HAPI expires searches; a bounded map stands in for that. */
const MAX_KEPT = 10_000;

export class SearchStore {
  private readonly kept = new Map<string, KeptSearch>();

  keep(search: KeptSearch): string {
    const id = randomUUID();
    this.kept.set(id, search);
    if (this.kept.size > MAX_KEPT) {
      const oldest = this.kept.keys().next().value;
      if (oldest !== undefined) this.kept.delete(oldest);
    }
    return id;
  }

  find(id: string): KeptSearch | Failure {
    const search = this.kept.get(id);
    if (search) return search;
    return {
      status: 410,
      outcome: problem('processing', `HAPI-0417: Search ID "${id}" does not exist and may have expired`),
    };
  }

  clear(): void {
    this.kept.clear();
  }
}

/** The window a `_getpages` request asks for: `_getpagesoffset` (default 0) and `_count` (default the kept one). */
export function continuationWindow(
  params: URLSearchParams,
  kept: KeptSearch,
): { offset: number; count: number } | Failure {
  const offset = optionalInt(params.get('_getpagesoffset'));
  const count = optionalInt(params.get('_count'));
  if (offset === null || count === null) {
    return {
      status: 400,
      outcome: problem('invalid', 'Invalid _getpagesoffset or _count: expected an integer'),
    };
  }
  return { offset: Math.max(0, offset ?? 0), count: count === undefined || count < 0 ? kept.count : count };
}

export function hapiLinks(
  baseUrl: string,
  selfUrl: string,
  searchId: string,
  window: { offset: number; count: number },
  total: number,
  request: URLSearchParams,
): BundleLink[] {
  const links: BundleLink[] = [{ relation: 'self', url: selfUrl }];
  const { offset, count } = window;
  if (count > 0 && offset + count < total) {
    links.push({ relation: 'next', url: pageUrl(baseUrl, searchId, offset + count, count, request) });
  }
  if (count > 0 && offset > 0) {
    const previous = Math.max(0, offset - count);
    links.push({ relation: 'previous', url: pageUrl(baseUrl, searchId, previous, count, request) });
  }
  return links;
}

function pageUrl(
  baseUrl: string,
  searchId: string,
  offset: number,
  count: number,
  request: URLSearchParams,
): string {
  let url = `${baseUrl}?_getpages=${encodeURIComponent(searchId)}&_getpagesoffset=${offset}&_count=${count}`;
  const format = request.get('_format');
  if (format !== null) url += `&_format=${encodeURIComponent(format.replace(/ /g, '+'))}`;
  if (request.get('_pretty') === 'true') url += '&_pretty=true';
  for (const include of request.getAll('_include')) url += `&_include=${encodeURIComponent(include)}`;
  url += '&_bundletype=searchset';
  for (const elements of request.getAll('_elements')) url += `&_elements=${encodeURIComponent(elements)}`;
  return url;
}

/**
 * Google Cloud Healthcare API's paging (`paging: 'gcp'`): forward only; the `next` link repeats
 * every search parameter and adds an opaque `_page_token`. Here the token wraps the next offset.
 */
export function gcpPageToken(offset: number): string {
  return Buffer.from(`gcp-page:${offset}`).toString('base64url');
}

/** The offset a `_page_token` stands for; undefined when it is not one this server issued. */
export function gcpTokenOffset(token: string): number | undefined {
  const match = /^gcp-page:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return match ? Number.parseInt(match[1]!, 10) : undefined;
}

/** `self` and, while more matches follow, `next` with the request's parameters and a page token. */
export function gcpLinks(
  searchUrl: string,
  request: URLSearchParams,
  window: { offset: number; count?: number },
  total: number,
): BundleLink[] {
  const params = new URLSearchParams(request);
  params.delete('_offset');
  const query = params.toString();
  const self = query === '' ? searchUrl : `${searchUrl}?${query}`;
  const links: BundleLink[] = [{ relation: 'self', url: self }];
  const { offset, count } = window;
  if (count !== undefined && count > 0 && offset + count < total) {
    params.set('_page_token', gcpPageToken(offset + count));
    links.push({ relation: 'next', url: `${searchUrl}?${params.toString()}` });
  }
  return links;
}

/** undefined when absent, null when not an integer. */
function optionalInt(value: string | null): number | undefined | null {
  if (value === null || value === '') return undefined;
  return /^-?\d+$/.test(value) ? Number.parseInt(value, 10) : null;
}
