/**
 * Writes of ANDROID_CLIENT users (issue 8, "writes stay in scope"): create, update, patch and
 * delete, alone or as Bundle entries. In order:
 *
 * 1. The resources the user's assignment is derived from (escalation.ts): refused unless
 *    OPENSRP_ANDROID_ASSIGNMENT_WRITES, and then only when the write adds nothing to the user's
 *    own assignment. Conditional writes of them are refused (the target is not known).
 * 2. App configuration: Composition, Binary and ImplementationGuide, which every user reads without
 *    tags, and untagged resources of the types the skip-list exempts for reads: refused unless
 *    OPENSRP_ANDROID_CONFIG_WRITES. Exemptions cover reads only, so a tagged List is judged as data.
 * 3. Data, by the tag rule: the stored version (if any) must carry a tag of the user's scope, and so
 *    must the new version (the body, or the stored version with the JSON Patch applied); a create
 *    may be untagged (the app tags what it creates; an untagged create is seen by nobody's sync).
 *    Every new version may carry sync tags only of the user's own assignment (write-scope.ts).
 *
 * `$meta-add` and `$meta-delete` on an instance are writes of its tags (meta-operations.ts).
 *
 * A body may not reference a resource by a search (`"reference": "Patient?family=x"`, RT7): the
 * FHIR server would resolve it with a search of its own, outside the user's scope, and the stored
 * reference (or the answer: no match, several matches) would name what it found.
 *
 * Out of scope looks missing: a DELETE or PATCH of a resource outside the scope gets the gateway's
 * own 404, the answer for one that does not exist, and nothing is forwarded. A PUT cannot: on a
 * missing id it creates (FHIR update-as-create), so one outside the scope is refused with 403.
 */
import { type DeniedDecision, denied } from '../../access/contract.js';
import { storedVersionId } from '../../access/version-guard.js';
import { searchReferences } from '../../fhir/joins.js';
import type { FhirRequest } from '../../fhir/request.js';
import type { OpenSrpUser } from '../claims.js';
import { ASSIGNMENT_TYPES, deletionProblem, ownsAssignmentResource, widening } from './escalation.js';
import { ALWAYS_EXEMPT_TYPES, type Exemptions } from './exempt.js';
import { type PatchLimits, type Patched, patchedVersion } from '../../fhir/json-patch.js';
import { META_WRITE_OPERATIONS, metaChangedVersion } from './meta-operations.js';
import type { SyncLookups } from './resolver.js';
import type { StoredVersions } from './stored.js';
import { hasSyncTags, WriteScope } from './write-scope.js';

export interface WriteDeps {
  readonly lookups: SyncLookups;
  readonly exempt: Exemptions;
  readonly stored: StoredVersions;
  /** How large a patched resource may grow (BODY_LIMIT_BYTES). */
  readonly limits: PatchLimits;
}

/**
 * Granted writes say whether the request must be narrowed by `_tag` (conditional writes), and the
 * `meta.versionId` of the stored version they were judged on, if any (version-guard.ts).
 */
export type WriteVerdict =
  | DeniedDecision
  | { readonly canAccess: true; readonly narrow: boolean; readonly checkedVersion?: string };

type Resource = Record<string, unknown> & { resourceType?: string; id?: string };

const ALLOWED = { canAccess: true, narrow: false } as const;

/** Interactions that change data, and the instance operations that change tags (`$meta-add`, `$meta-delete`). */
export function isWrite(req: FhirRequest): boolean {
  return (
    req.interaction === 'create' ||
    req.interaction === 'update' ||
    req.interaction === 'patch' ||
    req.interaction === 'delete' ||
    (req.interaction === 'operation-instance' && META_WRITE_OPERATIONS.has(req.operation ?? ''))
  );
}

