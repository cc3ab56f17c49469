import Negotiator from 'negotiator';
import type { GrantedDecision } from '../../access/contract.js';
import { GatewayError } from '../../fhir/errors.js';
import { jsonBody } from '../../fhir/body.js';
import type { FhirRequest, RequestBody } from '../../fhir/request.js';

const FHIR_JSON = 'application/fhir+json';
const JSON_TYPES = [FHIR_JSON, 'application/json'];
const OFFERED = [...JSON_TYPES, 'application/fhir+xml', 'application/xml', 'text/xml'];
/** `_format` values meaning JSON (http.html#mime-type). */
const JSON_FORMATS: ReadonlySet<string> = new Set(['json', ...JSON_TYPES]);
/** Validators the gateway evaluates itself when it must see the resource first. */
const READ_CONDITIONS = ['if-none-match', 'if-modified-since'];

/**
 * Stage between mutate and forward: ask the backend for what the gateway must read. When the
 * decision post-processes the answer or checks it (`mustRead`), the backend is asked for JSON
 * whatever the client asked; a client that accepts JSON gets JSON, one that accepts only other
 * formats (`_format=xml`, `Accept: application/fhir+xml`) gets 406 before anything is forwarded.
 * When the answer is checked, the backend is also asked for the whole resource: HEAD goes up as
 * GET, read validators (If-None-Match, If-Modified-Since) are evaluated by the respond stage after
 * the check, and writes ask `Prefer: return=representation`, so that an answer about a resource
 * the caller may not see never discloses it (a 304, a HEAD 200 or a bare Location would).
 * Answers the gateway does not read pass through in any format.
 *
 * @throws GatewayError 406 naming the format this request is served in.
 */
export function negotiate(req: FhirRequest, mustRead: boolean, checked: boolean): FhirRequest {
  if (!mustRead) return req;
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
  const headers: Record<string, string> = { ...req.headers, accept: FHIR_JSON };
  let method = req.method;
  if (checked) {
    if (method === 'HEAD') method = 'GET';
    if (method === 'GET') for (const name of READ_CONDITIONS) delete headers[name];
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      headers.prefer = withReturn(headers.prefer, 'representation');
    }
  }
  const body = checked ? withoutEntryValidators(req) : undefined;
  return {
    ...req,
    method,
    query: format ? req.query.filter((p) => p.name !== '_format') : req.query,
    headers,
    ...(body ? { body } : {}),
  };
}

/**
 * A batch or transaction without its entries' read validators (`ifNoneMatch`, `ifModifiedSince`):
 * a 304 entry carries no resource to check, so it would tell an existing hidden resource from a
 * missing one (RT6). The entries are answered whole instead. Undefined when there are none.
 */
function withoutEntryValidators(req: FhirRequest): RequestBody | undefined {
  if ((req.interaction !== 'batch' && req.interaction !== 'transaction') || !req.body) return undefined;
  const bundle = req.body.json() as { entry?: unknown };
  if (!Array.isArray(bundle.entry)) return undefined;
  let changed = false;
  const entry = bundle.entry.map((item: { request?: Record<string, unknown> } | null) => {
    const request = item?.request;
    if (!request || (request.ifNoneMatch === undefined && request.ifModifiedSince === undefined)) return item;
    changed = true;
    const { ifNoneMatch: _match, ifModifiedSince: _since, ...rest } = request;
    return { ...item, request: rest };
  });
  return changed ? jsonBody({ ...bundle, entry }) : undefined;
}

/** True when the request must be answered in JSON because the gateway reads the answer. */
export function mustReadAnswer(decision: GrantedDecision | undefined, checked: boolean): boolean {
  return checked || decision?.postProcess !== undefined;
}

/** The `return` preference of a Prefer header (RFC 7240), e.g. `minimal`; undefined when absent. */
export function preferredReturn(prefer: string | undefined): string | undefined {
  for (const part of (prefer ?? '').split(',')) {
    const [name, value] = part.split('=', 2).map((s) => s.trim().toLowerCase());
    if (name === 'return' && value) return value.replace(/^"|"$/g, '');
  }
  return undefined;
}

function withReturn(prefer: string | undefined, value: string): string {
  const others = (prefer ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !/^return\s*=/i.test(part));
  return [`return=${value}`, ...others].join(', ');
}

/** True when no Accept header is given, or when it admits a JSON type (directly, or by a wildcard). */
function acceptsJsonMediaType(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  const preferred = new Negotiator({ headers: { accept } }).mediaTypes(OFFERED);
  return preferred.some((type) => JSON_TYPES.includes(type));
}
