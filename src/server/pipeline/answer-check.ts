/**
 * The answer side of a decision: every resource an answer carries is held to the decision's
 * `visible` predicate before the client gets it (issue 8: "every resource the gateway returns is
 * allowed for the caller"). Pure functions over parsed JSON; the respond stage applies the verdict.
 */
import type { FhirResource, GrantedDecision } from '../../access/contract.js';
import { GatewayError, notFound } from '../../fhir/errors.js';
import { bundleEntries, parseEntryRequest } from '../../fhir/bundle-entry.js';
import type { FhirRequest } from '../../fhir/request.js';

type Visible = NonNullable<GrantedDecision['visible']>;

/** What the respond stage does with a checked answer. */
export interface AnswerVerdict {
  /** A replacement body (entries removed), or undefined to keep the answer as it is. */
  readonly body?: unknown;
  /** True when the answer's own resource is hidden: a write answer then loses body and Location. */
  readonly hidden: boolean;
}

const JOIN_PARAM = /^_(rev)?include(:|$)|^_contained/;
/**
 * Stored resources that hold other resources: narrowing matches them, not what they hold, so a
 * search of them is checked like a read by id of each (their contents included).
 */
const HOLDS_RESOURCES: ReadonlySet<string> = new Set(['Bundle', 'Parameters']);

/**
 * True when the decision restricts what the caller sees and this request's answer is not a plain
 * search, which the checker vouches for by its narrowing (see GrantedDecision.visible). A search
 * whose answer the decision post-processes is not plain: the output (e.g. list-entries) is no
 * longer what the narrowing selected. Nor is a page-token continuation (GCP): its page is the one
 * the stored search selected, which the request's own narrowing may not govern.
 */
export function answerNeedsCheck(req: FhirRequest, decision: GrantedDecision | undefined): boolean {
  if (decision?.visible === undefined || req.interaction === 'capabilities') return false;
  const plainSearch =
    (req.interaction === 'search-type' || req.interaction === 'search-compartment') &&
    decision.postProcess === undefined &&
    !HOLDS_RESOURCES.has(req.resourceType ?? '') &&
    !req.query.some((p) => JOIN_PARAM.test(p.name) || p.name === '_page_token');
  return !plainSearch;
}

/**
 * Checks a 2xx answer body of `req` against `visible`.
 * @throws GatewayError 404 for a resource read by id (or its history) that the caller may not see,
 *   403 for an answer that is not FHIR JSON resources (GraphQL, binary content) and so cannot be checked.
 */
export function checkAnswer(req: FhirRequest, body: unknown, visible: Visible): AnswerVerdict {
  if (body === undefined) return { hidden: false };
  if (!isResource(body)) {
    throw new GatewayError(
      403,
      'answer_not_checkable',
      `The answer to this ${req.interaction} request is not a FHIR resource, so the gateway cannot check what it discloses`,
    );
  }
  const readsOne = req.interaction === 'read' || req.interaction === 'vread';
  if (readsOne && (body.resourceType !== 'Bundle' || req.resourceType === 'Bundle')) {
    // The resource read is data even when it is an OperationOutcome stored by id (R6).
    const seen = body.resourceType === req.resourceType ? visible(body) : shown(body, visible);
    if (!seen) throw notFound(`Resource ${req.resourceType}/${req.id} is not known`);
    const inner = filterContents(body, visible, req);
    return inner === body ? { hidden: false } : { body: inner, hidden: false };
  }
  const writes = req.interaction === 'create' || req.interaction === 'update' || req.interaction === 'patch';
  if (writes && (body.resourceType !== 'Bundle' || req.resourceType === 'Bundle')) {
    if (!shown(body, visible)) return { body: undefined, hidden: true };
    // A written Bundle (a stored one) holds resources: they are held to the rule as in a read.
    const inner = filterContents(body, visible, req);
    return inner === body ? { hidden: false } : { body: inner, hidden: false };
  }
  const filtered = filterContents(body, visible, req);
  if (req.interaction === 'history-instance' && isBundle(filtered) && (filtered.entry ?? []).length === 0) {
    throw notFound(`Resource ${req.resourceType}/${req.id} is not known`);
  }
  const container = body.resourceType === 'Bundle' || body.resourceType === 'Parameters';
  // An operation that answers with one resource (not a container) answers with data like a read.
  if (!container && !shown(body, visible))
    throw notFound('The resource this operation answers with is not known');
  return filtered === body ? { hidden: false } : { body: filtered, hidden: false };
}

/** A resource's own visibility; OperationOutcome is a message, not data, and Bundle/Parameters answers are containers. */
function shown(resource: FhirResource, visible: Visible): boolean {
  return resource.resourceType === 'OperationOutcome' || visible(resource);
}

/**
 * The container without what the caller may not see: Bundle entries (recursively) and Parameters
 * resources. Returns the same object when nothing was removed.
 */
function filterContents(resource: FhirResource, visible: Visible, req: FhirRequest): FhirResource {
  if (isBundle(resource)) return filterBundle(resource, visible, req);
  if (resource.resourceType === 'Parameters' && Array.isArray(resource.parameter)) {
    const parameters = filterParameters(resource.parameter as unknown[], visible, req);
    return parameters === resource.parameter ? resource : { ...resource, parameter: parameters };
  }
  return resource;
}

