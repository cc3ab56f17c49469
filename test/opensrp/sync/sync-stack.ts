/**
 * A gateway whose only checker is the sync (data access) decision, in front of a FHIR server seeded
 * with the OpenSRP dataset, plus helpers to call it as an ANDROID_CLIENT or WEB_CLIENT user.
 * The factory is a stand-in for `permission` (which adds the role checks) so these tests see the
 * sync decision alone.
 */
import type {
  CareTeam,
  Organization,
  OrganizationAffiliation,
  Practitioner,
  Resource,
} from '@medplum/fhirtypes';
import type { AccessCheckerFactory } from '../../../src/access/contract.js';
import { openSrpUser } from '../../../src/opensrp/claims.js';
import { readOpenSrpSettings } from '../../../src/opensrp/settings.js';
import { createSyncAccess, type SyncAccess } from '../../../src/opensrp/sync/index.js';
import { type LocalFhirServer, type RecordedRequest, startFhirServer } from '../../support/fhir-server.js';
import { bearer, type RawResponse, send } from '../../support/http.js';
import {
  APP_IDS,
  buildOpenSrpDataset,
  type OpenSrpDataset,
  PERSONAS,
  type SyncStrategy,
} from '../../support/opensrp-dataset.js';
import { type Stack, startStack } from '../../support/stack.js';

export const SYNC_CHECKER = 'sync-under-test';
export const FHIR_JSON = 'application/fhir+json';

export function syncFactory(): AccessCheckerFactory & { access(): SyncAccess } {
  let access: SyncAccess | undefined;
  return {
    name: SYNC_CHECKER,
    async init(ctx) {
      access = await createSyncAccess(ctx, readOpenSrpSettings(ctx.env));
    },
    async create(token) {
      const user = openSrpUser(token);
      return { checkAccess: (req) => access!.decide(req, user) };
    },
    access: () => access!,
  };
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface SyncStack {
  readonly stack: Stack;
  readonly fhir: LocalFhirServer;
  readonly dataset: OpenSrpDataset;
  /** The SyncAccess the gateway uses (its caches, to start a test cold). */
  sync(): SyncAccess;
  /** A token for `sub` with the app of `strategy` and the given realm roles (ANDROID_CLIENT by default). */
  token(options?: {
    sub?: string;
    strategy?: SyncStrategy;
    roles?: readonly string[];
    claims?: Record<string, unknown>;
  }): Promise<string>;
  /** Calls `/fhir/<path>` with the token; clears the backend's request log first. */
  call(token: string, path: string, options?: CallOptions): Promise<RawResponse>;
  /** What the backend received since the last call, excluding nothing. */
  received(): RecordedRequest[];
  close(): Promise<void>;
}

export async function startSyncStack(
  options: { seed?: Resource[]; env?: Record<string, string>; dataset?: OpenSrpDataset } = {},
): Promise<SyncStack> {
  const dataset = options.dataset ?? buildOpenSrpDataset();
  const fhir = await startFhirServer({ seed: [...dataset.resources, ...(options.seed ?? [])] });
  const factory = syncFactory();
  const stack = await startStack({
    env: { ACCESS_CHECKER: SYNC_CHECKER, RUN_MODE: 'PROD', ...options.env },
    fhir,
    extraCheckers: [factory],
  });
  return {
    stack,
    sync: () => factory.access(),
    fhir,
    dataset,
    token: ({
      sub = PERSONAS.worker.sub,
      strategy = 'Location',
      roles = ['ANDROID_CLIENT'],
      claims = {},
    } = {}) =>
      stack.issuer.mint({
        sub,
        fhir_core_app_id: APP_IDS[strategy],
        realm_access: { roles: [...roles] },
        ...claims,
      }),
    async call(token, path, callOptions = {}) {
      fhir.clearRequests();
      const body =
        callOptions.body === undefined
          ? undefined
          : typeof callOptions.body === 'string'
            ? callOptions.body
            : JSON.stringify(callOptions.body);
      return send(stack.gatewayUrl, {
        method: callOptions.method ?? 'GET',
        path: `/fhir/${path}`,
        headers: bearer(token, {
          ...(body === undefined ? {} : { 'content-type': FHIR_JSON }),
          ...callOptions.headers,
        }),
        ...(body === undefined ? {} : { body }),
      });
    },
    received: () => [...fhir.requests],
    async close() {
      await stack.close();
      await fhir.close();
    },
  };
}

/** The ids of the resources in a Bundle answer, sorted. */
export function idsIn(response: RawResponse, mode?: 'match' | 'include'): string[] {
  const bundle = response.json() as { entry?: { resource?: { id?: string }; search?: { mode?: string } }[] };
  return (bundle.entry ?? [])
    .filter((e) => mode === undefined || (e.search?.mode ?? 'match') === mode)
    .map((e) => e.resource?.id ?? '')
    .sort();
}

/** The diagnostics of an OperationOutcome answer. */
export function diagnostics(response: RawResponse): string {
  const outcome = response.json() as { resourceType?: string; issue?: { diagnostics?: string }[] };
  if (outcome.resourceType !== 'OperationOutcome')
    throw new Error(`not an OperationOutcome: ${response.text}`);
  return outcome.issue?.map((issue) => issue.diagnostics ?? '').join(' ') ?? '';
}

/** The `_tag` values of a request the backend received (URL query or form body). */
export function tagValuesOf(request: RecordedRequest): string[] {
  const params = new URLSearchParams(request.query);
  if (request.method === 'POST' && request.path.endsWith('/_search')) {
    for (const [name, value] of new URLSearchParams(request.body)) params.append(name, value);
  }
  return params.getAll('_tag');
}

/** The requests of `received` that searched `type` (GET `Type?…` or POST `Type/_search`). */
export function searchesOf(received: readonly RecordedRequest[], type: string): RecordedRequest[] {
  return received.filter(
    (r) =>
      (r.method === 'GET' && r.path === `/fhir/${type}`) ||
      (r.method === 'POST' && r.path === `/fhir/${type}/_search`),
  );
}

/** A practitioner (identifier = `sub`) whose team's organization is affiliated with `locationId`. */
export function assignedTo(name: string, locationId: string): Resource[] {
  const practitioner: Practitioner = {
    resourceType: 'Practitioner',
    id: `prac-${name}`,
    identifier: [{ value: `kc-${name}` }],
  };
  const organization: Organization = { resourceType: 'Organization', id: `org-${name}`, name };
  const team: CareTeam = {
    resourceType: 'CareTeam',
    id: `team-${name}`,
    participant: [{ member: { reference: `Practitioner/prac-${name}` } }],
    managingOrganization: [{ reference: `Organization/org-${name}` }],
  };
  const affiliation: OrganizationAffiliation = {
    resourceType: 'OrganizationAffiliation',
    id: `aff-${name}`,
    organization: { reference: `Organization/org-${name}` },
    location: [{ reference: `Location/${locationId}` }],
  };
  return [practitioner, organization, team, affiliation];
}

