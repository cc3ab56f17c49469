/**
 * A gateway in front of a FHIR server seeded with the OpenSRP dataset, with the OpenSRP endpoints
 * and list-entries mode behind a temporary checker factory (until `permission` registers them):
 * the token checks of the permission checker, then list-entries, with a fixed scope predicate.
 */
import type { Resource } from '@medplum/fhirtypes';
import { type AccessCheckerFactory, granted } from '../../../src/access/contract.js';
import { checkIdentityAndRoles } from '../../../src/opensrp/checker.js';
import { openSrpUser } from '../../../src/opensrp/claims.js';
import { openSrpRoutes } from '../../../src/opensrp/endpoints/index.js';
import { type ListEntriesDeps, listEntriesDecision } from '../../../src/opensrp/list-entries.js';
import { readOpenSrpSettings } from '../../../src/opensrp/settings.js';
import { startFhirServer } from '../../support/fhir-server.js';
import { bearer, type RawResponse, send } from '../../support/http.js';
import { buildOpenSrpDataset, PERSONAS } from '../../support/opensrp-dataset.js';
import { type Stack, startStack } from '../../support/stack.js';

export const TEST_FACTORY = 'opensrp-endpoints-test';

export interface EndpointsStack {
  readonly stack: Stack;
  /** GET `path` (from the gateway root) with a token for `sub` carrying `roles` as realm roles. */
  get(
    path: string,
    options?: {
      sub?: string;
      roles?: readonly string[];
      claims?: Record<string, unknown>;
      headers?: Record<string, string>;
    },
  ): Promise<RawResponse>;
  /** Requests the backend received since the last `get`, as `METHOD /path?query`. */
  forwarded(): string[];
  close(): Promise<void>;
}

export interface EndpointsStackOptions {
  seed?: Resource[];
  env?: Record<string, string>;
  /** The list-entries scope rule handed to the decision (none: everything visible). */
  isVisible?: ListEntriesDeps['isVisible'];
}

function testFactory(options: EndpointsStackOptions): AccessCheckerFactory {
  return {
    name: TEST_FACTORY,
    async create(token, ctx) {
      const user = openSrpUser(token);
      const deps: ListEntriesDeps = {
        fhirClient: ctx.fhirClient,
        backendBaseUrl: (ctx.env.PROXY_TO ?? '').replace(/\/+$/, ''),
        ...(options.isVisible ? { isVisible: options.isVisible } : {}),
      };
      return {
        async checkAccess(req) {
          return checkIdentityAndRoles(req, user) ?? listEntriesDecision(req, user, deps) ?? granted();
        },
      };
    },
    routes(app, ctx) {
      for (const route of openSrpRoutes(ctx, readOpenSrpSettings(ctx.env))) app.route(route);
    },
  };
}

export async function startEndpointsStack(options: EndpointsStackOptions = {}): Promise<EndpointsStack> {
  const fhir = await startFhirServer({ seed: options.seed ?? buildOpenSrpDataset().resources });
  const stack = await startStack({
    env: { ACCESS_CHECKER: TEST_FACTORY, RUN_MODE: 'PROD', ...options.env },
    fhir,
    extraCheckers: [testFactory(options)],
  });
  return {
    stack,
    async get(path, { sub = PERSONAS.worker.sub, roles = [], claims = {}, headers = {} } = {}) {
      fhir.clearRequests();
      const token = await stack.issuer.mint({
        sub,
        fhir_core_app_id: 'app-location',
        realm_access: { roles: [...roles] },
        ...claims,
      });
      return send(stack.gatewayUrl, { path, headers: bearer(token, headers) });
    },
    forwarded: () => fhir.requests.map((r) => `${r.method} ${r.url.replace(/^\/fhir/, '')}`),
    async close() {
      await stack.close();
      await fhir.close();
    },
  };
}
