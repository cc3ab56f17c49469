/**
 * `GET /LocationHierarchy` (spec §4.2). Which Locations: `_id`, else `_syncLocations` (list mode;
 * tree mode only for RelatedEntityLocation apps and ALL_LOCATIONS users, as upstream), else the
 * caller's assigned Locations. Tree mode answers a Bundle of LocationHierarchy resources; list
 * mode a paged Bundle of the Locations and everything below them. Hierarchies are expanded level
 * by level (one search per level) and cached.
 */
import { randomUUID } from 'node:crypto';
import type { Location } from '@medplum/fhirtypes';
import type { PluginRoute, PluginRouteRequest, PluginRouteResponse } from '../../access/contract.js';
import { ROLE } from '../claims.js';
import type { LocationTree } from '../sync/locations.js';
import { searchByValues } from '../sync/search.js';
import { resolveSyncStrategy } from '../sync/strategy.js';
import {
  assignmentOf,
  type Caller,
  callerOf,
  type EndpointContext,
  endpointUrl,
  requestUrl,
} from './context.js';
import { locationFilter } from './location-filters.js';
import { type HierarchyParams, parseHierarchyParams } from './location-hierarchy-params.js';
import { locationHierarchy } from './location-hierarchy-shape.js';
import { assignedLocationIds, expandedTree, requireInScope } from './location-scope.js';
import { pageLinks, pageStart } from './paging.js';

export const LOCATION_HIERARCHY_PATH = '/LocationHierarchy';

interface Roots {
  readonly ids: readonly string[];
  readonly known: readonly Location[];
}

export function locationHierarchyRoute(ctx: EndpointContext): PluginRoute {
  return {
    method: 'GET',
    path: LOCATION_HIERARCHY_PATH,
    handler: (req) => locationHierarchyAnswer(ctx, req),
  };
}

async function locationHierarchyAnswer(
  ctx: EndpointContext,
  req: PluginRouteRequest,
): Promise<PluginRouteResponse> {
  const caller = callerOf(req, ctx.settings);
  const params = parseHierarchyParams(req.query);
  const roots = await rootsOf(ctx, caller, params);
  if (params.listMode) return { status: 200, body: await listBody(ctx, req, params, roots) };
  // Authorization is settled above; a tree answer depends only on the roots and the filters.
  const { paging: _paging, ...filters } = params;
  const key = JSON.stringify({ roots: roots.ids, filters });
  const serialized = await ctx.caches.treeAnswers.getOrLoad(key, async () =>
    JSON.stringify(await treeBody(ctx, params, roots)),
  );
  return { status: 200, body: undefined, serialized };
}

async function rootsOf(ctx: EndpointContext, caller: Caller, params: HierarchyParams): Promise<Roots> {
  const named = async (ids: readonly string[]): Promise<Roots> => {
    await requireInScope(ctx, caller, ids);
    return { ids, known: [] };
  };
  if (params.id !== undefined) return named([params.id]);
  if (params.syncLocations.length > 0 && (params.listMode || (await selectsSyncLocations(ctx, caller)))) {
    return named(params.syncLocations);
  }
  const assignment = await assignmentOf(ctx, caller.keycloakId);
  return { ids: assignedLocationIds(assignment), known: assignment.locations };
}

/** Tree mode honours `_syncLocations` only for ALL_LOCATIONS users of RelatedEntityLocation apps. */
async function selectsSyncLocations(ctx: EndpointContext, caller: Caller): Promise<boolean> {
  const appId = caller.appId;
  if (!caller.roles.has(ROLE.allLocations) || appId === undefined) return false;
  const strategy = await ctx.caches.strategies.getOrLoad(appId, () => resolveSyncStrategy(ctx.fhir, appId));
  return strategy === 'RelatedEntityLocation';
}

async function treeBody(ctx: EndpointContext, params: HierarchyParams, roots: Roots): Promise<unknown> {
  const tree = await expandedTree(ctx, roots.ids, roots.known);
  const keep = await locationFilter(ctx, params, [...tree.byId.values()], false);
  const entry = roots.ids.map((id) => ({ resource: locationHierarchy(id, tree, keep) }));
  return { resourceType: 'Bundle', total: entry.length, ...(entry.length > 0 ? { entry } : {}) };
}

async function listBody(
  ctx: EndpointContext,
  req: PluginRouteRequest,
  params: HierarchyParams,
  roots: Roots,
): Promise<unknown> {
  const candidates = params.lineage
    ? await lineageLocations(ctx, roots.ids)
    : levelOrder(roots.ids, await expandedTree(ctx, roots.ids, roots.known));
  const keep = await locationFilter(ctx, params, candidates, true);
  const locations = candidates.filter(keep);
  const total = locations.length;
  if (params.summaryCount || total === 0) {
    return {
      resourceType: 'Bundle',
      id: randomUUID(),
      type: 'searchset',
      total,
      link: [{ relation: 'self', url: requestUrl(req) }],
    };
  }
  const start = pageStart(params.paging);
  const page = locations.slice(start, start + params.paging.count);
  return {
    resourceType: 'Bundle',
    total,
    link: pageLinks(endpointUrl(req), req.query, params.paging, total),
    ...(page.length > 0 ? { entry: page.map((resource) => ({ resource })) } : {}),
  };
}

/** The roots in request order, then each level below them: a stable order for paging. */
function levelOrder(rootIds: readonly string[], tree: LocationTree): Location[] {
  const result: Location[] = [];
  let level = rootIds.filter((id) => tree.byId.has(id));
  const seen = new Set<string>();
  while (level.length > 0) {
    const next: string[] = [];
    for (const id of level) {
      if (seen.has(id)) continue;
      seen.add(id);
      result.push(tree.byId.get(id)!);
      next.push(...(tree.childrenOf.get(id) ?? []));
    }
    level = next;
  }
  return result;
}

/**
 * `filter_mode_lineage`: the roots (`Location?_id=`) and every Location whose lineage tags name one
 * of them (`Location?_tag=<lineage>|<id>,…`), every page followed. Relies on the lineage tags the
 * gateway maintains on Location writes.
 */
async function lineageLocations(ctx: EndpointContext, rootIds: readonly string[]): Promise<Location[]> {
  const [roots, descendants] = await Promise.all([
    searchByValues<Location>(ctx.fhir, 'Location', '_id', rootIds),
    searchByValues<Location>(
      ctx.fhir,
      'Location',
      '_tag',
      rootIds.map((id) => `${ctx.settings.tagSystems.lineage}|${id}`),
    ),
  ]);
  const byId = new Map<string, Location>();
  for (const location of [...roots, ...descendants]) if (location.id) byId.set(location.id, location);
  return [...byId.values()];
}
