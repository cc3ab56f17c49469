/**
 * The set-up shared by the `list` and `patient` checker tests: a real gateway with the named
 * checkers in front of the real local FHIR server, seeded with upstream's test patients
 * (AccessCheckerTestBase: PATIENT_AUTHORIZED, PATIENT_NON_AUTHORIZED, the two patients of its
 * bundles) and data about each, tokens from the real local issuer. `call` clears the FHIR server's
 * record first, so `forwarded()` tells what that one call sent upstream.
 */
import type { Encounter, List, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { type LocalFhirServer, startFhirServer } from '../support/fhir-server.js';
import { bearer, type RawResponse, send } from '../support/http.js';
import { type Stack, type StackOptions, startStack } from '../support/stack.js';

export const PATIENT_AUTHORIZED = 'be92a43f-de46-affa-b131-bbf9eea51140';
export const PATIENT_NON_AUTHORIZED = 'patient-non-authorized';
export const PATIENT_IN_BUNDLE_1 = '420e791b-e419-c19b-3144-29e101c2c12f';
export const PATIENT_IN_BUNDLE_2 = 'db6e42c7-04fc-4d9d-b394-9ff33a41e178';
export const TEST_LIST_ID = 'test-list';
export const FHIR_JSON = 'application/fhir+json';
export const JSON_PATCH = 'application/json-patch+json';
export const LAB = 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
export const VITALS = 'http://terminology.hl7.org/CodeSystem/observation-category|vital-signs';

const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

export function observation(id: string, subject: string, extra: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { text: 'weight' },
    subject: { reference: `Patient/${subject}` },
    ...extra,
  };
}

export function category(code: string): Partial<Observation> {
  return { category: [{ coding: [{ system: CATEGORY, code }] }] };
}

function patient(id: string, family: string, extra: Partial<Patient> = {}): Patient {
  return { resourceType: 'Patient', id, name: [{ family }], ...extra };
}

/** The data every checker test starts from. */
export function seedData(): Resource[] {
  const encounter = (id: string, subject: string): Encounter => ({
    resourceType: 'Encounter',
    id,
    status: 'finished',
    class: { code: 'AMB' },
    subject: { reference: `Patient/${subject}` },
  });
  const list: List = {
    resourceType: 'List',
    id: TEST_LIST_ID,
    status: 'current',
    mode: 'working',
    entry: [
      { item: { reference: `Patient/${PATIENT_AUTHORIZED}` } },
      { item: { reference: `Patient/${PATIENT_IN_BUNDLE_1}` } },
    ],
  };
  return [
    patient(PATIENT_AUTHORIZED, 'Authorized'),
    patient(PATIENT_NON_AUTHORIZED, 'Other', {
      link: [{ other: { reference: `Patient/${PATIENT_AUTHORIZED}` }, type: 'seealso' }],
    }),
    patient(PATIENT_IN_BUNDLE_1, 'InBundleOne'),
    patient(PATIENT_IN_BUNDLE_2, 'InBundleTwo'),
    observation('obs-auth-lab', PATIENT_AUTHORIZED, category('laboratory')),
    observation('obs-auth-vital', PATIENT_AUTHORIZED, category('vital-signs')),
    observation('obs-auth-survey', PATIENT_AUTHORIZED, category('survey')),
    observation('obs-other', PATIENT_NON_AUTHORIZED, {
      ...category('laboratory'),
      performer: [{ reference: `Patient/${PATIENT_AUTHORIZED}` }],
    }),
    observation('obs-other-only', PATIENT_NON_AUTHORIZED, category('laboratory')),
    observation('obs-bundle-1', PATIENT_IN_BUNDLE_1, category('laboratory')),
    observation('obs-auth-qty', PATIENT_AUTHORIZED, {
      ...category('survey'),
      subject: { reference: `Patient/${PATIENT_AUTHORIZED}`, display: 'Authorized' },
      valueQuantity: { value: 10 },
    }),
    observation('obs-auth-qty-2', PATIENT_AUTHORIZED, {
      ...category('survey'),
      valueQuantity: { value: 12 },
    }),
    encounter('enc-auth', PATIENT_AUTHORIZED),
    encounter('enc-bundle-1', PATIENT_IN_BUNDLE_1),
    encounter('enc-bundle-2', PATIENT_IN_BUNDLE_2),
    list,
    {
      resourceType: 'List',
      id: 'other-list',
      status: 'current',
      mode: 'working',
      entry: [{ item: { reference: `Patient/${PATIENT_NON_AUTHORIZED}` } }],
    },
    {
      resourceType: 'List',
      id: 'shared-list',
      status: 'current',
      mode: 'working',
      subject: { reference: `Patient/${PATIENT_AUTHORIZED}` },
      entry: [{ item: { reference: `Patient/${PATIENT_NON_AUTHORIZED}` } }],
    },
    { resourceType: 'Practitioner', id: 'prac-1', name: [{ family: 'Doctor' }] },
    { resourceType: 'Group', id: PATIENT_AUTHORIZED, type: 'person', actual: true },
    observation('obs-group', 'x', { subject: { reference: `Group/${PATIENT_AUTHORIZED}` } }),
  ];
}

