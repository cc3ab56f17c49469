/**
 * What the Google Cloud Healthcare API does differently from other FHIR servers, handled where
 * every upstream call passes (backend.ts):
 *
 * - It accepts resource bodies only as `application/fhir+json`; a client's `application/json` is
 *   relabelled (same bytes; JSON Patch and form bodies keep their types).
 * - Requests it cannot map to a FHIR store method get Google's own JSON error
 *   (`{"error":{"code","message","status"}}`) instead of an OperationOutcome. Those become
 *   OperationOutcomes with the same status; 401 and 403 among them are about the gateway's own
 *   identity (a missing `roles/healthcare.fhirResource*` role), so they become a 502 naming backend
 *   authentication rather than telling the client it is not allowed.
 */
import { Readable } from 'node:stream';
import type { UpstreamResponse } from './backend.js';
import type { BackendAuth } from './credentials/index.js';

const FHIR_JSON = 'application/fhir+json';
/** Google's error bodies are small; anything larger is passed on as it is. */
const MAX_ERROR_BYTES = 64 * 1024;

export function gcpRequestHeaders(headers: Record<string, string>): Record<string, string> {
  const type = headers['content-type'];
  if (type === undefined || !/^\s*application\/json\s*(;|$)/i.test(type)) return headers;
  return { ...headers, 'content-type': type.replace(/^\s*application\/json/i, FHIR_JSON) };
}

interface GoogleError {
  error: { code?: number; message?: string; status?: string };
}

const ISSUE_CODES: Readonly<Record<string, string>> = {
  INVALID_ARGUMENT: 'invalid',
  FAILED_PRECONDITION: 'business-rule',
  OUT_OF_RANGE: 'invalid',
  NOT_FOUND: 'not-found',
  ALREADY_EXISTS: 'duplicate',
  ABORTED: 'conflict',
  RESOURCE_EXHAUSTED: 'throttled',
  UNIMPLEMENTED: 'not-supported',
  UNAVAILABLE: 'transient',
  DEADLINE_EXCEEDED: 'timeout',
};

/** Turns a Google error answer into an OperationOutcome (or a 502 for 401/403); others unchanged. */
export async function gcpAnswer(
  response: UpstreamResponse,
  auth: BackendAuth | undefined,
): Promise<UpstreamResponse> {
  const type = String(response.headers['content-type'] ?? '');
  const length = Number(response.headers['content-length'] ?? 0);
  if (
    response.status < 400 ||
    !/^\s*application\/json\s*(;|$)/i.test(type) ||
    response.headers['content-encoding'] !== undefined ||
    length > MAX_ERROR_BYTES
  ) {
    return response;
  }
  const bytes = Buffer.from(await response.body.arrayBuffer());
  const google = googleError(bytes);
  if (google === undefined) return { ...response, body: bufferedBody(bytes) };
  const { status: code = 'UNKNOWN', message = '' } = google.error;
  if ((response.status === 401 || response.status === 403) && auth) {
    throw auth.refused(response.status, `${code}: ${message}`);
  }
  const outcome = {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: ISSUE_CODES[code] ?? 'processing',
        diagnostics: `${code}: ${withoutStoreName(message)}`,
      },
    ],
  };
  const body = Buffer.from(JSON.stringify(outcome));
  return {
    status: response.status,
    headers: {
      ...response.headers,
      'content-type': `${FHIR_JSON};charset=utf-8`,
      'content-length': String(body.length),
    },
    body: bufferedBody(body),
  };
}

function googleError(bytes: Buffer): GoogleError | undefined {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as Partial<GoogleError> | null;
    const error = parsed?.error;
    return typeof error === 'object' && error !== null && typeof error.message === 'string'
      ? (parsed as GoogleError)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `projects/p/locations/l/datasets/d/fhirStores/s` names the private store: not the client's business. */
function withoutStoreName(message: string): string {
  return message.replace(
    /projects\/[^\s'"/]+\/locations\/[^\s'"/]+\/datasets\/[^\s'"/]+(\/fhirStores\/[^\s'"/]+)?/g,
    '[FHIR store]',
  );
}

/** A body read whole, offered with the same interface as undici's. */
function bufferedBody(bytes: Buffer): UpstreamResponse['body'] {
  const stream = Readable.from(bytes.length === 0 ? [] : [bytes]);
  return Object.assign(stream, {
    text: async () => bytes.toString('utf8'),
    arrayBuffer: async () =>
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
    dump: async () => {
      stream.destroy();
    },
  });
}
