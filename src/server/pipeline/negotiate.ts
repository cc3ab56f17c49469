import Negotiator from 'negotiator';
import type { GrantedDecision } from '../../access/contract.js';
import { GatewayError } from '../../fhir/errors.js';
import type { FhirRequest } from '../../fhir/request.js';

const FHIR_JSON = 'application/fhir+json';
const JSON_TYPES = [FHIR_JSON, 'application/json'];
const OFFERED = [...JSON_TYPES, 'application/fhir+xml', 'application/xml', 'text/xml'];
/** `_format` values meaning JSON (http.html#mime-type). */
const JSON_FORMATS: ReadonlySet<string> = new Set(['json', ...JSON_TYPES]);

/**
 * Stage between authorize and forward: content negotiation for answers the gateway must read.
 * A decision that post-processes the answer reads it as JSON, so the backend is asked for JSON
 * whatever the client asked; a client that accepts JSON gets JSON, one that accepts only other
 * formats (`_format=xml`, `Accept: application/fhir+xml`) gets 406 before anything is forwarded.
 * Answers the gateway does not read pass through in any format (the base URL rewriting is a
 * literal replacement).
 *
 * @throws GatewayError 406 naming the format this request is served in.
 */
export function negotiate(req: FhirRequest, decision: GrantedDecision | undefined): FhirRequest {
  if (!decision?.postProcess) return req;
  const format = req.query.find((p) => p.name === '_format');
  const acceptsJson = format
    ? JSON_FORMATS.has(format.value.split(';', 1)[0]!.trim().toLowerCase())
    : acceptsJsonMediaType(req.headers.accept);
  if (!acceptsJson) {
    throw new GatewayError(
      406,
      'not_acceptable',
      `This request is served only as ${FHIR_JSON}: the gateway must read the answer to check it. ` +
        `Ask with Accept: ${FHIR_JSON} (or _format=json)`,
    );
  }
  return {
    ...req,
    query: format ? req.query.filter((p) => p.name !== '_format') : req.query,
    headers: { ...req.headers, accept: FHIR_JSON },
  };
}

/** True when no Accept header is given, or when it admits a JSON type (directly, or by a wildcard). */
function acceptsJsonMediaType(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  const preferred = new Negotiator({ headers: { accept } }).mediaTypes(OFFERED);
  return preferred.some((type) => JSON_TYPES.includes(type));
}
