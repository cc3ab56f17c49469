/**
 * Request bodies: the media types the gateway accepts, and the lazy, memoized JSON view of the bytes.
 */

import { GatewayError, badRequest } from './errors.js';
import { MAX_JSON_DEPTH, exceedsJsonDepth } from './json-depth.js';
import type { RequestBody } from './request.js';

export const MediaType = {
  fhirJson: 'application/fhir+json',
  json: 'application/json',
  jsonPatch: 'application/json-patch+json',
  form: 'application/x-www-form-urlencoded',
  fhirXml: 'application/fhir+xml',
  xml: 'application/xml',
} as const;

export const JSON_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.fhirJson, MediaType.json]);
export const XML_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.fhirXml, MediaType.xml]);

/** `Application/FHIR+JSON; charset=utf-8; fhirVersion=4.0` → `application/fhir+json`; `''` when absent. */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/**
 * A body over `bytes`; `parsed` seeds the JSON cache when the caller already holds the value.
 * @throws GatewayError 400 `json_too_deep` for a JSON body nested deeper than MAX_JSON_DEPTH,
 *   checked here so that it holds for bodies forwarded without being read, too.
 */
export function requestBody(bytes: Buffer, mediaType: string, parsed?: unknown): RequestBody {
  if (parsed === undefined && isJsonFamily(mediaType)) checkJsonDepth(bytes);
  let cache: { value: unknown } | undefined = parsed === undefined ? undefined : { value: parsed };
  return {
    bytes,
    mediaType,
    json(): unknown {
      cache ??= { value: parseJson(bytes, mediaType) };
      return cache.value;
    },
  };
}

/** A JSON body for a value the gateway holds already (Bundle entries). */
export function jsonBody(value: unknown, mediaType: string = MediaType.fhirJson): RequestBody {
  return requestBody(Buffer.from(JSON.stringify(value)), mediaType, value);
}

function parseJson(bytes: Buffer, mediaType: string): unknown {
  if (XML_MEDIA_TYPES.has(mediaType)) {
    throw new GatewayError(
      415,
      'body_not_json',
      `The request body is ${mediaType}; the gateway must read this request's body to authorize it, and reads only JSON (send application/fhir+json)`,
    );
  }
  const text = utf8Text(bytes);
  if (!isJsonFamily(mediaType)) checkJsonDepth(bytes);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new GatewayError(400, 'invalid_json', 'The request body is not valid JSON', {
      detail: error instanceof Error ? error.message : String(error),
    });
  }
}

/** `application/json`, `application/fhir+json`, `application/json-patch+json` and other `+json` types. */
function isJsonFamily(mediaType: string): boolean {
  return mediaType === MediaType.json || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

function checkJsonDepth(bytes: Buffer): void {
  if (exceedsJsonDepth(bytes)) {
    throw badRequest(
      `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`,
      'json_too_deep',
    );
  }
}

/** The body as UTF-8 text; invalid UTF-8 is refused rather than silently replaced with U+FFFD. */
export function utf8Text(bytes: Buffer): string {
  try {
    // TextDecoder also drops a leading byte-order mark, which some clients send and JSON.parse refuses.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badRequest('The request body is not valid UTF-8', 'invalid_utf8');
  }
}
