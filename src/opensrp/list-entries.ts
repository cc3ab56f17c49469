/**
 * List-entries mode, "Data Requesting" (spec §3.8.1, issue 3): `mode=list-entries` (or the
 * deprecated header `FHIR-Gateway-Mode: list-entries`) on a List read or search answers with the
 * resources the List references instead of the List: one page of them (`_count`, `_page`) as a
 * `batch-response` Bundle whose `total` is the number of references, fetched with ONE batch.
 *
 * Each referenced resource is held to the caller's roles (GET_X or MANAGE_X, else a 403 entry) and
 * to the caller's scope (`isVisible`, else a 404 entry); entries keep their List positions.
 */
import { randomUUID } from 'node:crypto';
import {
  type DeniedDecision,
  denied,
  type FhirClient,
  type GrantedDecision,
  granted,
} from '../access/contract.js';
import { GatewayError, operationOutcome } from '../fhir/errors.js';
import { isFhirId } from '../fhir/ids.js';
import type { FhirRequest } from '../fhir/request.js';
import { isResourceType } from '../fhir/resource-types.js';
import { formatPath } from '../fhir/serialize.js';
import type { OpenSrpUser } from './claims.js';
import { firstValue, type Paging, pageLinks, pageStart, parsePaging } from './endpoints/paging.js';
import { hasPermission } from './permissions.js';

export const LIST_ENTRIES_MODE = 'list-entries';
export const MODE_PARAM = 'mode';
export const MODE_HEADER = 'fhir-gateway-mode';

export interface ListEntriesDeps {
  readonly fhirClient: FhirClient;
  /**
   * The backend's FHIR base (PROXY_TO without trailing slash). The paging links are built on it
   * because the core rewrites the backend base to the gateway's public base in every
   * post-processed body (server/pipeline/respond.ts); a FhirRequest carries no base URL.
   */
  readonly backendBaseUrl: string;
  /**
   * The caller's scope for one fetched resource; false turns its entry into a 404. Absent: every
   * resource the roles allow is returned (WEB_CLIENT users). See `tagScope` for the usual rule.
   */
  readonly isVisible?: (resource: Record<string, unknown>) => boolean | Promise<boolean>;
}

interface BatchResponseEntry {
  resource?: Record<string, unknown>;
  response?: { status: string; outcome?: unknown };
  [field: string]: unknown;
}

/** The mode asked for: the `mode` param when non-blank, else the header; undefined when neither. */
export function requestedMode(req: FhirRequest): string | undefined {
  return firstValue(req.query, MODE_PARAM) ?? (req.headers[MODE_HEADER]?.trim() || undefined);
}

/**
 * Undefined when the request asks for no mode. 400 for an unknown mode, a mode on anything but a
 * List read or search, or bad `_count`/`_page`. Otherwise a grant whose post-processing replaces
 * the List (or searchset of Lists) with one page of its entries.
 */
export function listEntriesDecision(
  req: FhirRequest,
  user: OpenSrpUser,
  deps: ListEntriesDeps,
): GrantedDecision | DeniedDecision | undefined {
  const mode = requestedMode(req);
  if (mode === undefined) return undefined;
  if (mode !== LIST_ENTRIES_MODE) {
    return denied(
      `The FHIR Gateway mode '${mode}' is not recognized; the only mode is '${LIST_ENTRIES_MODE}'`,
      400,
    );
  }
  const listRequest =
    req.resourceType === 'List' &&
    (req.interaction === 'read' || req.interaction === 'vread' || req.interaction === 'search-type');
  if (!listRequest) {
    return denied(`Mode '${LIST_ENTRIES_MODE}' applies only to reads and searches of List`, 400);
  }
  let paging: Paging;
  try {
    paging = parsePaging(req.query);
  } catch (error) {
    if (error instanceof GatewayError) return denied(error.message, 400);
    throw error;
  }
  return granted({
    // Gateway-only parameters; `_count` stays, HAPI reads it as the number of Lists.
    mutation: { discardParams: [MODE_PARAM, '_page'] },
    // The original request: the one handed to postProcess has the mutation applied.
    postProcess: async (_mutated, res) => entriesPage(req, user, paging, deps, res.json()),
  });
}

/**
 * The usual scope rule: a resource that carries a tag of one of `systems` must carry one whose
 * code is in `codes`; a resource with no tag of those systems (configuration) passes.
 */
export function tagScope(
  systems: readonly string[],
  codes: ReadonlySet<string>,
): (resource: Record<string, unknown>) => boolean {
  const watched = new Set(systems);
  return (resource) => {
    const tags = (resource.meta as { tag?: { system?: string; code?: string }[] } | undefined)?.tag ?? [];
    const relevant = tags.filter((t) => t.system !== undefined && watched.has(t.system));
    return relevant.length === 0 || relevant.some((t) => t.code !== undefined && codes.has(t.code));
  };
}

