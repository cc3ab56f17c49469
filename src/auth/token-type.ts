/**
 * Only access tokens may be used as bearer tokens. Keycloak signs its ID and refresh tokens with the
 * same realm key as its access tokens and tells them apart by the payload claim `typ` ("Bearer",
 * "ID", "Refresh", "Offline"); RFC 9068 access tokens say `at+jwt` in the JOSE header `typ`. An ID
 * token sent as bearer would otherwise be accepted (issue 8, case T1).
 */

/**
 * The default of TOKEN_ACCEPTED_TYPES. `JWT` is the generic JOSE header type (RFC 7519 §5.1) that
 * Keycloak puts in the header of every token, so it says nothing either way; the payload `typ`
 * decides for Keycloak tokens.
 */
export const DEFAULT_ACCEPTED_TOKEN_TYPES: readonly string[] = ['Bearer', 'JWT', 'at+jwt'];

/**
 * Media types compare case-insensitively and may omit `application/` (RFC 7515 §4.1.9), so
 * `application/at+jwt` and `AT+JWT` are the same type.
 */
export function normalizeTokenType(type: string): string {
  const lower = type.trim().toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/**
 * The first `typ` (header, then payload claim) that is present but not accepted, or undefined when
 * both are absent or accepted.
 * @param accepted normalized types (see normalizeTokenType)
 */
export function refusedTokenType(
  headerType: unknown,
  claimType: unknown,
  accepted: ReadonlySet<string>,
): string | undefined {
  for (const type of [headerType, claimType]) {
    if (type === undefined) continue;
    if (typeof type !== 'string' || !accepted.has(normalizeTokenType(type))) return String(type);
  }
  return undefined;
}
