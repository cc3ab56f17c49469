import { parseFhirRequest } from '../../fhir/parse.js';
import type { FhirRequest } from '../../fhir/request.js';
import type { Exchange } from './exchange.js';

/** Stage 1 (400/405/415): classify the request once into the FHIR request model. */
export function parse(exchange: Exchange): FhirRequest {
  return parseFhirRequest({
    method: exchange.method,
    target: exchange.target,
    headers: exchange.headers,
    ...(exchange.body && exchange.body.length > 0 ? { body: exchange.body } : {}),
  });
}
