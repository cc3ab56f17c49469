/**
 * `check-config --online`: what the gateway will need once it serves, tried now: the issuer's
 * discovery document and keys (with the same loaders the token verifier uses), the issuer named by
 * discovery against TOKEN_ISSUER, and `GET [PROXY_TO]/metadata` through the gateway's own backend
 * client.
 */
import type { FhirClient } from '../access/contract.js';
import { describe } from '../auth/auth-errors.js';
import { fetchDiscovery, issuerMismatch, joinUrl } from '../auth/issuer-metadata.js';
import { loadKeySource } from '../auth/key-source.js';
import type { GatewayConfig } from '../config/index.js';
import { GatewayError } from '../fhir/errors.js';

export interface OnlineCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export async function onlineChecks(config: GatewayConfig, fhirClient: FhirClient): Promise<OnlineCheck[]> {
  return [...(await issuerChecks(config)), await backendCheck(config, fhirClient)];
}

async function issuerChecks(config: GatewayConfig): Promise<OnlineCheck[]> {
  const discoveryUrl = joinUrl(config.tokenIssuer, config.wellKnownEndpoint);
  let discovery: Record<string, unknown>;
  try {
    discovery = await fetchDiscovery(config.tokenIssuer, config.wellKnownEndpoint);
  } catch (error) {
    return [{ name: 'TOKEN_ISSUER discovery', ok: false, detail: `${discoveryUrl}: ${reasonOf(error)}` }];
  }
  const checks: OnlineCheck[] = [{ name: 'TOKEN_ISSUER discovery', ok: true, detail: discoveryUrl }];
  const mismatch = issuerMismatch(config.tokenIssuer, discovery);
  if (mismatch !== undefined && config.runMode === 'DEV') {
    // RUN_MODE=DEV accepts any issuer (with a warning per issuer), so tokens still pass.
    checks.push({ name: 'TOKEN_ISSUER issuer', ok: true, detail: `ignored with RUN_MODE=DEV: ${mismatch}` });
  } else {
    checks.push({ name: 'TOKEN_ISSUER issuer', ok: mismatch === undefined, detail: mismatch ?? 'matches' });
  }
  try {
    const keys = await loadKeySource(config.tokenIssuer, discovery, {
      jwksCooldownMs: config.tokenJwksCooldownSeconds * 1000,
    });
    const from = keys.kind === 'jwks' ? String(discovery.jwks_uri) : `${config.tokenIssuer} (public_key)`;
    checks.push({ name: 'TOKEN_ISSUER keys', ok: true, detail: `${keys.kind} from ${from}` });
  } catch (error) {
    checks.push({ name: 'TOKEN_ISSUER keys', ok: false, detail: reasonOf(error) });
  }
  return checks;
}

async function backendCheck(config: GatewayConfig, fhirClient: FhirClient): Promise<OnlineCheck> {
  const name = 'PROXY_TO metadata';
  const url = `${config.proxyTo}/metadata`;
  try {
    const { status, body } = await fhirClient.get('metadata');
    const resource = body as { resourceType?: unknown; fhirVersion?: unknown } | undefined;
    if (status !== 200 || resource?.resourceType !== 'CapabilityStatement') {
      return { name, ok: false, detail: `GET ${url} answered ${status} without a CapabilityStatement` };
    }
    const version = typeof resource.fhirVersion === 'string' ? `, FHIR ${resource.fhirVersion}` : '';
    return { name, ok: true, detail: `GET ${url}: CapabilityStatement${version}` };
  } catch (error) {
    return { name, ok: false, detail: `GET ${url}: ${reasonOf(error)}` };
  }
}

/** The error and what caused it: fetch says only "fetch failed", a GatewayError only "unreachable". */
function reasonOf(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const why = cause ? (typeof cause.code === 'string' ? cause.code : String(cause.message)) : undefined;
  const detail = error instanceof GatewayError ? error.detail : undefined;
  const extra = [why, detail].filter((part) => part !== undefined && part !== '');
  return extra.length === 0 ? describe(error) : `${describe(error)} (${extra.join('; ')})`;
}
