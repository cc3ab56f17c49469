/**
 * Batch and transaction Bundles, entry by entry: each entry gets the decision the same request
 * would get alone. Searches have their `request.url` rewritten (the Bundle is replaced); a denied
 * entry denies the whole Bundle before anything is forwarded; post-processing (reads by id,
 * includes, lineage) runs on the matching entry of the batch-response.
 */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import {
  type AccessDecision,
  type BackendResponse,
  denied,
  type GrantedDecision,
  granted,
  type RequestMutation,
} from '../../access/contract.js';
import { bundleEntries, parseEntryRequest } from '../../fhir/bundle-entry.js';
import { GatewayError, outcomeOf } from '../../fhir/errors.js';
import type { FhirRequest, QueryParam } from '../../fhir/request.js';
import { formatPath, formatQuery } from '../../fhir/serialize.js';
import { mapLimit } from './map-limit.js';
import { isBundle } from './visibility.js';

const ENTRY_CONCURRENCY = 8;

export async function bundleDecision(
  req: FhirRequest,
  decideEntry: (entry: FhirRequest) => Promise<AccessDecision>,
  options: {
    /** Reads, before any entry is decided, what the entries' decisions need from the backend. */
    readonly prefetch?: (entries: readonly FhirRequest[]) => Promise<void>;
    /**
     * The entries' writes are judged on the stored versions: a Bundle that writes one resource in
     * two entries is refused (see `twiceWritten`).
     */
    readonly judgedOnStored?: boolean;
  } = {},
): Promise<AccessDecision> {
  let entryRequests: FhirRequest[];
  try {
    entryRequests = bundleEntries(req).map((entry, index) =>
      parseEntryRequest(entry, index, { ...req.headers }),
    );
  } catch (error) {
    if (error instanceof GatewayError && error.status === 400) return denied(error.message, 400);
    throw error;
  }
  const twice = options.judgedOnStored ? twiceWritten(entryRequests) : undefined;
  if (twice !== undefined) return denied(twice, 400);
  const { prefetch } = options;
  await prefetch?.(entryRequests);
  const decisions = await mapLimit(entryRequests, ENTRY_CONCURRENCY, decideEntry);
  const refusal = decisions.findIndex((d) => !d.canAccess);
  if (refusal !== -1) {
    const decision = decisions[refusal] as { reason: string; status?: number };
    const status =
      decision.status === 400 || decision.status === 401 || decision.status === 412 ? decision.status : 403;
    return denied(`Bundle entry ${refusal}: ${decision.reason}`, status);
  }
  const grantedEntries = decisions as GrantedDecision[];
  const body = rewrittenBundle(req, entryRequests, grantedEntries);
  const postProcessed = grantedEntries.some((d) => d.postProcess !== undefined);
  return granted({
    ...(body ? { mutation: { replaceBody: body } } : {}),
    ...(postProcessed
      ? { postProcess: (_req, res) => postProcessEntries(entryRequests, grantedEntries, res) }
      : {}),
  });
}

/** Entries that change a stored resource (creates make new ones; a GET operation changes nothing). */
const WRITES: ReadonlySet<FhirRequest['interaction']> = new Set([
  'update',
  'patch',
  'delete',
  'operation-instance',
]);

/**
 * Why the Bundle is refused when two entries may write the same resource; undefined otherwise.
 * Each entry is judged alone on the version stored before the Bundle, but the server applies them
 * one after the other: the second lands on what the first wrote, which nothing checked (two
 * patches, each allowed, can compose into one that is refused). A conditional write's target is
 * found by the server, so it may be any resource of its type: it conflicts with every other write
 * of that type. A transaction may not do this anyway (FHIR R4 http.html#trules: overlapping
 * identities fail it).
 */
function twiceWritten(entries: readonly FhirRequest[]): string | undefined {
  const byId = new Map<string, number>();
  const conditionalByType = new Map<string, number>();
  const anyByType = new Map<string, number>();
  for (const [index, entry] of entries.entries()) {
    const type = entry.resourceType;
    if (!WRITES.has(entry.interaction) || entry.method === 'GET' || type === undefined) continue;
    const conditional = entry.conditional || entry.id === undefined;
    const target = conditional ? `a ${type} found by a condition` : `${type}/${entry.id}`;
    const earlier = conditional ? anyByType.get(type) : (byId.get(target) ?? conditionalByType.get(type));
    if (earlier !== undefined) {
      return `Bundle entries ${earlier} and ${index} may both write ${target}: each would be judged on the version stored before the Bundle, not on the one the other leaves; send them in separate requests`;
    }
    if (conditional) conditionalByType.set(type, index);
    else byId.set(target, index);
    if (!anyByType.has(type)) anyByType.set(type, index);
  }
  return undefined;
}