interface Entry {
  resource?: unknown;
  search?: { mode?: string };
  response?: { status?: string; location?: string; etag?: string; lastModified?: string };
  [field: string]: unknown;
}

function filterBundle(
  bundle: FhirResource & { entry?: Entry[] },
  visible: Visible,
  req: FhirRequest,
): FhirResource {
  if (!Array.isArray(bundle.entry)) return bundle;
  // A stored Bundle read by id is itself a resource; its entries are then checked as contents.
  const isResponse = bundle.type === 'batch-response' || bundle.type === 'transaction-response';
  let changed = false;
  let droppedMatch = false;
  const entries: Entry[] = [];
  const sentBundle = req.interaction === 'batch' || req.interaction === 'transaction';
  const requests = isResponse ? entryRequests(req) : [];
  for (const [index, entry] of bundle.entry.entries()) {
    const resource = entry?.resource;
    if (resource === undefined) {
      // A missing resource answers exactly like a hidden one (RT5): the server's own text would tell them apart.
      const missing = isResponse && /^(404|410)\b/.test(entry?.response?.status ?? '');
      if (missing) changed = true;
      entries.push(missing ? { response: { status: '404 Not Found' } } : entry);
      continue;
    }
    // The answer to a search, history or operation entry is a container, opened like a top-level one.
    const container = isResource(resource) && answersWithContainer(requests[index], resource);
    if (!isResource(resource) || (!container && !shown(resource, visible))) {
      changed = true;
      if (isResponse) entries.push(hiddenResponseEntry(entry, requests[index]?.method, !sentBundle));
      else if ((entry.search?.mode ?? 'match') === 'match') droppedMatch = true;
      continue;
    }
    const inner = filterContents(resource, visible, req);
    if (inner !== resource) changed = true;
    entries.push(inner === resource ? entry : { ...entry, resource: inner });
  }
  if (!changed) return bundle;
  const { total: _total, ...rest } = bundle as FhirResource & { total?: number };
  // `total` would count the matches the caller may not see.
  return droppedMatch ? { ...rest, entry: entries } : { ...bundle, entry: entries };
}

/**
 * An entry of a batch/transaction response whose resource is hidden: a read answers as missing; a
 * write keeps where the resource lives when the caller named or created it (PUT, PATCH, a 201),
 * any other write keeps only its status (a conditional create's match must not be located).
 * A batch-response the client did not send a batch for (list-entries) holds reads only.
 */
function hiddenResponseEntry(entry: Entry, method: string | undefined, readsOnly: boolean): Entry {
  if (readsOnly) return { response: { status: '404 Not Found' } };
  const response = entry.response ?? {};
  const status = response.status ?? '';
  if (status.startsWith('201') || method === 'PUT' || method === 'PATCH') {
    const { fullUrl } = entry as { fullUrl?: unknown };
    return { ...(fullUrl === undefined ? {} : { fullUrl }), response: { ...response } };
  }
  if (
    method === 'GET' ||
    method === 'HEAD' ||
    (status.startsWith('200') && response.location === undefined)
  ) {
    return { response: { status: '404 Not Found' } };
  }
  return { response: { status } };
}

/** Each entry of a batch or transaction request, parsed, by index (none for other requests). */
function entryRequests(req: FhirRequest): (FhirRequest | undefined)[] {
  if (req.interaction !== 'batch' && req.interaction !== 'transaction') return [];
  return bundleEntries(req).map((entry, index) => {
    try {
      return parseEntryRequest(entry, index, { ...req.headers });
    } catch {
      return undefined;
    }
  });
}

const CONTAINER_ANSWERS: ReadonlySet<FhirRequest['interaction']> = new Set([
  'search-type',
  'search-system',
  'search-compartment',
  'history-instance',
  'history-type',
  'history-system',
  'operation-system',
  'operation-type',
  'operation-instance',
  'paging',
]);

function answersWithContainer(entryReq: FhirRequest | undefined, resource: FhirResource): boolean {
  if (entryReq === undefined || !CONTAINER_ANSWERS.has(entryReq.interaction)) return false;
  return resource.resourceType === 'Bundle' || resource.resourceType === 'Parameters';
}

function filterParameters(parameters: unknown[], visible: Visible, req: FhirRequest): unknown[] {
  let changed = false;
  const kept: unknown[] = [];
  for (const parameter of parameters) {
    const p = parameter as { resource?: unknown; part?: unknown[] };
    if (p?.resource !== undefined && (!isResource(p.resource) || !shown(p.resource, visible))) {
      changed = true;
      continue;
    }
    let next = parameter;
    if (p?.resource !== undefined) {
      const inner = filterContents(p.resource as FhirResource, visible, req);
      if (inner !== p.resource) next = { ...p, resource: inner };
    }
    if (Array.isArray(p?.part)) {
      const parts = filterParameters(p.part, visible, req);
      if (parts !== p.part) next = { ...(next as object), part: parts };
    }
    if (next !== parameter) changed = true;
    kept.push(next);
  }
  return changed ? kept : parameters;
}

function isResource(value: unknown): value is FhirResource {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { resourceType?: unknown }).resourceType === 'string'
  );
}

function isBundle(value: FhirResource): value is FhirResource & { entry?: Entry[] } {
  return value.resourceType === 'Bundle';
}
