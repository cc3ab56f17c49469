/**
 * If-Match on PATCH, which fhir-router ignores (it honours it on PUT only) and HAPI honours: a
 * PATCH of `Type/id`, alone or as a Bundle entry (`request.ifMatch`), whose If-Match names another
 * version than the stored one fails with 412 (FHIR R4 http.html#concurrency).
 */
import type { MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { etagMatches } from './http-response.js';
import { problem } from './request-body.js';

/** Why the PATCH of `<type>/<id>` fails its If-Match; undefined when it passes or there is none. */
export async function stalePatch(
  repo: MemoryRepository,
  target: string,
  ifMatch: string | undefined,
): Promise<string | undefined> {
  const [type, id, ...rest] = target.replace(/^\/+/, '').split('?')[0]!.split('/');
  if (ifMatch === undefined || type === undefined || id === undefined || rest.length > 0) return undefined;
  let current: Resource;
  try {
    current = await repo.readResource(type, id);
  } catch {
    return undefined; // the router answers 404 or 410
  }
  if (etagMatches(ifMatch, current.meta?.versionId)) return undefined;
  return `If-Match ${ifMatch} does not match the current version ${current.meta?.versionId} of ${type}/${id}`;
}

/** The PATCH entries of a batch or transaction whose ifMatch is stale, by index, with the reason. */
export async function stalePatchEntries(
  repo: MemoryRepository,
  bundle: unknown,
): Promise<Map<number, string>> {
  const stale = new Map<number, string>();
  const entries = (bundle as Bundle | undefined)?.entry;
  if (!Array.isArray(entries)) return stale;
  for (const [index, entry] of entries.entries()) {
    const request = (entry as BundleEntry | undefined)?.request;
    if (request?.method !== 'PATCH' || typeof request.url !== 'string') continue;
    const reason = await stalePatch(repo, request.url, request.ifMatch);
    if (reason !== undefined) stale.set(index, reason);
  }
  return stale;
}

/** The Bundle without the stale entries, for the router. */
export function withoutEntries(bundle: Bundle, stale: ReadonlyMap<number, string>): Bundle {
  return { ...bundle, entry: (bundle.entry ?? []).filter((_, index) => !stale.has(index)) };
}

/** The batch-response entries of the router, with a 412 entry put back at each stale index. */
export function withStaleAnswers(
  answered: readonly BundleEntry[],
  stale: ReadonlyMap<number, string>,
  total: number,
): BundleEntry[] {
  const out: BundleEntry[] = [];
  let next = 0;
  for (let index = 0; index < total; index++) {
    const reason = stale.get(index);
    if (reason === undefined) out.push(answered[next++]!);
    else {
      const outcome: OperationOutcome = problem('conflict', reason);
      out.push({ response: { status: '412 Precondition Failed', outcome } });
    }
  }
  return out;
}
