/**
 * The errors authentication answers with. Every 401 carries a `WWW-Authenticate` challenge
 * (RFC 6750 §3); an unreachable issuer is a 503, never a 401, because the OpenSRP Android app
 * logs its user out on 401. Messages are fixed texts: the token never appears in them.
 */

import { errors } from 'jose';
import { GatewayError } from '../fhir/errors.js';

export const missingToken = (): GatewayError =>
  new GatewayError(401, 'missing_token', 'Authorization header with a Bearer token is required', {
    headers: { 'www-authenticate': 'Bearer realm="fhir-gateway"' },
  });

export function invalidToken(message: string, detail?: string): GatewayError {
  const description = message.replace(/["\\]/g, "'");
  return new GatewayError(401, 'invalid_token', message, {
    headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` },
    detail,
  });
}

/**
 * Seconds a client is asked to wait (RFC 9110 §10.2.3) while the issuer is unreachable: the
 * gateway retries in the background every 1 to 30 s, so a retry after this is likely to find it.
 */
export const ISSUER_RETRY_AFTER_SECONDS = 10;

export const issuerUnavailable = (detail: string): GatewayError =>
  new GatewayError(503, 'issuer_unavailable', 'The token issuer cannot be reached; try again later', {
    headers: { 'retry-after': String(ISSUER_RETRY_AFTER_SECONDS) },
    detail,
  });

/** Maps a failure of jose's `jwtVerify` (or of fetching keys during it) to the gateway's error. */
export function fromVerificationFailure(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (!(error instanceof errors.JOSEError)) return issuerUnavailable(describe(error));
  const detail = `${error.code}: ${error.message}`;
  if (error instanceof errors.JWTExpired) return invalidToken('Token has expired', detail);
  if (error instanceof errors.JWTClaimValidationFailed) {
    return invalidToken(claimFailureMessage(error.claim, error.reason), detail);
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return invalidToken('Token algorithm is not allowed', detail);
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalidToken('Token signature is invalid', detail);
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return invalidToken('Token signing key is not known', detail);
  }
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWKInvalid
  ) {
    return invalidToken('Token is malformed', detail);
  }
  // JWKSTimeout, JWKSInvalid and jose's generic "Expected 200 OK" come from fetching the key set.
  return issuerUnavailable(detail);
}

function claimFailureMessage(claim: string, reason: string): string {
  if (reason === 'missing') return `Token lacks the required ${claim} claim`;
  switch (claim) {
    case 'iss':
      return 'Token issuer is not trusted';
    case 'aud':
      return 'Token audience is not accepted';
    case 'nbf':
      return 'Token is not yet valid';
    default:
      return `Token ${claim} claim is invalid`;
  }
}

export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
