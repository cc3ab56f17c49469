import type { OperationOutcome } from '@medplum/fhirtypes';

export type ParsedBody =
  | { ok: true; kind: 'empty' }
  | { ok: true; kind: 'json'; value: unknown }
  | { ok: true; kind: 'form'; value: URLSearchParams }
  | { ok: false; status: number; outcome: OperationOutcome };

/** Parses a request body by its media type: JSON for any `*json*` type, form fields for form-urlencoded. */
export function parseRequestBody(raw: string, contentType: string | undefined): ParsedBody {
  if (raw.trim() === '') return { ok: true, kind: 'empty' };
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'application/x-www-form-urlencoded') {
    return { ok: true, kind: 'form', value: new URLSearchParams(raw) };
  }
  // A body without a content type is read as JSON, as lenient servers do.
  if (mediaType === '' || mediaType.includes('json')) {
    try {
      return { ok: true, kind: 'json', value: JSON.parse(raw) as unknown };
    } catch (err) {
      return {
        ok: false,
        status: 400,
        outcome: problem('invalid', `Invalid JSON body: ${(err as Error).message}`),
      };
    }
  }
  return {
    ok: false,
    status: 415,
    outcome: problem('not-supported', `Unsupported content type: ${mediaType}`),
  };
}

/** The query shape fhir-router expects: one string per key, or an array when the key repeats. */
export function toRouterQuery(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    query[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return query;
}

export function problem(
  code: 'invalid' | 'not-supported' | 'not-found' | 'exception' | 'processing' | 'conflict',
  text: string,
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, details: { text } }],
  };
}
