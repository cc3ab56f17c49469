import type { Bundle, BundleLink } from '@medplum/fhirtypes';

/**
 * Adds what fhir-router leaves out of history and batch/transaction Bundles: `fullUrl` on each
 * entry (and `search.mode = match` on a searchset's entries that have none).
 */
export function completeBundle(bundle: Bundle, baseUrl: string) {
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource;
    if (resource?.id && !entry.fullUrl) entry.fullUrl = `${baseUrl}/${resource.resourceType}/${resource.id}`;
    if (bundle.type === 'searchset' && !entry.search) entry.search = { mode: 'match' };
  }
}

/**
 * The default paging links (Medplum's style): absolute `self`/`next`/`previous` built from
 * `_count`, `_offset` and `total`, each keeping every incoming parameter (so a gateway must rewrite
 * this server's base URL, and sees its own injected parameters echoed back).
 */
export function offsetLinks(
  searchUrl: string,
  params: URLSearchParams,
  total: number | undefined,
): BundleLink[] {
  const links: BundleLink[] = [{ relation: 'self', url: withQuery(searchUrl, params) }];
  const count = nonNegativeInt(params.get('_count'));
  if (count === undefined || count === 0 || total === undefined) return links;
  const offset = nonNegativeInt(params.get('_offset')) ?? 0;
  if (offset + count < total) {
    links.push({ relation: 'next', url: withQuery(searchUrl, withOffset(params, offset + count)) });
  }
  if (offset > 0) {
    links.push({
      relation: 'previous',
      url: withQuery(searchUrl, withOffset(params, Math.max(0, offset - count))),
    });
  }
  return links;
}

function withOffset(params: URLSearchParams, offset: number): URLSearchParams {
  const copy = new URLSearchParams(params);
  copy.set('_offset', String(offset));
  return copy;
}

export function withQuery(url: string, params: URLSearchParams): string {
  const query = params.toString();
  return query === '' ? url : `${url}?${query}`;
}

function nonNegativeInt(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number.parseInt(value, 10);
}
