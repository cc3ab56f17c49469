/**
 * Shared bits of the red-team probes (test/security/redteam/): the worker's own tag, a caller for
 * users of another app (sync strategy) or subject than security-stack's worker, and small readers
 * of what reached the backend.
 */
import type { Bundle, Coding } from '@medplum/fhirtypes';
import { bearer, type RawResponse, send } from '../../support/http.js';
import { APP_IDS, PERSONAS, TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import type { SecurityStack } from '../security-stack.js';

export const L1 = PERSONAS.worker.facility;
export const tag = (system: string, code: string): Coding => ({ system, code });
export const ownTag = tag(TAG_SYSTEMS.location, L1);

/** A GET as another user: an app id (sync strategy) and subject of the dataset, with these roles. */
export async function callAs(
  s: SecurityStack,
  who: { sub: string; appId: string; roles: readonly string[] },
  path: string,
): Promise<RawResponse> {
  const token = await s.stack.issuer.mint({
    sub: who.sub,
    fhir_core_app_id: who.appId,
    realm_access: { roles: [...who.roles] },
  });
  s.fhir.clearRequests();
  return send(s.stack.gatewayUrl, { path: `/fhir/${path}`, headers: bearer(token) });
}

/** The L9 user of the RelatedEntityLocation app: syncs what is tagged for the L9 tree. */
export const l9RelatedEntityUser = {
  sub: PERSONAS.other.sub,
  appId: APP_IDS.RelatedEntityLocation,
  roles: ['ANDROID_CLIENT', 'GET_PATIENT', 'GET_OBSERVATION'],
};

/** Requests that reached the backend with this method and a path ending in `suffix`. */
export function reached(s: SecurityStack, method: string, suffix: string): string[] {
  return s.fhir.requests
    .filter((r) => r.method === method && r.path.replace(/\/$/, '').endsWith(suffix))
    .map((r) => r.body);
}

/** The last batch/transaction Bundle the gateway sent to the FHIR base, parsed. */
export function forwardedBundle(s: SecurityStack): Bundle | undefined {
  const posted = s.fhir.requests.findLast((r) => r.method === 'POST' && /\/fhir\/?$/.test(r.path));
  return posted ? (JSON.parse(posted.body) as Bundle) : undefined;
}

export const bundleOf = (type: 'batch' | 'transaction', entry: unknown[]) => ({
  resourceType: 'Bundle',
  type,
  entry,
});

/**
 * A Bundle of `create` (given the `fullUrl` `urn`) and an Observation about `subject` derived
 * from `urn`: the sibling's stored reference shows what the server made of the create's fullUrl.
 */
export const fullUrlProbe = (
  type: 'batch' | 'transaction',
  urn: string,
  create: { request: Record<string, unknown>; resource: Record<string, unknown> },
  subject: { reference: string },
) =>
  bundleOf(type, [
    { fullUrl: urn, ...create },
    {
      request: { method: 'POST', url: 'Observation' },
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { text: `probe-${type}` },
        subject,
        derivedFrom: [{ reference: urn }],
      },
    },
  ]);
