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
import { GatewayError, notFound } from '../../fhir/errors.js';
import type { FhirRequest } from '../../fhir/request.js';
import { checkAnswer } from './answer-check.js';
import { preferredReturn } from './negotiate.js';
import { redactOutcome } from './redact-outcome.js';
import { ReplaceStream, replaceInBuffer, replaceInString, type UrlTailRewrite } from '../url-rewrite.js';
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
 * rewriter; they are buffered only when the decision asks for post-processing of a 2xx answer,
 * or when the answer is `checked` against the decision's `visible` (answer-check.ts). A checked
 * answer is then shaped the way the client asked (HEAD, If-None-Match, Prefer: return=minimal)
 * only after the check, so that none of them discloses a resource the caller may not see.
 */
export interface RespondOptions {
  readonly backendBaseUrl: string;
  /** Rewrites what follows the base URL in every link handed on (injected params, paging ids). */
  readonly links?: UrlTailRewrite;
  /** The answer is checked against the decision's `visible` (answer-check.ts). */
  readonly checked: boolean;
}

export async function respond(
  exchange: Exchange,
  req: FhirRequest,
  decision: GrantedDecision | undefined,
  upstream: UpstreamResponse,
  { backendBaseUrl, links: tail, checked }: RespondOptions,
): Promise<Reply> {
  // The client's own request: negotiate may have changed what was asked upstream (HEAD → GET, Prefer).
  const clientReq = exchange.fhir ?? req;
  const headers = pickHeaders(upstream.headers, RESPONSE_HEADERS_TO_KEEP);
  for (const name of URL_HEADERS) {
    if (headers[name]) headers[name] = replaceInString(headers[name], backendBaseUrl, exchange.baseUrl, tail);
  }
  const status = upstream.status;
  if (checked && (status === 404 || status === 410) && clientReq.id !== undefined) {
    // Missing answers exactly like hidden (answer-check.ts): the server's own 404 text, or a 410
    // for a deleted resource, would tell the two apart (RT5).
    await upstream.body.dump();
    throw notFound(`Resource ${clientReq.resourceType}/${clientReq.id} is not known`);
  }
  if (status === 204 || status === 304 || req.method === 'HEAD') {
    await upstream.body.dump();
    return { status, headers };
  }

  const decoded = decode(upstream);
  const wantsGzip = acceptsGzip(exchange.headers['accept-encoding']);
  if (wantsGzip) headers['content-encoding'] = 'gzip';

  if (checked && status >= 400 && /json/i.test(headers['content-type'] ?? '')) {
    const text = await readText(decoded);
    const own = clientReq.id === undefined ? undefined : `${clientReq.resourceType}/${clientReq.id}`;
    let body = text;
    try {
      body = JSON.stringify(redactOutcome(JSON.parse(text), own));
    } catch {
      // Not JSON after all: passed on as the server wrote it.
    }
    const bytes = Buffer.from(replaceInString(body, backendBaseUrl, exchange.baseUrl, tail));
    exchange.answerTap?.bytes(bytes);
    return { status, headers, body: wantsGzip ? await gzip(bytes) : bytes };
  }

  if ((decision?.postProcess || checked) && status >= 200 && status < 300) {
    const text = await readText(decoded);
    const response = bufferedResponse(status, headers, text);
    let output = decision?.postProcess ? await decision.postProcess(req, response) : undefined;
    let hidden = false;
    if (checked && decision?.visible) {
      const answer = output !== undefined ? output : text.trim() === '' ? undefined : response.json();
      const verdict = checkAnswer(clientReq, answer, decision.visible);
      if (verdict.body !== undefined) output = verdict.body;
      hidden = verdict.hidden;
    }
    // A resource the caller created or named keeps where it lives; a conditional create's match does not.
    const named = status === 201 || clientReq.method === 'PUT' || clientReq.method === 'PATCH';
    if (hidden && !named) for (const name of VALIDATOR_AND_URL_HEADERS) delete headers[name];
    if (hidden || !sendsBody(clientReq, checked, headers)) {
      return withoutBody(notModified(clientReq, checked, headers) ? 304 : status, headers);
    }
    let body = text;
    if (output !== undefined) {
      body = JSON.stringify(output);
      headers['content-type'] = 'application/fhir+json;charset=utf-8';
    }
    const bytes = Buffer.from(replaceInString(body, backendBaseUrl, exchange.baseUrl, tail));
    exchange.answerTap?.bytes(bytes);
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
    exchange.answerTap?.bytes(bytes);
    return { status, headers, body: wantsGzip ? await gzip(bytes) : bytes };
  }

  let body: Readable = decoded.pipe(new ReplaceStream(backendBaseUrl, exchange.baseUrl, tail));
  decoded.on('error', (error) => body.destroy(error));
  if (exchange.answerTap) body = exchange.answerTap.stream(body);
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

const VALIDATOR_AND_URL_HEADERS = ['location', 'content-location', 'etag', 'last-modified'];

/** False for a HEAD, a read whose validators match, or a write that asked `return=minimal`. */
function sendsBody(clientReq: FhirRequest, checked: boolean, headers: Record<string, string>): boolean {
  if (clientReq.method === 'HEAD') return false;
  if (!checked) return true;
  if (notModified(clientReq, checked, headers)) return false;
  const writes = clientReq.method === 'POST' || clientReq.method === 'PUT' || clientReq.method === 'PATCH';
  return !(writes && preferredReturn(clientReq.headers.prefer) === 'minimal');
}

/** The read validators the backend was not shown (negotiate dropped them), evaluated here (RFC 9110 §13.1). */
function notModified(clientReq: FhirRequest, checked: boolean, headers: Record<string, string>): boolean {
  if (!checked || (clientReq.method !== 'GET' && clientReq.method !== 'HEAD')) return false;
  const ifNoneMatch = clientReq.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const etag = headers.etag;
    if (etag === undefined) return false;
    const weak = (tag: string) => tag.trim().replace(/^W\//i, '');
    return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => weak(tag) === weak(etag));
  }
  const since = Date.parse(clientReq.headers['if-modified-since'] ?? '');
  const modified = Date.parse(headers['last-modified'] ?? '');
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
}

function withoutBody(status: number, headers: Record<string, string>): Reply {
  delete headers['content-encoding'];
  if (status === 304) delete headers['content-type'];
  return { status, headers };
}
