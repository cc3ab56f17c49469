/**
 * A user's sync scope: the tag systems of their strategy and the ids they are assigned to. A
 * resource is in scope when one of its `meta.tag` codings has one of those systems and ids.
 */
import { badRequest } from '../../fhir/errors.js';
import { parseQueryString } from '../../fhir/query-string.js';
import type { QueryParam } from '../../fhir/request.js';
import { formatQuery } from '../../fhir/serialize.js';
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

/**
 * The search params of a conditional create's `If-None-Exist` (header or Bundle entry
 * `request.ifNoneExist`), as the request model leaves it: without a `?` or `Type?` prefix (parse.ts).
 * @throws GatewayError 400 when the condition is malformed or names no search parameter.
 */
export function conditionParams(condition: string): QueryParam[] {
  const params = parseQueryString(condition, 'If-None-Exist');
  if (params.length === 0) {
    throw badRequest('If-None-Exist names no search parameter', 'invalid_condition');
  }
  return params;
}

/**
 * A conditional create's condition narrowed like a search: what it names AND our `_tag`, so a
 * resource outside the scope is simply no match and the create goes ahead.
 */
export function narrowedCondition(params: readonly QueryParam[], scope: SyncScope): string {
  const others = params.filter((p) => p.name !== '_tag');
  return formatQuery([...others, ...narrowedTagParams(params, scope)]);
}

export function carriesScopeTag(resource: unknown, scope: SyncScope): boolean {
  const tags = (resource as { meta?: { tag?: unknown } } | null | undefined)?.meta?.tag;
  if (!Array.isArray(tags)) return false;
  return tags.some((tag: { system?: unknown; code?: unknown } | null) => {
    if (typeof tag?.system !== 'string' || typeof tag.code !== 'string') return false;
    return scope.systems.includes(tag.system) && scope.ids.has(tag.code);
  });
}