export async function judgeAndroidWrite(
  req: FhirRequest,
  user: OpenSrpUser,
  deps: WriteDeps,
): Promise<WriteVerdict> {
  const type = req.resourceType!;
  const settings = deps.lookups.settings;
  const assignmentType = ASSIGNMENT_TYPES.has(type);
  if (assignmentType && !settings.androidAssignmentWrites) {
    return denied(
      `ANDROID_CLIENT users cannot write ${type}: user assignments are derived from it (see OPENSRP_ANDROID_ASSIGNMENT_WRITES)`,
    );
  }
  const configType = ALWAYS_EXEMPT_TYPES.has(type);
  if (configType && !settings.androidConfigWrites) return configRefused(type);
  if (req.interaction === 'create' || req.interaction === 'update') {
    const searching = searchReferenceProblem(bodyOf(req));
    if (searching) return searching;
  }
  if (req.conditional) return conditional(req, user, deps, assignmentType, configType);
  // An untagged create of ordinary data is seen by nobody's sync: allowed without any lookup, as upstream.
  if (
    req.interaction === 'create' &&
    !assignmentType &&
    !configType &&
    !deps.exempt.type(type) &&
    !hasSyncTags(bodyOf(req), settings)
  ) {
    return ALLOWED;
  }

  const scope = await WriteScope.of(req, user, deps.lookups);
  if (req.interaction === 'create') {
    const created = bodyOf(req);
    if (!configType && deps.exempt.type(type) && !scope.tagged(created)) {
      if (!settings.androidConfigWrites) return configRefused(type);
    }
    return (await newVersionProblem(scope, created, { requireScopeTag: false, assignmentType })) ?? ALLOWED;
  }

  const target = `${type}/${req.id}`;
  const stored = (await deps.stored.current(req)) as Resource | undefined;
  if (stored === undefined) {
    if (req.interaction !== 'update') return hidden(target);
    // Update-as-create: the new resource must be in the scope, as it would be for its next update.
    const created = bodyOf(req);
    const config = configType || (deps.exempt.stored(type, req.id) && !scope.tagged(created));
    if (config && !settings.androidConfigWrites) return configRefused(type);
    return (await newVersionProblem(scope, created, { requireScopeTag: !config, assignmentType })) ?? ALLOWED;
  }

  const checked = judgedOn(stored);
  // With OPENSRP_ANDROID_CONFIG_WRITES, a stored resource of a config type that carries sync tags (a
  // patient's Binary) is still data of its scope.
  const config = (configType || deps.exempt.stored(type, req.id)) && !scope.tagged(stored);
  if (config && !settings.androidConfigWrites) return configRefused(type);
  const owned = assignmentType && (await ownsAssignmentResource(scope, stored));
  if (!config && !owned && !scope.inScope(stored)) {
    return req.interaction === 'update'
      ? denied(`${target} is outside the user's assignment and cannot be changed`)
      : hidden(target);
  }
  if (req.interaction === 'delete') {
    const problem = assignmentType ? deletionProblem(scope, stored) : undefined;
    return problem === undefined ? checked : denied(problem);
  }
  let next: Resource;
  if (req.interaction === 'update') {
    next = bodyOf(req);
  } else {
    const changed: Patched =
      req.interaction === 'patch'
        ? patchedVersion(stored, req.body, deps.limits)
        : metaChangedVersion(stored, req, deps.limits);
    if (!changed.ok) return denied(changed.reason, changed.status);
    next = changed.resource;
    const searching = searchReferenceProblem(next);
    if (searching) return searching;
  }
  return (
    (await newVersionProblem(scope, next, { requireScopeTag: !config && !owned, assignmentType })) ?? checked
  );
}

/** Granted, with the version of the stored resource the verdict read. */
function judgedOn(stored: Resource): WriteVerdict {
  const version = storedVersionId(stored);
  return version === undefined ? ALLOWED : { canAccess: true, narrow: false, checkedVersion: version };
}

/** A conditional write: its target is found by a search narrowed to the scope; its body is held to it. */
async function conditional(
  req: FhirRequest,
  user: OpenSrpUser,
  deps: WriteDeps,
  assignmentType: boolean,
  configType: boolean,
): Promise<WriteVerdict> {
  const what = `A conditional ${req.interaction} of ${req.resourceType}`;
  if (assignmentType) {
    return denied(`${what} cannot be checked against the user's assignment; write by id instead`);
  }
  if (req.interaction === 'patch') {
    return denied(
      `${what} cannot be checked against the user's assignment; PATCH ${req.resourceType}/<id> instead`,
    );
  }
  if (req.interaction !== 'update') return { canAccess: true, narrow: !configType };
  const scope = await WriteScope.of(req, user, deps.lookups);
  const problem = await newVersionProblem(scope, bodyOf(req), {
    requireScopeTag: !configType,
    assignmentType: false,
  });
  return problem ?? { canAccess: true, narrow: !configType };
}

/** Why the resource as it would be stored is refused; undefined when it may be. */
async function newVersionProblem(
  scope: WriteScope,
  resource: Resource,
  { requireScopeTag, assignmentType }: { requireScopeTag: boolean; assignmentType: boolean },
): Promise<DeniedDecision | undefined> {
  const target = `${String(resource.resourceType)}/${resource.id ?? '(new)'}`;
  if (requireScopeTag && !scope.inScope(resource)) {
    return denied(
      `${target} would be stored without a tag of the user's assignment (${scope.scope.systems.join(' or ')})`,
    );
  }
  const foreign = await scope.foreignTags(resource);
  if (foreign.length > 0) {
    return denied(`${target} carries sync tags outside the user's assignment: ${foreign.join(', ')}`);
  }
  const widened = assignmentType ? await widening(scope, resource) : undefined;
  return widened === undefined ? undefined : denied(widened);
}

function searchReferenceProblem(resource: Resource): DeniedDecision | undefined {
  const [reference] = searchReferences(resource);
  if (reference === undefined) return undefined;
  const target = `${String(resource.resourceType)}/${resource.id ?? '(new)'}`;
  return denied(
    `${target} references a resource by a search (${reference.length > 100 ? `${reference.slice(0, 97)}...` : reference}), which the FHIR server would resolve outside the user's assignment; ANDROID_CLIENT users must reference resources by id`,
  );
}

function bodyOf(req: FhirRequest): Resource {
  return req.body!.json() as Resource;
}

function configRefused(type: string): DeniedDecision {
  return denied(
    `ANDROID_CLIENT users cannot write app configuration (${type}) unless OPENSRP_ANDROID_CONFIG_WRITES is set`,
  );
}

/** The answer for a resource that does not exist, so that existence is not disclosed. */
function hidden(target: string): DeniedDecision {
  return denied(`Resource ${target} is not known`, 404);
}
