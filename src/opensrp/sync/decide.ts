/**
 * The data access decision for one request that is not a Bundle (Bundle entries come here one by
 * one). ANDROID_CLIENT users see and change only resources tagged for their scope; WEB_CLIENT users
 * are not narrowed. Both lose the gateway-only params, and both trigger lineage maintenance on
 * Location writes.
 */
import {
  type AccessDecision,
  type DeniedDecision,
  denied,
  type FhirClient,
  type GrantedDecision,
  type RequestMutation,
} from '../../access/contract.js';
import { destructiveReach } from '../../fhir/destructive.js';
import { GatewayError, notFound } from '../../fhir/errors.js';
import type { FhirRequest, Mutable } from '../../fhir/request.js';
import type { OpenSrpUser } from '../claims.js';
import { versionGuard } from '../../access/version-guard.js';
import { ASSIGNMENT_TYPES } from './escalation.js';
import type { Exemptions } from './exempt.js';
import { unnarrowableJoin } from './joins.js';
import type { PatchLimits } from '../../fhir/json-patch.js';
import type { LineageMaintainer } from './lineage.js';
import type { SyncLookups } from './resolver.js';
import { conditionParams, GATEWAY_ONLY_PARAMS, narrowedCondition, narrowedTagParams } from './scope.js';
import type { StoredVersions } from './stored.js';
import { Visibility } from './visibility.js';
import { isWrite, judgeAndroidWrite } from './writes.js';

export interface DecisionDeps {
  readonly fhir: FhirClient;
  readonly exempt: Exemptions;
  readonly lookups: SyncLookups;
  readonly lineage: LineageMaintainer;
  /** Stored versions of the resources requests act on (prefetched per Bundle). */
  readonly stored: StoredVersions;
  /** How large a patched resource may grow (BODY_LIMIT_BYTES). */
  readonly limits: PatchLimits;
}

type PostProcess = NonNullable<GrantedDecision['postProcess']>;

/** WEB_CLIENT: roles only; no narrowing. */
export function webDecision(req: FhirRequest, deps: DecisionDeps): GrantedDecision {
  return grant(req, deps, undefined, undefined);
}

export async function androidDecision(
  req: FhirRequest,
  user: OpenSrpUser,
  deps: DecisionDeps,
): Promise<AccessDecision> {
  const unnarrowable = unnarrowableJoin(req, deps.exempt);
  if (unnarrowable) return unnarrowable;
  const destructive = destructiveReach(req);
  if (destructive) {
    return denied(`ANDROID_CLIENT users cannot erase data beyond the request (${destructive.by.join(', ')})`);
  }
  const visibility = async () => Visibility.of(await deps.lookups.scopeOf(req, user), deps.exempt);
  if (req.interaction === 'capabilities' || req.interaction === 'paging') {
    // A HAPI paging link replays a search stored with our `_tag` already in it.
    return grant(req, deps, undefined, undefined);
  }
  if (isWrite(req)) return androidWrite(req, user, deps, visibility);
  // What a request brings back (a read, its includes) is held to the scope by the answer check,
  // through the `visible` predicate every Android decision carries (sync/index.ts).
  if (deps.exempt.request(req)) return grant(req, deps, undefined, undefined);
  switch (req.interaction) {
    case 'search-type':
    case 'search-compartment':
      return narrowed(req, deps, await visibility());
    case 'read':
      return grant(req, deps, undefined, undefined);
    case 'vread':
    case 'history-instance':
    case 'operation-instance':
      return instanceRequest(req, deps, await visibility());
    default:
      return denied(
        `${describe(req)} cannot be narrowed to the user's assignment; ANDROID_CLIENT users may search one resource type or address one resource by id`,
      );
  }
}

/** writes.ts decides; a conditional write is narrowed like a search. */
async function androidWrite(
  req: FhirRequest,
  user: OpenSrpUser,
  deps: DecisionDeps,
  visibility: () => Promise<Visibility>,
): Promise<AccessDecision> {
  const verdict = await judgeAndroidWrite(req, user, deps);
  if (!verdict.canAccess) return verdict;
  if (verdict.narrow) return narrowed(req, deps, await visibility());
  // Judged on a stored version: forwarded only if the server still holds it.
  const guard = versionGuard(req, verdict.checkedVersion);
  if (guard !== undefined && 'canAccess' in guard) return guard;
  const condition = req.interaction === 'create' ? req.headers['if-none-exist'] : undefined;
  return condition === undefined
    ? grant(req, deps, undefined, undefined, guard?.setHeaders)
    : conditionalCreate(req, condition, deps, await visibility());
}

/**
 * A conditional create searches before it creates (RT1): its If-None-Exist is narrowed to the scope
 * as the same search would be, so a resource outside the scope is no match and the create goes
 * ahead; no answer, and no sibling entry's reference to the entry's `fullUrl`, can name it. A
 * condition the exemptions cover (app configuration, a skip-listed search) is not narrowed. A match
 * is the existing resource (200), which must be visible: the check fires only when the server
 * matched outside the condition it was sent.
 * @throws GatewayError 400 for a condition that names no search parameter.
 */
function conditionalCreate(
  req: FhirRequest,
  condition: string,
  deps: DecisionDeps,
  visibility: Visibility,
): AccessDecision {
  const check = conditionalCreateCheck(visibility);
  const params = conditionParams(condition);
  const search: FhirRequest = {
    method: 'GET',
    interaction: 'search-type',
    resourceType: req.resourceType!,
    conditional: false,
    query: params,
    headers: {},
  };
  if (deps.exempt.request(search)) return grant(req, deps, undefined, check);
  if (visibility.scope.ids.size === 0) return notConfigured(visibility);
  return grant(req, deps, undefined, check, {
    'if-none-exist': narrowedCondition(params, visibility.scope),
  });
}

