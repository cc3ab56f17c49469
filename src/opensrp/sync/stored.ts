/**
 * The stored (current) version of the resource a request acts on, for the checks that need it
 * before anything is forwarded: writes by id, vread and instance history (the current version
 * decides, issue 8 R9), instance operations. A Bundle's entries are prefetched in one
 * deduplicated backend batch (issue 8 D1), not one GET each.
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { FhirClient } from '../../access/contract.js';
import { GatewayError } from '../../fhir/errors.js';
import type { FhirRequest } from '../../fhir/request.js';
import { storedOf as storedVersionOf } from '../../fhir/stored-version.js';

/** The stored resource, or undefined when it does not exist (404) or was deleted (410). */
type Stored = unknown;

const NEEDS_STORED: ReadonlySet<FhirRequest['interaction']> = new Set([
  'vread',
  'history-instance',
  'operation-instance',
  'update',
  'patch',
  'delete',
]);

/** `Type/id` of the resource whose stored version the Android decision reads, if any. */
export function storedTarget(req: FhirRequest): string | undefined {
  if (!NEEDS_STORED.has(req.interaction) || req.conditional) return undefined;
  if (req.resourceType === undefined || req.id === undefined) return undefined;
  return `${req.resourceType}/${req.id}`;
}

export class StoredVersions {
  /** Per Bundle entry request: its prefetched answer (requests are distinct objects per Bundle). */
  private readonly prefetched = new WeakMap<FhirRequest, Stored>();

  constructor(private readonly fhir: FhirClient) {}

  /** The stored version `req` acts on: prefetched with its Bundle, or read now. */
  async current(req: FhirRequest): Promise<Stored> {
    if (this.prefetched.has(req)) return this.prefetched.get(req);
    const target = storedTarget(req) ?? `${req.resourceType}/${req.id}`;
    const { status, body } = await this.fhir.get(target);
    return storedOf(target, status, body);
  }

  /**
   * Reads the stored versions every entry needs in one `batch` of distinct `GET Type/id` entries;
   * nothing is sent when no entry needs one.
   */
  async prefetch(entries: readonly FhirRequest[]): Promise<void> {
    const targets = new Map<string, FhirRequest[]>();
    for (const entry of entries) {
      const target = storedTarget(entry);
      if (target === undefined) continue;
      const list = targets.get(target);
      if (list) list.push(entry);
      else targets.set(target, [entry]);
    }
    if (targets.size === 0) return;
    const order = [...targets.keys()];
    const batch: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: order.map((url) => ({ request: { method: 'GET', url } })),
    };
    const { status, body } = await this.fhir.request('POST', '', { body: batch });
    const answers = (body as Bundle | undefined)?.entry;
    if (status < 200 || status >= 300 || !Array.isArray(answers) || answers.length !== order.length) {
      throw new GatewayError(
        502,
        'backend_read_failed',
        'The FHIR server could not be asked for the stored resources',
        { detail: `a batch of ${order.length} reads answered ${status}` },
      );
    }
    order.forEach((target, index) => {
      const answer = answers[index]!;
      const entryStatus = Number.parseInt(answer.response?.status ?? '', 10);
      const stored = storedOf(target, Number.isNaN(entryStatus) ? 200 : entryStatus, answer.resource);
      for (const entry of targets.get(target)!) this.prefetched.set(entry, stored);
    });
  }
}

/** The stored resource, or undefined when it does not exist or was deleted. */
function storedOf(target: string, status: number, body: unknown): Stored {
  const stored = storedVersionOf(target, status, body);
  return stored.state === 'present' ? stored.resource : undefined;
}
