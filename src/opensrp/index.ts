/**
 * The `permission` access checker (ACCESS_CHECKER=permission): the OpenSRP plugins of
 * onaio/fhir-gateway-extension as one factory. Per request: token subject and client role, roles
 * per resource type (checker.ts, permissions.ts), `mode=list-entries` (list-entries.ts), then the
 * data access decision for the user's assignment (sync/). It also serves /PractitionerDetail and
 * /LocationHierarchy (endpoints/), sharing the sync checker's caches.
 *
 * State lives per gateway (keyed by its GatewayContext), so two gateways in one process, as in
 * the tests, never share settings or caches.
 */
import { composeCheckers } from '../access/compose.js';
import type {
  AccessChecker,
  AccessCheckerFactory,
  AccessDecision,
  FhirClient,
  GatewayContext,
  VerifiedToken,
} from '../access/contract.js';
import type { FhirRequest } from '../fhir/request.js';
import { type DecisionStage, openSrpChecker } from './checker.js';
import { clientRoleOf, type OpenSrpUser, openSrpUser, ROLE } from './claims.js';
import { hierarchyCache, treeAnswerCache } from './endpoints/context.js';
import { openSrpRoutes } from './endpoints/index.js';
import { type ListEntriesDeps, listEntriesDecision, tagScope } from './list-entries.js';
import { isEntrylessBundle } from './permissions.js';
import { type OpenSrpSettings, readOpenSrpSettings } from './settings.js';
import { createSyncAccess, type SyncAccess } from './sync/index.js';

interface OpenSrpState {
  readonly settings: OpenSrpSettings;
  readonly sync: SyncAccess;
  readonly fhirClient: FhirClient;
  readonly backendBaseUrl: string;
  /**
   * The checker of each verified token: the token verifier hands out one object per cached token,
   * so a user's requests share their roles set and checker instead of rebuilding them each time.
   */
  readonly checkers: WeakMap<VerifiedToken, AccessChecker>;
}

const states = new WeakMap<GatewayContext, OpenSrpState>();

export const permissionChecker: AccessCheckerFactory = {
  name: 'permission',

  /** Reads the OpenSRP variables and the skip-list; a ConfigError stops the start. */
  async init(ctx) {
    const settings = readOpenSrpSettings(ctx.env);
    const sync = await createSyncAccess(ctx, settings);
    const backendBaseUrl = (ctx.env.PROXY_TO ?? '').trim().replace(/\/+$/, '');
    states.set(ctx, { settings, sync, fhirClient: ctx.fhirClient, backendBaseUrl, checkers: new WeakMap() });
  },

  async create(token, ctx): Promise<AccessChecker> {
    const state = stateOf(ctx);
    let checker = state.checkers.get(token);
    if (checker === undefined) {
      const user = openSrpUser(token, state.settings.clientRoleClients);
      checker = openSrpChecker(user, [dataAccessStage(state)]);
      state.checkers.set(token, checker);
    }
    return checker;
  },

  routes(app, ctx) {
    const { settings, sync } = stateOf(ctx);
    // An assignment or strategy loaded for a sync request serves the endpoints too, and back.
    const caches = {
      assignments: sync.lookups.assignments,
      strategies: sync.lookups.strategies,
      hierarchies: hierarchyCache(settings.cacheTtlSeconds),
      treeAnswers: treeAnswerCache(settings.cacheTtlSeconds),
    };
    // A Location write through the gateway is seen by the next /LocationHierarchy, not after the TTL.
    sync.lookups.alsoForget(caches.hierarchies);
    sync.lookups.alsoForget(caches.treeAnswers);
    for (const route of openSrpRoutes(ctx, settings, caches)) app.route(route);
  },
};

function stateOf(ctx: GatewayContext): OpenSrpState {
  const state = states.get(ctx);
  if (!state) throw new Error('The permission checker was used before init()');
  return state;
}

/**
 * List-entries mode and the data access decision. The mode is decided first (a bad mode is a 400
 * without any backend call), but its post-processing runs last: the sync decision must judge the
 * List the backend returned before list-entries replaces it with the List's entries.
 */
function dataAccessStage(state: OpenSrpState): DecisionStage {
  return async (req: FhirRequest, user: OpenSrpUser): Promise<AccessDecision | undefined> => {
    // Nothing in it to narrow (bundleEntries, which the sync checker uses, refuses a missing `entry`).
    if (isEntrylessBundle(req)) return undefined;
    const listEntries = listEntriesDecision(req, user, listEntriesDeps(state, req, user));
    if (listEntries && !listEntries.canAccess) return listEntries;
    const sync = await state.sync.decide(req, user);
    if (!listEntries || !sync.canAccess) return sync;
    return composeCheckers([fixed(sync), fixed(listEntries)]).checkAccess(req);
  };
}

function listEntriesDeps(state: OpenSrpState, req: FhirRequest, user: OpenSrpUser): ListEntriesDeps {
  const deps = { fhirClient: state.fhirClient, backendBaseUrl: state.backendBaseUrl };
  if (clientRoleOf(user) !== ROLE.androidClient) return deps;
  // Referenced resources tagged for the user's strategy must be in the user's scope.
  let visible: Promise<(resource: Record<string, unknown>) => boolean> | undefined;
  return {
    ...deps,
    isVisible: async (resource) => {
      visible ??= state.sync.lookups.scopeOf(req, user).then((scope) => tagScope(scope.systems, scope.ids));
      return (await visible)(resource);
    },
  };
}

function fixed(decision: AccessDecision): AccessChecker {
  return { checkAccess: async () => decision };
}
