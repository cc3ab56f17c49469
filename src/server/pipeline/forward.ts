import type { Backend, UpstreamRequest, UpstreamResponse } from '../../backend/backend.js';
import { pickHeaders, REQUEST_HEADERS_TO_KEEP } from '../../backend/headers.js';
import { mediaTypeOf } from '../../fhir/body.js';
import { formatPath, formatQuery, upstreamTarget } from '../../fhir/serialize.js';
import { type FhirRequest, isSearch } from '../../fhir/request.js';
import type { Exchange } from './exchange.js';

export interface ForwardOptions {
  /** Searches whose upstream URL would be longer are sent as `POST …/_search` with a form body. */
  maxUpstreamUrlLength: number;
  trustProxy: boolean;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * Stage 7 (502/504): send the request upstream. The target is serialized from the (mutated)
 * request model, never copied from the client's raw URL.
 */
export function forward(
  backend: Backend,
  exchange: Exchange,
  req: FhirRequest,
  options: ForwardOptions,
): Promise<UpstreamResponse> {
  return backend.send(upstreamRequest(backend.baseUrl, exchange, req, options));
}

/** The request `forward` sends for `req`, below the backend base (also shown by `fhir-gateway explain`). */
export function upstreamRequest(
  backendBaseUrl: string,
  exchange: Exchange,
  req: FhirRequest,
  options: ForwardOptions,
): UpstreamRequest {
  // Headers come from the request model, which a stage may have changed (negotiate sets Accept).
  const headers = pickHeaders(req.headers, REQUEST_HEADERS_TO_KEEP);
  headers['x-request-id'] = exchange.requestId;
  // The body may need its backend base URL rewritten, which needs plain bytes.
  headers['accept-encoding'] = 'identity';
  headers['x-forwarded-for'] =
    options.trustProxy && exchange.headers['x-forwarded-for']
      ? `${exchange.headers['x-forwarded-for']}, ${exchange.remoteAddress}`
      : exchange.remoteAddress;
  if (options.trustProxy && exchange.headers['x-forwarded-host']) {
    headers['x-forwarded-host'] = exchange.headers['x-forwarded-host'];
  }

  if (isSearch(req)) {
    // The query is serialized once: narrowed searches can carry tens of kilobytes of `_tag`.
    const path = formatPath(req);
    const query = formatQuery(req.query);
    const tooLong = backendBaseUrl.length + path.length + query.length + 2 > options.maxUpstreamUrlLength;
    if (req.method === 'POST' || tooLong) {
      const searchPath = path.endsWith('_search') ? path : path === '' ? '_search' : `${path}/_search`;
      headers['content-type'] = FORM;
      return { method: 'POST', target: `/${searchPath}`, headers, body: query, signal: exchange.signal };
    }
    delete headers['content-type'];
    const target = query === '' ? `/${path}` : `/${path}?${query}`;
    return { method: req.method, target, headers, signal: exchange.signal };
  }
  if (!req.body) delete headers['content-type'];
  else if (mediaTypeOf(headers['content-type']) !== req.body.mediaType)
    headers['content-type'] = req.body.mediaType;
  return {
    method: req.method,
    target: upstreamTarget(req),
    headers,
    ...(req.body ? { body: req.body.bytes } : {}),
    signal: exchange.signal,
  };
}
