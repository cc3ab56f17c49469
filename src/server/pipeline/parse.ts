import { checkBundleSize } from '../../fhir/bundle-entry.js';
import { parseFhirRequest } from '../../fhir/parse.js';
import type { FhirRequest } from '../../fhir/request.js';
import type { Exchange } from './exchange.js';

export interface ParseLimits {
  /** BUNDLE_MAX_ENTRIES: larger batches and transactions get 413. */
  readonly bundleMaxEntries: number;
}

/** Stage 1 (400/405/413/415): classify the request once into the FHIR request model. */
export function parse(exchange: Exchange, limits: ParseLimits): FhirRequest {
  const req = parseFhirRequest({
    method: exchange.method,
    target: exchange.target,
    headers: exchange.headers,
    ...(exchange.body && exchange.body.length > 0 ? { body: exchange.body } : {}),
  });
  checkBundleSize(req, limits.bundleMaxEntries);
  return req;
}
