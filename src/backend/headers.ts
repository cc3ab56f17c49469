/**
 * Header allow-lists between client and backend. Anything not listed is dropped, so the client's
 * Authorization, cookies and hop-by-hop headers can never reach the backend, and backend
 * internals never reach the client.
 */

/** Request headers copied to the backend (upstream's list plus `accept` and `fhirversion`, which it drops by mistake). */
export const REQUEST_HEADERS_TO_KEEP: ReadonlySet<string> = new Set([
  'content-type',
  'accept',
  'fhirversion',
  'last-modified',
  'etag',
  'prefer',
  'if-none-exist',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'x-request-id',
  'x-correlation-id',
]);

/** Response headers copied back to the client. Content-Length is recomputed; Content-Encoding is ours. */
export const RESPONSE_HEADERS_TO_KEEP: ReadonlySet<string> = new Set([
  'content-type',
  'last-modified',
  'date',
  'expires',
  'content-location',
  'etag',
  'location',
  'x-progress',
  'x-request-id',
  'x-correlation-id',
  'retry-after',
]);

/** Headers whose value may carry the backend base URL and are rewritten to the gateway base. */
export const URL_HEADERS: ReadonlySet<string> = new Set(['location', 'content-location']);

export function pickHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  keep: ReadonlySet<string>,
): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || !keep.has(lower)) continue;
    picked[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return picked;
}