/** The entry fields that stand for a standalone request's condition headers (http.html#transaction). */
const ENTRY_CONDITIONS: Readonly<
  Record<string, 'ifNoneExist' | 'ifMatch' | 'ifNoneMatch' | 'ifModifiedSince'>
> = {
  'if-none-exist': 'ifNoneExist',
  'if-match': 'ifMatch',
  'if-none-match': 'ifNoneMatch',
  'if-modified-since': 'ifModifiedSince',
};

/**
 * The Bundle with each mutated entry's `request.url` rebuilt and its conditions set (a narrowed
 * `ifNoneExist`); undefined when no entry changed.
 */
function rewrittenBundle(
  req: FhirRequest,
  entryRequests: readonly FhirRequest[],
  decisions: readonly GrantedDecision[],
): unknown {
  if (!decisions.some((d) => d.mutation)) return undefined;
  const bundle = structuredClone(req.body!.json()) as Bundle;
  decisions.forEach((decision, index) => {
    const entry = bundle.entry?.[index];
    if (!decision.mutation || !entry?.request) return;
    const query = applyMutation(entryRequests[index]!.query, decision.mutation);
    const path = formatPath(entryRequests[index]!);
    entry.request.url = query.length === 0 ? path : `${path}?${formatQuery(query)}`;
    for (const [header, value] of Object.entries(decision.mutation.setHeaders ?? {})) {
      const field = ENTRY_CONDITIONS[header];
      // Fail closed: a header an entry cannot carry would silently not be applied.
      if (field === undefined) throw new Error(`a Bundle entry cannot carry the header ${header}`);
      entry.request[field] = value;
    }
  });
  return bundle;
}

/** As the pipeline applies a mutation: discard names, then added params replace same-name ones. */
function applyMutation(query: readonly QueryParam[], mutation: RequestMutation): QueryParam[] {
  const added = mutation.addParams ?? [];
  const removed = new Set([...(mutation.discardParams ?? []), ...added.map((p) => p.name)]);
  return [...query.filter((p) => !removed.has(p.name)), ...added];
}

async function postProcessEntries(
  entryRequests: readonly FhirRequest[],
  decisions: readonly GrantedDecision[],
  res: BackendResponse,
): Promise<unknown> {
  const body = res.json();
  if (!isBundle(body) || !Array.isArray(body.entry)) return undefined;
  const entries = [...body.entry];
  let changed = false;
  for (const [index, decision] of decisions.entries()) {
    const entry = entries[index];
    if (!decision.postProcess || !entry || !succeeded(entry)) continue;
    const resource = entry.resource ?? stubFromLocation(entry);
    const text = JSON.stringify(resource ?? null);
    const entryResponse: BackendResponse = {
      status: Number.parseInt(entry.response?.status ?? '200', 10),
      headers: {},
      json: () => resource,
      text: () => text,
    };
    try {
      const output = await decision.postProcess(entryRequests[index]!, entryResponse);
      if (output !== undefined && entry.resource !== undefined) {
        entries[index] = { ...entry, resource: output as BundleEntry['resource'] };
        changed = true;
      }
    } catch (error) {
      if (!(error instanceof GatewayError) || error.status >= 500) throw error;
      entries[index] = {
        response: { status: `${error.status} ${statusText(error.status)}`, outcome: outcomeOf(error) },
      };
      changed = true;
    }
  }
  return changed ? { ...body, entry: entries } : undefined;
}

function succeeded(entry: BundleEntry): boolean {
  const status = Number.parseInt(entry.response?.status ?? '', 10);
  return Number.isNaN(status) ? entry.resource !== undefined : status >= 200 && status < 300;
}

/** A write answered without its resource (`Prefer: return=minimal`): its type and id from `response.location`. */
function stubFromLocation(entry: BundleEntry): unknown {
  const match = /(?:^|\/)([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(
    entry.response?.location ?? '',
  );
  return match ? { resourceType: match[1], id: match[2] } : undefined;
}

function statusText(status: number): string {
  return status === 404 ? 'Not Found' : status === 403 ? 'Forbidden' : 'Error';
}
