/**
 * What the patient-centred checkers need from the gateway's settings: where the FHIR server is
 * (absolute references under it are local) and how large a patched resource may grow.
 */
import type { GatewayContext } from '../access/contract.js';
import { defaultOf } from '../config/variables.js';
import type { PatchLimits } from '../fhir/json-patch.js';

export interface PatientAccessSettings {
  readonly backendBase: string;
  readonly limits: PatchLimits;
}

export function patientAccessSettings(ctx: GatewayContext): PatientAccessSettings {
  const fallback = Number(defaultOf('BODY_LIMIT_BYTES'));
  const limit = Number(ctx.env.BODY_LIMIT_BYTES?.trim() || fallback);
  return {
    backendBase: (ctx.env.PROXY_TO ?? '').trim().replace(/\/+$/, ''),
    limits: { maxBytes: Number.isSafeInteger(limit) && limit > 0 ? limit : fallback },
  };
}

/** The id in a claim, when it is a string that is a valid FHIR id. */
export function idClaim(
  claims: Readonly<Record<string, unknown>>,
  names: readonly string[],
): string | undefined {
  for (const name of names) {
    const value = claims[name];
    if (typeof value === 'string' && /^[A-Za-z0-9\-.]{1,64}$/.test(value)) return value;
  }
  return undefined;
}
