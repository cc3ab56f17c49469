/**
 * The parameters of `GET /LocationHierarchy` (spec §4.2), validated once: every malformed value
 * is a 400 naming the parameter (the Java plugin answered 500 or 200 with plain text).
 */
import { badRequest } from '../../fhir/errors.js';
import { isFhirId } from '../../fhir/ids.js';
import type { QueryParam } from '../../fhir/request.js';
import { firstValue, type Paging, parsePaging } from './paging.js';

/** Upstream's default range when only one bound is given (`DEFAULT_MAX_ADMIN_LEVEL`). */
export const DEFAULT_MIN_ADMIN_LEVEL = 0;
export const DEFAULT_MAX_ADMIN_LEVEL = 10;

export interface AdminLevelRange {
  readonly min: number;
  readonly max: number;
}

/** `meta.lastUpdated` must be after (`strict`) or at/after `at` (epoch ms). */
export interface LastUpdatedBound {
  readonly at: number;
  readonly strict: boolean;
}

export interface HierarchyParams {
  /** `_id`: the one Location whose hierarchy is asked for. */
  readonly id?: string;
  /** `mode=list`: a flat, paged list of Locations instead of trees. */
  readonly listMode: boolean;
  /** `_syncLocations`: the user-selected Location ids (comma lists, de-duplicated). */
  readonly syncLocations: readonly string[];
  /** Undefined when neither `administrativeLevelMin` nor `administrativeLevelMax` is given. */
  readonly adminLevels?: AdminLevelRange;
  readonly filterInventory: boolean;
  /** `_lastUpdated` (list mode only, as upstream). */
  readonly lastUpdated?: LastUpdatedBound;
  /** `_summary=count`: only `total` (list mode). */
  readonly summaryCount: boolean;
  readonly paging: Paging;
  /** `filter_mode_lineage` (empty or `true`): list descendants by lineage tag in one search. */
  readonly lineage: boolean;
}

export function parseHierarchyParams(query: readonly QueryParam[]): HierarchyParams {
  const id = firstValue(query, '_id');
  if (id !== undefined && !isFhirId(id)) throw badRequest(`_id must be one Location id, got '${id}'`);
  const mode = firstValue(query, 'mode');
  if (mode !== undefined && mode !== 'list' && mode !== 'tree') {
    throw badRequest(`mode must be 'list' (or 'tree', the default), got '${mode}'`);
  }
  const lastUpdated = firstValue(query, '_lastUpdated');
  return {
    ...(id === undefined ? {} : { id }),
    listMode: mode === 'list',
    syncLocations: syncLocationIds(query),
    ...adminLevelsOf(query),
    filterInventory: firstValue(query, 'filterInventory') === 'true',
    ...(lastUpdated === undefined ? {} : { lastUpdated: lastUpdatedBound(lastUpdated) }),
    summaryCount: firstValue(query, '_summary') === 'count',
    paging: parsePaging(query),
    lineage: query.some((p) => p.name === 'filter_mode_lineage' && ['', 'true'].includes(p.value.trim())),
  };
}

function syncLocationIds(query: readonly QueryParam[]): string[] {
  const ids = new Set<string>();
  for (const param of query) {
    if (param.name !== '_syncLocations') continue;
    for (const raw of param.value.split(',')) {
      const id = raw.trim();
      if (id === '') continue;
      if (!isFhirId(id)) throw badRequest(`_syncLocations must list Location ids, got '${id}'`);
      ids.add(id);
    }
  }
  return [...ids];
}

function adminLevelsOf(query: readonly QueryParam[]): { adminLevels?: AdminLevelRange } {
  const min = adminLevel(query, 'administrativeLevelMin');
  const max = adminLevel(query, 'administrativeLevelMax');
  if (min === undefined && max === undefined) return {};
  const range = { min: min ?? DEFAULT_MIN_ADMIN_LEVEL, max: max ?? DEFAULT_MAX_ADMIN_LEVEL };
  if (range.min > range.max) {
    throw badRequest('administrativeLevelMin cannot be greater than administrativeLevelMax');
  }
  return { adminLevels: range };
}

function adminLevel(query: readonly QueryParam[], name: string): number | undefined {
  const raw = firstValue(query, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,3}$/.test(raw)) throw badRequest(`Invalid value for ${name}: ${raw}`);
  return Number(raw);
}

/** A FHIR date or dateTime, optionally prefixed `ge` (the default meaning) or `gt`. */
function lastUpdatedBound(raw: string): LastUpdatedBound {
  const match = /^(ge|gt)?(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)$/.exec(
    raw,
  );
  const at = match ? Date.parse(match[2]!) : Number.NaN;
  if (!match || Number.isNaN(at)) {
    throw badRequest(`_lastUpdated must be a date or dateTime, optionally prefixed ge or gt, got '${raw}'`);
  }
  return { at, strict: match[1] === 'gt' };
}