export interface CallOptions {
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly contentType?: string;
}

export interface CheckerStack {
  readonly stack: Stack;
  readonly fhir: LocalFhirServer;
  call(
    claims: Record<string, unknown>,
    method: string,
    path: string,
    options?: CallOptions,
  ): Promise<RawResponse>;
  /** What reached the FHIR server during the last call, as `METHOD /path?query` (decoded). */
  forwarded(): string[];
  close(): Promise<void>;
}

export async function startCheckerStack(
  checkers: string,
  options: {
    env?: Record<string, string>;
    seed?: Resource[];
    paging?: 'offset' | 'hapi';
    logger?: StackOptions['logger'];
  } = {},
): Promise<CheckerStack> {
  const fhir = await startFhirServer({ seed: options.seed ?? seedData(), paging: options.paging ?? 'hapi' });
  const stack = await startStack({
    env: { ACCESS_CHECKER: checkers, RUN_MODE: 'PROD', ...options.env },
    fhir,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return {
    stack,
    fhir,
    async call(claims, method, path, callOptions = {}) {
      fhir.clearRequests();
      const token = await stack.issuer.mint(claims);
      const body =
        callOptions.body === undefined
          ? undefined
          : typeof callOptions.body === 'string'
            ? callOptions.body
            : JSON.stringify(callOptions.body);
      return send(stack.gatewayUrl, {
        method,
        path: `/fhir/${path}`,
        headers: bearer(token, {
          ...(body === undefined ? {} : { 'content-type': callOptions.contentType ?? FHIR_JSON }),
          ...callOptions.headers,
        }),
        ...(body === undefined ? {} : { body }),
      });
    },
    forwarded: () =>
      fhir.requests.map((r) => `${r.method} ${decodeURIComponent(r.url.replace(/^\/fhir/, ''))}`),
    async close() {
      await stack.close();
      await fhir.close();
    },
  };
}

/** The ids of the resources in a searchset or batch answer (entries that carry one), as `Type/id`. */
export function entryIds(body: Record<string, unknown>): string[] {
  const entries = (body.entry ?? []) as {
    resource?: { resourceType: string; id?: string; entry?: unknown[] };
  }[];
  return entries.flatMap((entry) => {
    const resource = entry.resource;
    if (resource === undefined) return [];
    if (resource.resourceType === 'Bundle') return entryIds(resource as Record<string, unknown>);
    return [`${resource.resourceType}/${resource.id}`];
  });
}

/** The diagnostics of an OperationOutcome answer. */
export function reason(response: RawResponse): string {
  try {
    const outcome = response.json() as { issue?: { diagnostics?: string }[] };
    return outcome.issue?.map((issue) => issue.diagnostics).join('; ') ?? response.text;
  } catch {
    return response.text;
  }
}

/** A JSON Patch as a transaction carries it: a Binary with base64 data (http.html#patch). */
export function jsonPatchBinary(ops: unknown[]): Record<string, unknown> {
  return {
    resourceType: 'Binary',
    contentType: JSON_PATCH,
    data: Buffer.from(JSON.stringify(ops)).toString('base64'),
  };
}
