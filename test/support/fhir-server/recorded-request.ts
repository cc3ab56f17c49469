import type { IncomingMessage } from 'node:http';

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
  body: string;
}

export async function readRequestBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
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
