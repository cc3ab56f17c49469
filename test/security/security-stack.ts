/**
 * The set-up of ../shared/cases/attacks.md: ACCESS_CHECKER=permission, RUN_MODE=PROD, the OpenSRP
 * dataset, and "L9 data" outside the Android user's scope (Patient p9, Observation o9, an
 * Observation o-x9 about an in-scope patient but tagged L9). Users are ANDROID_CLIENT (Location
 * strategy, the worker persona) or WEB_CLIENT, with the roles a test names.
 */
import type { Composition, List, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { type FhirServerOptions, type LocalFhirServer, startFhirServer } from '../support/fhir-server.js';
import { bearer, type RawResponse, send } from '../support/http.js';
import { APP_IDS, buildOpenSrpDataset, PERSONAS, TAG_SYSTEMS } from '../support/opensrp-dataset.js';
import { type Stack, startStack } from '../support/stack.js';

export const FHIR_JSON = 'application/fhir+json';
/** The Location outside the worker's tree whose data the attacks try to reach. */
export const L9 = PERSONAS.other.facility;

/** `none` and `both` break the one-client-role rule. */
export type Client = 'android' | 'web' | 'none' | 'both';

export interface User {
  readonly client: Client;
  readonly roles: readonly string[];
  /** Keycloak subject; the worker persona by default. */
  readonly sub?: string;
}

function clientRoles(client: Client): string[] {
  if (client === 'none') return [];
  if (client === 'both') return ['ANDROID_CLIENT', 'WEB_CLIENT'];
  return [client === 'android' ? 'ANDROID_CLIENT' : 'WEB_CLIENT'];
}

export interface CallOptions {
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface SecurityStack {
  readonly stack: Stack;
  readonly fhir: LocalFhirServer;
  /** An in-scope patient of the Android worker (p1 of the catalogue) and a second one (p2). */
  readonly p1: string;
  readonly p2: string;
  call(user: User, method: string, path: string, options?: CallOptions): Promise<RawResponse>;
  /** Follows an absolute gateway URL (a link from an answer) as `user`. */
  follow(user: User, url: string, options?: CallOptions): Promise<RawResponse>;
  /** What reached the backend since the last call, as `METHOD /path?query`. */
  forwarded(): string[];
  close(): Promise<void>;
}

const tagged = (code: string) => ({ tag: [{ system: TAG_SYSTEMS.location, code }] });

/** The L9 resources of the catalogue, about `inScope` where the catalogue says so. */
export function l9Data(inScope: string): Resource[] {
  const p9: Patient = {
    resourceType: 'Patient',
    id: 'p9',
    name: [{ family: 'Outsider', given: ['Nine'] }],
    meta: tagged(L9),
  };
  const o9: Observation = {
    resourceType: 'Observation',
    id: 'o9',
    status: 'final',
    code: { text: 'weight' },
    subject: { reference: 'Patient/p9' },
    meta: tagged(L9),
  };
  const ox9: Observation = {
    resourceType: 'Observation',
    id: 'o-x9',
    status: 'final',
    code: { text: 'secret' },
    subject: { reference: `Patient/${inScope}` },
    meta: tagged(L9),
  };
  const clinical: Composition = {
    resourceType: 'Composition',
    id: 'comp-clinical',
    status: 'final',
    type: { text: 'summary' },
    date: '2026-01-01',
    author: [{ display: 'x' }],
    title: 'clinical',
    subject: { reference: 'Patient/p9' },
    section: [{ title: 's', entry: [{ reference: 'Patient/p9' }, { reference: 'Observation/o9' }] }],
  };
  // R7: the worker's own List names an untagged Patient and one tagged only with the related-entity system.
  const untagged: Patient = { resourceType: 'Patient', id: 'p-untagged' };
  const relatedOnly: Patient = {
    resourceType: 'Patient',
    id: 'p-related-only',
    meta: { tag: [{ system: TAG_SYSTEMS.relatedEntityLocation, code: PERSONAS.worker.facility }] },
  };
  const ownList: List = {
    resourceType: 'List',
    id: 'list-own',
    status: 'current',
    mode: 'working',
    meta: tagged(PERSONAS.worker.facility),
    entry: [
      { item: { reference: `Patient/${inScope}` } },
      { item: { reference: 'Patient/p-untagged' } },
      { item: { reference: 'Patient/p-related-only' } },
    ],
  };
  return [p9, o9, ox9, clinical, untagged, relatedOnly, ownList];
}

export async function startSecurityStack(
  env: Record<string, string> = {},
  fhirOptions: Omit<FhirServerOptions, 'seed'> = {},
): Promise<SecurityStack> {
  const dataset = buildOpenSrpDataset();
  const [p1, p2] = dataset.patientsIn(dataset.subtreeOf(PERSONAS.worker.facility));
  const fhir = await startFhirServer({ ...fhirOptions, seed: [...dataset.resources, ...l9Data(p2!)] });
  const stack = await startStack({ env: { ACCESS_CHECKER: 'permission', RUN_MODE: 'PROD', ...env }, fhir });
  const security: SecurityStack = {
    stack,
    fhir,
    p1: p1!,
    p2: p2!,
    follow(user, url, options) {
      const target = new URL(url);
      return call(user, 'GET', `${target.pathname}${target.search}`.replace(/^\/fhir\/?/, ''), options);
    },
    call,
    forwarded: () => fhir.requests.map((r) => `${r.method} ${r.url.replace(/^\/fhir/, '')}`),
    async close() {
      await stack.close();
      await fhir.close();
    },
  };

  return security;

  async function call(
    user: User,
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<RawResponse> {
    fhir.clearRequests();
    const token = await stack.issuer.mint({
      sub: user.sub ?? PERSONAS.worker.sub,
      fhir_core_app_id: APP_IDS.Location,
      realm_access: {
        roles: [...clientRoles(user.client), ...user.roles],
      },
    });
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    return send(stack.gatewayUrl, {
      method,
      path: `/fhir/${path}`,
      headers: bearer(token, {
        ...(body === undefined ? {} : { 'content-type': FHIR_JSON }),
        ...options.headers,
      }),
      ...(body === undefined ? {} : { body }),
    });
  }
}

export const android = (...roles: string[]): User => ({ client: 'android', roles });
export const web = (...roles: string[]): User => ({ client: 'web', roles });
