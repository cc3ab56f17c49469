/**
 * The app's sync strategy: `fhir_core_app_id` → the Composition with that identifier → the section
 * whose focus identifier is `application` (nested sections too) → the Binary it references →
 * base64 JSON → `syncStrategy[0]` (opensrp-plugins spec §3.2).
 */
import type { Binary, Bundle, Composition, CompositionSection } from '@medplum/fhirtypes';
import type { FhirClient } from '../../access/contract.js';
import { GatewayError } from '../../fhir/errors.js';

export type SyncStrategy =
  | 'Location'
  | 'Organization'
  | 'CareTeam'
  | 'RelatedEntityLocation'
  | 'Practitioner';

export const SYNC_STRATEGIES: readonly SyncStrategy[] = [
  'Location',
  'Organization',
  'CareTeam',
  'RelatedEntityLocation',
  'Practitioner',
];

const APPLICATION_SECTION = 'application';

/** 403 naming what is misconfigured: the caller cannot be served until an admin fixes the app config. */
export function misconfigured(message: string): GatewayError {
  return new GatewayError(403, 'sync_config_invalid', message, { issueType: 'forbidden' });
}

/** @throws GatewayError 403 when the Composition, its section, the Binary or the strategy is missing or unsupported. */
export async function resolveSyncStrategy(fhir: FhirClient, appId: string): Promise<SyncStrategy> {
  const composition = await findComposition(fhir, appId);
  const reference = applicationReference(composition.section ?? []);
  if (reference === undefined) {
    throw misconfigured(
      `The Composition of application '${appId}' has no section whose focus identifier is '${APPLICATION_SECTION}' with a reference`,
    );
  }
  const binary = await readBinary(fhir, appId, reference);
  return strategyOf(appId, binary);
}

async function findComposition(fhir: FhirClient, appId: string): Promise<Composition> {
  const { status, body } = await fhir.get('Composition', [{ name: 'identifier', value: appId }]);
  if (status < 200 || status >= 300) {
    throw new GatewayError(502, 'backend_search_failed', 'The app configuration could not be read', {
      detail: `Composition?identifier=${appId} answered ${status}`,
    });
  }
  const first = (body as Bundle | undefined)?.entry?.find(
    (e) => e.resource?.resourceType === 'Composition',
  )?.resource;
  if (!first) throw misconfigured(`No Composition found for application id '${appId}'`);
  return first as Composition;
}

/**
 * Depth first, in document order: the first section whose focus identifier is `application` and that
 * has a focus reference. A matching section without a reference is searched like any other.
 */
export function applicationReference(sections: readonly CompositionSection[]): string | undefined {
  for (const section of sections) {
    const focus = section.focus;
    if (focus?.identifier?.value === APPLICATION_SECTION && focus.reference) return focus.reference;
    const nested = applicationReference(section.section ?? []);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

async function readBinary(fhir: FhirClient, appId: string, reference: string): Promise<Binary> {
  const match = /(?:^|\/)Binary\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  if (!match) {
    throw misconfigured(
      `The application section of app '${appId}' references '${reference}', which is not a Binary`,
    );
  }
  const { status, body } = await fhir.get(`Binary/${match[1]}`);
  if (status === 404 || status === 410) {
    throw misconfigured(`The application config Binary '${reference}' of app '${appId}' does not exist`);
  }
  if (status < 200 || status >= 300 || (body as Binary | undefined)?.resourceType !== 'Binary') {
    throw new GatewayError(502, 'backend_read_failed', 'The app configuration could not be read', {
      detail: `${reference} answered ${status}`,
    });
  }
  return body as Binary;
}

function strategyOf(appId: string, binary: Binary): SyncStrategy {
  let config: unknown;
  try {
    config = JSON.parse(Buffer.from(binary.data ?? '', 'base64').toString('utf8'));
  } catch {
    throw misconfigured(`The application config Binary of app '${appId}' is not base64-encoded JSON`);
  }
  const strategies = (config as { syncStrategy?: unknown } | null)?.syncStrategy;
  const first = Array.isArray(strategies) ? strategies[0] : undefined;
  if (typeof first !== 'string' || first.trim() === '') {
    throw misconfigured(`The application config of app '${appId}' names no syncStrategy`);
  }
  const known = SYNC_STRATEGIES.find((s) => s.toLowerCase() === first.trim().toLowerCase());
  if (!known) {
    throw misconfigured(
      `The sync strategy '${first}' of app '${appId}' is not supported (use one of ${SYNC_STRATEGIES.join(', ')})`,
    );
  }
  return known;
}
