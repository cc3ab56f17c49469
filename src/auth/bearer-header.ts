/**
 * Extracts the token from an `Authorization: Bearer <token>` header (RFC 6750 §2.1): the scheme is
 * case-insensitive, exactly one space separates it from the token, and the token uses the b64token
 * alphabet. Anything else is refused before any cryptography runs.
 */

import { invalidToken, missingToken } from './auth-errors.js';

const BEARER = /^bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

export function extractBearerToken(authorization: string | undefined): string {
  const value = authorization?.trim() ?? '';
  if (value === '') throw missingToken();
  const match = BEARER.exec(value);
  if (match === null)
    throw invalidToken('Authorization header must use the Bearer scheme followed by one token');
  return match[1]!;
}
