import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One HTTP request as the local FHIR server received it, kept so tests can assert on what was sent. */
export interface RecordedRequest {
  method: string;
  /** Path and query exactly as received, e.g. `/fhir/Patient?_tag=x`. */
  url: string;
  /** The path without the query, e.g. `/fhir/Patient`. */
  path: string;
  query: URLSearchParams;
  /** Header names are lower-cased; repeated headers are joined with `, `. */
  headers: Record<string, string>;
  /** The body as text, inflated when it came with `Content-Encoding: gzip` (the header is kept). */
  body: string;
}

/**
 * The request body as text. A `Content-Encoding: gzip` body is inflated first, as HAPI does; undefined
 * when it does not inflate. (Other encodings are read as they are, and so fail to parse.)
 */
export async function readRequestBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  if (req.headers['content-encoding']?.trim().toLowerCase() !== 'gzip') return raw.toString('utf8');
  try {
    return gunzipSync(raw).toString('utf8');
  } catch {
    return undefined;
  }
}

export function recordRequest(req: IncomingMessage, body: string): RecordedRequest {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    method: req.method ?? 'GET',
    url,
    path: queryStart === -1 ? url : url.slice(0, queryStart),
    query: new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1)),
    headers,
    body,
  };
}
