/**
 * The OpenSRP data access checker ("sync"), issue 3 and opensrp-plugins spec §3: which data an
 * ANDROID_CLIENT user may sync, read and change, decided from the app's sync strategy and the
 * user's assignment. WEB_CLIENT users are not narrowed.
 *
 * @example
 * const sync = await createSyncAccess(ctx, readOpenSrpSettings(ctx.env));
 * const decision = await sync.decide(request, openSrpUser(token));
 */
import {
  type AccessDecision,
  denied,
  type FhirResource,
  type GatewayContext,
} from '../../access/contract.js';
import { defaultOf } from '../../config/variables.js';
import { GatewayError } from '../../fhir/errors.js';
import type { FhirRequest } from '../../fhir/request.js';
import { clientRoleOf, type OpenSrpUser, ROLE } from '../claims.js';
import type { OpenSrpSettings } from '../settings.js';
import { bundleDecision } from './bundle.js';
import { androidDecision, type DecisionDeps, webDecision } from './decide.js';
import { Exemptions } from './exempt.js';
import { LineageMaintainer } from './lineage.js';
import { SyncLookups } from './resolver.js';
import { loadSkipList } from './skip-list.js';
import { StoredVersions } from './stored.js';
import { Visibility } from './visibility.js';

export interface SyncAccess {
  decide(req: FhirRequest, user: OpenSrpUser): Promise<AccessDecision>;
  /** The cached strategy, assignment and hierarchy lookups, for other OpenSRP parts to share. */
  readonly lookups: SyncLookups;
  readonly exemptions: Exemptions;
}

export type { Assignment } from './assignment.js';
export type { LocationTree } from './locations.js';
export { SyncLookups } from './resolver.js';
export type { SyncScope } from './scope.js';
export { GATEWAY_ONLY_PARAMS } from './scope.js';
export type { SyncStrategy } from './strategy.js';

/** Reads the skip-list once (ConfigError when the configured file is broken) and builds the checker. */
export async function createSyncAccess(ctx: GatewayContext, settings: OpenSrpSettings): Promise<SyncAccess> {
  const exemptions = new Exemptions(loadSkipList(settings.skipListFile));
  const lookups = new SyncLookups(ctx.fhirClient, settings);
  const lineage = new LineageMaintainer(ctx.fhirClient, settings.tagSystems.lineage, ctx.logger, () =>
    lookups.forgetLocations(),
  );
  const stored = new StoredVersions(ctx.fhirClient);
  const limits = { maxBytes: bodyLimitBytes(ctx.env) };
  const deps: DecisionDeps = { fhir: ctx.fhirClient, exempt: exemptions, lookups, lineage, stored, limits };

  const decideOne = async (req: FhirRequest, user: OpenSrpUser): Promise<AccessDecision> => {
    const role = clientRoleOf(user);
    if (role === undefined) {
      return denied(
        `The user must have exactly one of the client roles ${ROLE.webClient}, ${ROLE.androidClient}`,
      );
    }
    if (role === ROLE.webClient) return webDecision(req, deps);
    try {
      return withScopeVisibility(await androidDecision(req, user, deps), req, user);
    } catch (error) {
      // A token without a needed claim or a broken app config: the user's problem, not a crash.
      if (error instanceof GatewayError && error.status < 500) {
        return denied(error.message, deniedStatus(error.status));
      }
      throw error;
    }
  };

  /**
   * An Android user's answers are held to the scope whatever brought a resource there (issue 8):
   * the tag rule of a read by id. Without a scope (no assignment yet) only exempt resources show.
   */
  const exemptOnly = (resource: FhirResource) => exemptions.instance(resource.resourceType, resource.id);
  const withScopeVisibility = async (
    decision: AccessDecision,
    req: Pick<FhirRequest, 'query'>,
    user: OpenSrpUser,
  ): Promise<AccessDecision> => {
    if (!decision.canAccess || decision.visible) return decision;
    let visible = exemptOnly;
    try {
      visible = Visibility.of(await lookups.scopeOf(req, user), exemptions).predicate;
    } catch (error) {
      if (!(error instanceof GatewayError) || error.status >= 500) throw error;
    }
    return { ...decision, visible };
  };

  return {
    lookups,
    exemptions,
    async decide(req, user) {
      if (req.interaction === 'batch' || req.interaction === 'transaction') {
        const role = clientRoleOf(user);
        if (role === undefined) return decideOne(req, user);
        // Android entries read stored versions: one backend batch for the whole Bundle (D1).
        const android = role === ROLE.androidClient;
        const decision = await bundleDecision(
          req,
          (entry) => decideOne(entry, user),
          android ? { prefetch: (entries) => stored.prefetch(entries), judgedOnStored: true } : {},
        );
        return android ? withScopeVisibility(decision, req, user) : decision;
      }
      return decideOne(req, user);
    },
  };
}

/** BODY_LIMIT_BYTES as the gateway applies it to request bodies (validated at start). */
function bodyLimitBytes(env: Readonly<Record<string, string | undefined>>): number {
  const fallback = Number(defaultOf('BODY_LIMIT_BYTES'));
  const value = Number(env.BODY_LIMIT_BYTES?.trim() || fallback);
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

function deniedStatus(status: number): 400 | 401 | 403 | 404 | 415 {
  return status === 400 || status === 401 || status === 404 || status === 415 ? status : 403;
}