async function entriesPage(
  req: FhirRequest,
  user: OpenSrpUser,
  paging: Paging,
  deps: ListEntriesDeps,
  body: unknown,
): Promise<Record<string, unknown>> {
  const references = listReferences(body);
  const start = pageStart(paging);
  const planned = references
    .slice(start, start + paging.count)
    .map((reference) => planEntry(reference, user, deps.backendBaseUrl));
  const urls = planned.filter((p): p is { url: string } => 'url' in p).map((p) => p.url);
  const fetched = urls.length === 0 ? undefined : await fetchBatch(deps.fhirClient, urls);

  const entry: BatchResponseEntry[] = [];
  let next = 0;
  for (const plan of planned) {
    if ('entry' in plan) entry.push(plan.entry);
    else entry.push(await visibleOrHidden(fetched!.entries[next++]!, deps));
  }
  const selfPath = req.interaction === 'search-type' ? 'List' : formatPath(req); /* List/id[/_history/v] */
  return {
    resourceType: 'Bundle',
    id: fetched?.id ?? randomUUID(),
    type: 'batch-response',
    total: references.length,
    link: pageLinks(`${deps.backendBaseUrl}/${selfPath}`, req.query, paging, references.length),
    ...(entry.length > 0 ? { entry } : {}),
  };
}

/** The item references of a List, or of every List in a searchset, in order. */
function listReferences(body: unknown): (string | undefined)[] {
  const resource = body as { resourceType?: unknown; entry?: unknown } | undefined;
  const itemsOf = (list: unknown) =>
    ((list as { entry?: { item?: { reference?: string } }[] }).entry ?? []).map((e) => e.item?.reference);
  if (resource?.resourceType === 'List') return itemsOf(resource);
  if (resource?.resourceType === 'Bundle') {
    const entries = Array.isArray(resource.entry) ? (resource.entry as { resource?: unknown }[]) : [];
    return entries
      .map((e) => e.resource as { resourceType?: unknown } | undefined)
      .filter((r) => r?.resourceType === 'List')
      .flatMap(itemsOf);
  }
  throw new GatewayError(502, 'backend_bad_response', 'The FHIR server did not answer with a List');
}

type Plan = { url: string } | { entry: BatchResponseEntry };

/** A read of the referenced resource, or the entry that answers without one (400/403). */
function planEntry(reference: string | undefined, user: OpenSrpUser, backendBaseUrl: string): Plan {
  const local = reference?.startsWith(`${backendBaseUrl}/`)
    ? reference.slice(backendBaseUrl.length + 1)
    : reference;
  const parts = local?.split('/') ?? [];
  const [type, id, history, version] = parts;
  const wellFormed =
    type !== undefined &&
    isResourceType(type) &&
    id !== undefined &&
    isFhirId(id) &&
    (parts.length === 2 || (parts.length === 4 && history === '_history' && isFhirId(version ?? '')));
  if (!wellFormed) {
    return {
      entry: outcomeEntry(
        '400 Bad Request',
        'invalid',
        `'${reference ?? ''}' is not a reference to a resource on this server`,
      ),
    };
  }
  if (!hasPermission(user.roles, { verb: 'GET', resourceType: type })) {
    const role = `GET_${type.toUpperCase()}`;
    return {
      entry: outcomeEntry(
        '403 Forbidden',
        'forbidden',
        `User is not authorized to GET ${type}: needs role ${role} or MANAGE_${type.toUpperCase()}`,
      ),
    };
  }
  return { url: local! };
}

async function visibleOrHidden(
  entry: BatchResponseEntry,
  deps: ListEntriesDeps,
): Promise<BatchResponseEntry> {
  const resource = entry.resource;
  if (!resource || !deps.isVisible || (await deps.isVisible(resource))) return entry;
  return outcomeEntry(
    '404 Not Found',
    'not-found',
    'The resource does not exist or is outside your assignment',
  );
}

function outcomeEntry(
  status: string,
  code: 'invalid' | 'forbidden' | 'not-found',
  text: string,
): BatchResponseEntry {
  return { response: { status, outcome: operationOutcome(text, code) } };
}

/** One batch of reads; its answer has one entry per read, in order. */
async function fetchBatch(
  fhir: FhirClient,
  urls: readonly string[],
): Promise<{ id?: string; entries: BatchResponseEntry[] }> {
  const batch = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: urls.map((url) => ({ request: { method: 'GET', url } })),
  };
  const { status, body } = await fhir.request('POST', '', { body: batch });
  const answer = body as { resourceType?: unknown; id?: unknown; entry?: unknown } | undefined;
  const entries = Array.isArray(answer?.entry) ? (answer.entry as BatchResponseEntry[]) : [];
  if (status < 200 || status >= 300 || answer?.resourceType !== 'Bundle' || entries.length !== urls.length) {
    throw new GatewayError(502, 'backend_batch_failed', 'The FHIR server could not read the List entries', {
      detail: `batch of ${urls.length} reads answered ${status} with ${entries.length} entries`,
    });
  }
  return { ...(typeof answer.id === 'string' ? { id: answer.id } : {}), entries };
}
