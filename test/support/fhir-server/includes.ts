/**
 * `_include` and `_revinclude` (search.html#include), which MemoryRepository ignores: the resources
 * a page's matches reference (or that reference them) are added after the matches with
 * `search.mode = include`. As in HAPI: plain joins start from the matches only, `:iterate` (and the
 * older `:recurse`) ones also from what was included, until nothing new turns up; `*` stands for
 * every reference parameter (of the type, or of every type); a third part narrows the target type.
 */
import { isResourceType } from '@medplum/core';
import type { MemoryRepository } from '@medplum/fhir-router';
import type { Resource } from '@medplum/fhirtypes';
import { allOfType, keyOf, readKey, referenceParams, referencesOf, storedTypes } from './references.js';

export interface Join {
  reverse: boolean;
  iterate: boolean;
  /** The type holding the reference; `*` for any. */
  sourceType: string;
  /** The reference search parameter's code; `*` for all of them. */
  param: string;
  targetType?: string;
}

/** HAPI stops adding includes to a page past this many (its default `maximumIncludesToLoadPerPage`). */
const MAX_INCLUDES = 1000;
const MAX_ROUNDS = 10;

export const isJoinParam = (name: string): boolean => /^_(rev)?include(:|$)/.test(name);

/** The joins a query asks for, or the text of a 400 for the first malformed one. */
export function parseJoins(params: URLSearchParams): Join[] | string {
  const joins: Join[] = [];
  for (const [name, raw] of params) {
    const match = /^_(rev)?include(?::(iterate|recurse))?$/.exec(name);
    if (!match) {
      if (isJoinParam(name)) return `Unknown modifier in ${name}`;
      continue;
    }
    for (const value of raw.split(',')) {
      const join = parseJoin(value.trim(), match[1] === 'rev', match[2] !== undefined);
      if (typeof join === 'string') return `Invalid ${name} parameter value "${value}": ${join}`;
      joins.push(join);
    }
  }
  return joins;
}

function parseJoin(value: string, reverse: boolean, iterate: boolean): Join | string {
  if (value === '*') return { reverse, iterate, sourceType: '*', param: '*' };
  const [sourceType = '', param = '', targetType, extra] = value.split(':');
  if (extra !== undefined || !isResourceType(sourceType) || param === '') {
    return 'expected Type:param[:TargetType]';
  }
  if (param !== '*' && !referenceParams(sourceType).has(param)) {
    return `${sourceType} has no reference search parameter "${param}"`;
  }
  if (targetType !== undefined && !isResourceType(targetType)) return `unknown type "${targetType}"`;
  return { reverse, iterate, sourceType, param, ...(targetType ? { targetType } : {}) };
}

/** The resources the joins add to these matches, in the order found, without the matches themselves. */
export async function findIncluded(
  repo: MemoryRepository,
  baseUrl: string,
  matches: Resource[],
  joins: Join[],
): Promise<Resource[]> {
  if (joins.length === 0 || matches.length === 0) return [];
  const seen = new Set(matches.map(keyOf));
  const included: Resource[] = [];
  let frontier = matches;
  for (let round = 0; round < MAX_ROUNDS && frontier.length > 0; round++) {
    const active = round === 0 ? joins : joins.filter((join) => join.iterate);
    if (active.length === 0) break;
    const added: Resource[] = [];
    for (const join of active) {
      const found = join.reverse
        ? await referencing(repo, baseUrl, frontier, join)
        : await referenced(repo, baseUrl, frontier, join);
      for (const resource of found) {
        const key = keyOf(resource);
        if (seen.has(key) || included.length + added.length >= MAX_INCLUDES) continue;
        seen.add(key);
        added.push(resource);
      }
    }
    included.push(...added);
    frontier = added;
  }
  return included;
}

/** `_include`: what the sources' reference parameters point at. */
async function referenced(
  repo: MemoryRepository,
  baseUrl: string,
  sources: Resource[],
  join: Join,
): Promise<Resource[]> {
  const keys = new Set<string>();
  for (const source of sources) {
    if (join.sourceType !== '*' && source.resourceType !== join.sourceType) continue;
    for (const [code, param] of referenceParams(source.resourceType)) {
      if (join.param !== '*' && code !== join.param) continue;
      for (const key of referencesOf(source, param, baseUrl)) {
        if (!join.targetType || key.startsWith(`${join.targetType}/`)) keys.add(key);
      }
    }
  }
  const found: Resource[] = [];
  for (const key of keys) {
    const resource = await readKey(repo, key);
    if (resource) found.push(resource);
  }
  return found;
}

/** `_revinclude`: resources whose reference parameters point at one of the targets. */
async function referencing(
  repo: MemoryRepository,
  baseUrl: string,
  targets: Resource[],
  join: Join,
): Promise<Resource[]> {
  const wanted = new Set(
    targets.filter((t) => !join.targetType || t.resourceType === join.targetType).map(keyOf),
  );
  if (wanted.size === 0) return [];
  const types = join.sourceType === '*' ? await storedTypes(repo) : [join.sourceType];
  const found: Resource[] = [];
  for (const type of types) {
    const params = [...referenceParams(type)].filter(([code]) => join.param === '*' || code === join.param);
    if (params.length === 0) continue;
    for (const candidate of await allOfType(repo, type)) {
      const hit = params.some(([, param]) =>
        referencesOf(candidate, param, baseUrl).some((key) => wanted.has(key)),
      );
      if (hit) found.push(candidate);
    }
  }
  return found;
}
