import {
  evalFhirPath,
  type FhirPathAtom,
  getResourceTypes,
  globalSchema,
  parseFhirPath,
} from '@medplum/core';
import type { MemoryRepository } from '@medplum/fhir-router';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';

/** `Type/id` of a resource, the key the join helpers dedupe on. */
export function keyOf(resource: Resource): string {
  return `${resource.resourceType}/${resource.id}`;
}

/** The reference search parameters of a type (not Medplum's own `_compartment`), by code. */
export function referenceParams(resourceType: string): Map<string, SearchParameter> {
  const params = new Map<string, SearchParameter>();
  for (const [code, param] of Object.entries(globalSchema.types[resourceType]?.searchParams ?? {})) {
    if (param.type === 'reference' && param.expression && !code.startsWith('_')) params.set(code, param);
  }
  return params;
}

/**
 * The local `Type/id` targets of a reference search parameter on a resource. Absolute references to
 * this server count; other servers, `#contained`, `urn:` and canonical URLs do not.
 */
export function referencesOf(resource: Resource, param: SearchParameter, baseUrl: string): string[] {
  let values: unknown[];
  try {
    values = evalFhirPath(expressionFor(resource.resourceType, param), resource);
  } catch {
    return [];
  }
  const keys: string[] = [];
  for (const value of values) {
    const reference = (value as { reference?: unknown } | null)?.reference;
    if (typeof reference !== 'string') continue;
    const local = reference.startsWith(`${baseUrl}/`) ? reference.slice(baseUrl.length + 1) : reference;
    const match = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[^/]+)?$/.exec(local);
    if (match) keys.push(`${match[1]}/${match[2]}`);
  }
  return keys;
}

const parsed = new Map<string, FhirPathAtom>();

/**
 * The parameter's expression for one type, parsed once: shared parameters (`patient`, `clinical-*`)
 * are unions over thirty types, and only this type's branches can match its resources.
 */
function expressionFor(resourceType: string, param: SearchParameter): FhirPathAtom {
  const key = `${resourceType} ${param.expression}`;
  let atom = parsed.get(key);
  if (!atom) {
    const expression = param.expression ?? '';
    const branches = expression.split(' | ').filter((branch) => branch.startsWith(`${resourceType}.`));
    atom = parseFhirPath(branches.length > 0 ? branches.join(' | ') : expression);
    parsed.set(key, atom);
  }
  return atom;
}

/** Every stored resource of a type (MemoryRepository answers a search without `_count` in full). */
export async function allOfType(repo: MemoryRepository, resourceType: string): Promise<Resource[]> {
  const bundle = await repo.search({ resourceType: resourceType as Resource['resourceType'] });
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
}

/** Types that have at least one stored resource. */
export async function storedTypes(repo: MemoryRepository): Promise<string[]> {
  const types: string[] = [];
  for (const type of getResourceTypes()) {
    if ((await repo.search({ resourceType: type, count: 0 })).total) types.push(type);
  }
  return types;
}

/** Reads `Type/id`, or undefined when it is not stored. */
export async function readKey(repo: MemoryRepository, key: string): Promise<Resource | undefined> {
  const [type, id] = key.split('/');
  try {
    return await repo.readResource(type ?? '', id ?? '');
  } catch {
    return undefined;
  }
}
