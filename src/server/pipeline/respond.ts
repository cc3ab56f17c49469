import type { Readable } from 'node:stream';
import {
  createBrotliDecompress,
  createGunzip,
  createGzip,
  createInflate,
  gzip as gzipCallback,
} from 'node:zlib';
import { promisify } from 'node:util';
import type { BackendResponse, GrantedDecision } from '../../access/contract.js';
import type { UpstreamResponse } from '../../backend/backend.js';
import { pickHeaders, RESPONSE_HEADERS_TO_KEEP, URL_HEADERS } from '../../backend/headers.js';
import { GatewayError } from '../../fhir/errors.js';
import type { FhirRequest } from '../../fhir/request.js';
import { injectedParams, withoutParams } from '../injected-params.js';
import { ReplaceStream, replaceInBuffer, replaceInString } from '../url-rewrite.js';
import type { Exchange } from './exchange.js';

const gzip = promisify(gzipCallback);

/** What the http edge must send: status, headers, and a body (stream, bytes, or none). */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: Readable | Buffer;
}

/**
 * Stage 8: turn the backend's answer into the client's. Bodies stream through the base-URL
 * rewriter; they are buffered only when the decision asks for post-processing of a 2xx answer.
 */
export async function respond(
  exchange: Exchange,
  req: FhirRequest,
  decision: GrantedDecision | undefined,
  upstream: UpstreamResponse,
  backendBaseUrl: string,
): Promise<Reply> {
  const headers = pickHeaders(upstream.headers, RESPONSE_HEADERS_TO_KEEP);
  const tail = withoutParams(injectedParams(exchange.fhir?.query ?? req.query, decision?.mutation));
  for (const name of URL_HEADERS) {
    if (headers[name]) headers[name] = replaceInString(headers[name], backendBaseUrl, exchange.baseUrl, tail);
  }
  const status = upstream.status;
  if (status === 204 || status === 304 || req.method === 'HEAD') {
    await upstream.body.dump();
    return { status, headers };
  }

  const decoded = decode(upstream);
  const wantsGzip = acceptsGzip(exchange.headers['accept-encoding']);
  if (wantsGzip) headers['content-encoding'] = 'gzip';

  if (decision?.postProcess && status >= 200 && status < 300) {
    const text = await readText(decoded);
    const output = await decision.postProcess(req, bufferedResponse(status, headers, text));
    let body = text;
    if (output !== undefined) {
      body = JSON.stringify(output);
      headers['content-type'] = 'application/fhir+json;charset=utf-8';
    }
    const bytes = Buffer.from(replaceInString(body, backendBaseUrl, exchange.baseUrl, tail));
    return { status, headers, body: wantsGzip ? await gzip(bytes) : bytes };
  }

  if (decoded === upstream.body && isSmall(upstream)) {
    // A small body is cheaper to read whole and rewrite once than to pass through a transform stream.
    const bytes = replaceInBuffer(
      Buffer.from(await upstream.body.arrayBuffer()),
      backendBaseUrl,
      exchange.baseUrl,
      tail,
    );
    return { status, headers, body: wantsGzip ? await gzip(bytes) : bytes };
  }

  let body: Readable = decoded.pipe(new ReplaceStream(backendBaseUrl, exchange.baseUrl, tail));
  decoded.on('error', (error) => body.destroy(error));
  if (wantsGzip) {
    const compressed = createGzip();
    body.on('error', (error) => compressed.destroy(error));
    body = body.pipe(compressed);
  }
  return { status, headers, body };
}

const SMALL_BODY_BYTES = 64 * 1024;

function isSmall(upstream: UpstreamResponse): boolean {
  const length = Number(upstream.headers['content-length']);
  return Number.isInteger(length) && length <= SMALL_BODY_BYTES;
}

/** The backend was asked for identity encoding; decode anyway if it compressed. */
function decode(upstream: UpstreamResponse): Readable {
  const encoding = String(upstream.headers['content-encoding'] ?? 'identity').toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (!decoder) return upstream.body;
  upstream.body.on('error', (error) => decoder.destroy(error));
  return upstream.body.pipe(decoder);
}

export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding?.trim() !== 'gzip') return false;
    return !params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p));
  });
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function bufferedResponse(status: number, headers: Record<string, string>, text: string): BackendResponse {
  let parsed: { value: unknown } | undefined;
  return {
    status,
    headers,
    text: () => text,
    json: () => {
      if (!parsed) {
        try {
          parsed = { value: JSON.parse(text) };
        } catch {
          throw new GatewayError(
            502,
            'backend_bad_response',
            'The FHIR server answered with a body that is not JSON',
          );
        }
      }
      return parsed.value;
    },
  };
}
