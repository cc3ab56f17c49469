/**
 * A user's sync scope: the tag systems of their strategy and the ids they are assigned to. A
 * resource is in scope when one of its `meta.tag` codings has one of those systems and ids.
 */
import type { QueryParam } from '../../fhir/request.js';
import type { SyncStrategy } from './strategy.js';

export interface SyncScope {
  readonly strategy: SyncStrategy;
  /** One system, or two for RelatedEntityLocation (its own and the lineage system). */
  readonly systems: readonly string[];
  readonly ids: ReadonlySet<string>;
}

/** Params the gateway reads itself and never forwards (spec §3.4, §3.8.1; the Java plugin forwards them). */
export const GATEWAY_ONLY_PARAMS = ['_syncLocations', 'filter_mode_lineage', 'mode'] as const;

const tagValues = new WeakMap<SyncScope, string>();

/**
 * `system|id1,system|id2,…` over every system: one OR-list, as the Java plugin writes it. Built
 * once per scope (scopes are cached), since it runs on every narrowed request.
 */
export function scopeTagValue(scope: SyncScope): string {
  let value = tagValues.get(scope);
  if (value === undefined) {
    value = scope.systems.flatMap((system) => [...scope.ids].map((id) => `${system}|${id}`)).join(',');
    tagValues.set(scope, value);
  }
  return value;
}

/**
 * The `_tag` params of a narrowed search: the client's own (kept, so they AND with ours and can only
 * narrow further) and ours. A client `_tag` equal to ours (a `next` link replayed) is not repeated.
 */
export function narrowedTagParams(query: readonly QueryParam[], scope: SyncScope): QueryParam[] {
  const ours = scopeTagValue(scope);
  const client = query.filter((p) => p.name === '_tag' && p.value !== ours);
  return [...client, { name: '_tag', value: ours }];
}

export function carriesScopeTag(resource: unknown, scope: SyncScope): boolean {
  const tags = (resource as { meta?: { tag?: unknown } } | null | undefined)?.meta?.tag;
  if (!Array.isArray(tags)) return false;
  return tags.some((tag: { system?: unknown; code?: unknown } | null) => {
    if (typeof tag?.system !== 'string' || typeof tag.code !== 'string') return false;
    return scope.systems.includes(tag.system) && scope.ids.has(tag.code);
  });
}