function narrowed(req: FhirRequest, deps: DecisionDeps, visibility: Visibility): AccessDecision {
  const { scope } = visibility;
  if (scope.ids.size === 0) return notConfigured(visibility);
  // Included resources are held to the scope by the answer check, through `visible`: set here from
  // the scope already at hand, so sync/index.ts need not look it up again.
  return grant(req, deps, narrowedTagParams(req.query, scope), undefined, undefined, visibility.predicate);
}

function notConfigured({ scope }: Visibility): DeniedDecision {
  return denied(
    `User assignment or sync strategy not configured correctly: no ${scope.strategy} assignment was found for this user`,
  );
}

/** 201 is the client's own new resource; 200 is an existing match, which must be in scope. */
function conditionalCreateCheck(visibility: Visibility): PostProcess {
  return async (_req, res) => {
    if (res.status === 201 || res.text().trim() === '') return undefined;
    const body = res.json() as { resourceType?: unknown } | null;
    if (body === null || body?.resourceType === 'OperationOutcome' || visibility.visible(body))
      return undefined;
    throw new GatewayError(
      412,
      'conditional_match_out_of_scope',
      "A resource matching If-None-Exist exists outside the user's assignment",
    );
  };
}

/**
 * vread, instance history and instance operations: the CURRENT version decides (issue 8, R9), read
 * before anything is forwarded; a resource outside the scope, deleted or missing answers 404. The
 * answer is then held to the scope too (the version asked for, the versions, the operation's
 * Bundle entries).
 */
async function instanceRequest(
  req: FhirRequest,
  deps: DecisionDeps,
  visibility: Visibility,
): Promise<AccessDecision> {
  const stored = await deps.stored.current(req);
  if (stored === undefined || !visibility.visibleStored(stored)) return denied(hidden(req).message, 404);
  // The version, the versions or the operation's output are held to the scope by the answer check.
  return grant(req, deps, undefined, undefined);
}

/** The same answer as for a resource that does not exist, so existence is not disclosed. */
function hidden(req: FhirRequest): GatewayError {
  return notFound(`Resource ${req.resourceType}/${req.id} is not known`);
}

function describe(req: FhirRequest): string {
  const operation = req.operation ? ` ($${req.operation})` : '';
  const on = req.resourceType ? ` on ${req.resourceType}` : '';
  return `${/^[aeiou]/.test(req.interaction) ? 'An' : 'A'} ${req.interaction} request${operation}${on}`;
}

/**
 * The granted decision: gateway-only params dropped, `addParams` added, `setHeaders` set,
 * post-processing chained.
 */
function grant(
  req: FhirRequest,
  deps: DecisionDeps,
  addParams: RequestMutation['addParams'],
  postProcess: PostProcess | undefined,
  setHeaders?: RequestMutation['setHeaders'],
  visible?: GrantedDecision['visible'],
): GrantedDecision {
  let discard: string[] | undefined;
  for (const name of GATEWAY_ONLY_PARAMS) {
    if (req.query.some((p) => p.name === name)) discard = [...(discard ?? []), name];
  }
  const decision: Mutable<GrantedDecision> = { canAccess: true };
  if (addParams !== undefined || discard !== undefined || setHeaders !== undefined) {
    const mutation: Mutable<RequestMutation> = {};
    if (addParams !== undefined) mutation.addParams = addParams;
    if (discard !== undefined) mutation.discardParams = discard;
    if (setHeaders !== undefined) mutation.setHeaders = setHeaders;
    decision.mutation = mutation;
  }
  const lineage = deps.lineage.applies(req) ? deps.lineage.postProcess.bind(deps.lineage) : undefined;
  const forget = changesAssignments(req)
    ? forgetAssignments(deps, req.resourceType === 'Location')
    : undefined;
  if (lineage === undefined && forget === undefined) {
    if (postProcess !== undefined) decision.postProcess = postProcess;
  } else {
    const chain = [postProcess, lineage, forget].filter((step): step is PostProcess => step !== undefined);
    decision.postProcess = chain.length === 1 ? chain[0]! : chained(chain);
  }
  if (visible !== undefined) decision.visible = visible;
  return decision;
}

/** A write to what assignments are derived from, by any user (issue 8, E1-E3). */
function changesAssignments(req: FhirRequest): boolean {
  return isWrite(req) && req.resourceType !== undefined && ASSIGNMENT_TYPES.has(req.resourceType);
}

/**
 * `locations`: a Location write of any kind (a delete or patch too, which lineage maintenance does
 * not see) also changes the hierarchies, and what was derived from them.
 */
function forgetAssignments(deps: DecisionDeps, locations: boolean): PostProcess {
  return async () => {
    deps.lookups.forgetAssignments();
    if (locations) deps.lookups.forgetLocations();
    return undefined;
  };
}

function chained(steps: readonly PostProcess[]): PostProcess {
  return async (req, res) => {
    let current = res;
    let output: unknown;
    for (const step of steps) {
      const result = await step(req, current);
      if (result !== undefined) {
        output = result;
        const text = JSON.stringify(result);
        current = { status: current.status, headers: current.headers, json: () => result, text: () => text };
      }
    }
    return output;
  };
}
