/**
 * Page-number paging as the OpenSRP plugins do it (spec §3.8.1, §4.2): `_count` (default 20) and
 * `_page` (default 1, 1-based); `self` repeats the request, `next` and `previous` replace `_page`.
 * Shared by list-entries mode and /LocationHierarchy list mode.
 */
import { badRequest } from '../../fhir/errors.js';
import type { QueryParam } from '../../fhir/request.js';
import { formatQuery } from '../../fhir/serialize.js';

export const DEFAULT_PAGE_SIZE = 20;
/** Larger pages are refused: one page of list entries becomes one batch of that many reads. */
export const MAX_PAGE_SIZE = 10_000;

export interface Paging {
  readonly count: number;
  /** 1-based. */
  readonly page: number;
}

export interface BundleLink {
  relation: 'self' | 'next' | 'previous';
  url: string;
}

/** The first value of a query parameter, or undefined when absent or blank. */
export function firstValue(query: readonly QueryParam[], name: string): string | undefined {
  const value = query.find((param) => param.name === name)?.value.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** @throws GatewayError 400 when `_count` or `_page` is not a whole number in range. */
export function parsePaging(query: readonly QueryParam[]): Paging {
  return {
    count: wholeNumber(query, '_count', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
    page: wholeNumber(query, '_page', 1, 1, Number.MAX_SAFE_INTEGER),
  };
}

/** Zero-based index of the page's first item. */
export function pageStart(paging: Paging): number {
  return (paging.page - 1) * paging.count;
}

/**
 * `self` with every request parameter as sent; `next` while items remain after this page;
 * `previous` on every page after the first.
 * @example pageLinks('http://gw/fhir/List', [{ name: '_count', value: '1' }, { name: '_page', value: '2' }], { count: 1, page: 2 }, 2)
 *   // → self …/List?_count=1&_page=2, previous …/List?_count=1&_page=1
 */
export function pageLinks(
  url: string,
  query: readonly QueryParam[],
  paging: Paging,
  total: number,
): BundleLink[] {
  const links: BundleLink[] = [{ relation: 'self', url: withQuery(url, query) }];
  if (paging.page * paging.count < total) {
    links.push({ relation: 'next', url: withQuery(url, withPage(query, paging.page + 1)) });
  }
  if (paging.page > 1) {
    links.push({ relation: 'previous', url: withQuery(url, withPage(query, paging.page - 1)) });
  }
  return links;
}

export function withQuery(url: string, query: readonly QueryParam[]): string {
  return query.length === 0 ? url : `${url}?${formatQuery(query)}`;
}

/** The query with `_page` set to `page`, in place when present, appended otherwise. */
function withPage(query: readonly QueryParam[], page: number): QueryParam[] {
  const value = String(page);
  let replaced = false;
  const result: QueryParam[] = [];
  for (const param of query) {
    if (param.name !== '_page') result.push(param);
    else if (!replaced) {
      result.push({ name: '_page', value });
      replaced = true;
    }
  }
  if (!replaced) result.push({ name: '_page', value });
  return result;
}

function wholeNumber(
  query: readonly QueryParam[],
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = firstValue(query, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw badRequest(`${name} must be a whole number from ${min} to ${max}, got '${raw}'`, 'invalid_paging');
  }
  return Number(raw);
}
