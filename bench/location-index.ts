/**
 * Location searches for the OpenSRP rows, answered from an index instead of the in-memory FHIR
 * server, whose search scans every Location for every OR-ed value: on 10,000 Locations one
 * `partof=<100 ids>` page takes minutes there, which would measure the test server, not the
 * gateway. Supports what the OpenSRP lookups send: `_id`, `partof`, `_tag` and `type` (comma
 * OR-lists, AND across params), `_count`, and paging; anything else falls back to the FHIR server.
 */
import type { Location, Resource } from '@medplum/fhirtypes';

const SUPPORTED = new Set(['_id', 'partof', '_tag', 'type', '_count', '_offset']);
const DEFAULT_COUNT = 20;
const MAX_COUNT = 1000;

type Matcher = (location: Location) => boolean;

function tokenMatcher(
  values: string[],
  codings: (l: Location) => { system?: string; code?: string }[],
): Matcher {
  const wanted = new Set(values.map((v) => (v.includes('|') ? v : `|${v}`)));
  const anySystem = new Set(values.filter((v) => !v.includes('|')));
  return (location) =>
    codings(location).some(
      (c) => wanted.has(`${c.system ?? ''}|${c.code ?? ''}`) || anySystem.has(c.code ?? ''),
    );
}

export class LocationIndex {
  private readonly locations: Location[];
  private readonly pages = new Map<string, URLSearchParams>();

  constructor(resources: readonly Resource[]) {
    this.locations = resources.filter((r): r is Location => r.resourceType === 'Location');
  }

  /** True when every param of the search is one this index answers. */
  handles(params: URLSearchParams): boolean {
    return [...params.keys()].every((name) => SUPPORTED.has(name));
  }

  /** `?_getpages=<id>&_getpagesoffset=<n>` links of an earlier search (HAPI's paging style). */
  page(id: string, offset: number, base: string): string | undefined {
    const params = this.pages.get(id);
    if (!params) return undefined;
    const next = new URLSearchParams(params);
    next.set('_offset', String(offset));
    return this.search(next, base);
  }

  /** A searchset Bundle, serialized; `next` links point at `base?_getpages=…`. */
  search(params: URLSearchParams, base: string): string {
    const matchers: Matcher[] = [];
    for (const [name, raw] of params) {
      const values = raw.split(',').filter((v) => v !== '');
      if (name === '_id') {
        const ids = new Set(values);
        matchers.push((l) => ids.has(l.id ?? ''));
      } else if (name === 'partof') {
        const parents = new Set(values.map((v) => (v.includes('/') ? v : `Location/${v}`)));
        matchers.push((l) => parents.has(l.partOf?.reference ?? ''));
      } else if (name === '_tag') {
        matchers.push(tokenMatcher(values, (l) => l.meta?.tag ?? []));
      } else if (name === 'type') {
        matchers.push(tokenMatcher(values, (l) => (l.type ?? []).flatMap((t) => t.coding ?? [])));
      }
    }
    const matches = this.locations.filter((l) => matchers.every((m) => m(l)));
    const count = Math.min(Number(params.get('_count') ?? DEFAULT_COUNT) || DEFAULT_COUNT, MAX_COUNT);
    const offset = Number(params.get('_offset') ?? '0') || 0;
    const link = [{ relation: 'self', url: `${base}/Location` }];
    if (offset + count < matches.length) {
      const id = String(this.pages.size + 1);
      const stored = new URLSearchParams(params);
      stored.delete('_offset');
      this.pages.set(id, stored);
      link.push({
        relation: 'next',
        url: `${base}?_getpages=${id}&_getpagesoffset=${offset + count}&_count=${count}`,
      });
    }
    return JSON.stringify({
      resourceType: 'Bundle',
      type: 'searchset',
      total: matches.length,
      link,
      entry: matches.slice(offset, offset + count).map((resource) => ({
        fullUrl: `${base}/Location/${resource.id}`,
        resource,
        search: { mode: 'match' },
      })),
    });
  }
}
