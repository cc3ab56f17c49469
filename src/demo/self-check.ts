/**
 * Asks the running gateway, as each persona, how many patients it may see, so the banner shows
 * what the gateway really does rather than what it is supposed to do.
 */

const TIMEOUT_MS = 15_000;

/** `total 10` on success, else a short reason such as `HTTP 403` or `failed: timeout`. */
export async function patientCountAs(gatewayUrl: string, token: string): Promise<string> {
  try {
    const response = await fetch(`${gatewayUrl}/fhir/Patient?_summary=count`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) return `HTTP ${response.status}${diagnostics(body)}`;
    const total = typeof body === 'object' && body !== null && 'total' in body ? body.total : undefined;
    return typeof total === 'number' ? `total ${total}` : 'no total in the answer';
  } catch (error) {
    return `failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function diagnostics(body: unknown): string {
  if (typeof body !== 'object' || body === null || !('issue' in body) || !Array.isArray(body.issue))
    return '';
  const first: unknown = body.issue[0];
  if (typeof first !== 'object' || first === null || !('diagnostics' in first)) return '';
  return typeof first.diagnostics === 'string' ? ` (${first.diagnostics})` : '';
}
