/**
 * The members of a patient List (the `patient_list` claim): the Patients its `entry.item`
 * references name, read from the FHIR server and kept for a short time. google/fhir-gateway asked
 * the server `List?_id=<list>&item=<patients>` on every request and trusted `Bundle.total`; reading
 * the List itself answers every membership question of a request (and of its answer) at once and
 * does not depend on `total`. The gateway forgets a List as soon as it writes it itself (a Patient
 * created through it) or forwards a write of it.
 */
import type { FhirClient, Logger } from '../access/contract.js';
import { GatewayError } from '../fhir/errors.js';
import { stringsBytes, TtlCache } from '../access/ttl-cache.js';
import { NEW_PATIENT, patientIdOf } from '../patient/references.js';

/** How long a List's members are kept (seconds); writes through the gateway forget them at once. */
export const LIST_CACHE_TTL_SECONDS = 10;

export class ListMembers {
  // A List can name tens of thousands of Patients: bounded by weight as well as count.
  private readonly cache = new TtlCache<ReadonlySet<string>>(LIST_CACHE_TTL_SECONDS, 1000, {
    maxBytes: 32 * 1024 * 1024,
    bytesOf: (ids) => stringsBytes(ids),
  });

  constructor(
    private readonly fhir: FhirClient,
    private readonly backendBase: string,
    private readonly logger: Logger,
  ) {}

  /** The ids of the List's Patients; empty when the List does not exist. */
  of(listId: string): Promise<ReadonlySet<string>> {
    return this.cache.getOrLoad(listId, async () => {
      const { status, body } = await this.fhir.get(`List/${listId}`);
      if (status === 404 || status === 410) return new Set<string>();
      if (status < 200 || status >= 300) {
        throw new GatewayError(
          502,
          'backend_read_failed',
          'The FHIR server could not be asked for the patient list',
          {
            detail: `GET List/${listId} answered ${status}`,
          },
        );
      }
      const entries = (body as { entry?: { item?: { reference?: unknown } }[] } | undefined)?.entry ?? [];
      const members = new Set<string>();
      for (const entry of Array.isArray(entries) ? entries : []) {
        const reference = entry?.item?.reference;
        const id =
          typeof reference === 'string'
            ? patientIdOf(reference, { backendBase: this.backendBase })
            : undefined;
        if (id !== undefined && id !== NEW_PATIENT) members.add(id);
      }
      return members;
    });
  }

  /** Forgets one List, or every List when the written one is not known (conditional or Bundle writes). */
  forget(listId?: string): void {
    if (listId === undefined) this.cache.clear();
    else this.cache.delete(listId);
  }

  /**
   * Adds Patients to the List after they were created through the gateway. A JSON Patch appends to
   * `entry` (or creates it). Returns false when that failed: the Patients stay outside the List
   * (logged), so the caller may not see them, not even in the create's answer.
   */
  async add(listId: string, patientIds: readonly string[]): Promise<boolean> {
    if (patientIds.length === 0) return true;
    const items = patientIds.map((id) => ({ item: { reference: `Patient/${id}` } }));
    const append = items.map((value) => ({ op: 'add', path: '/entry/-', value }));
    const headers = { 'content-type': 'application/json-patch+json' };
    try {
      let answer = await this.fhir.request('PATCH', `List/${listId}`, { body: append, headers });
      if (answer.status >= 400 && answer.status < 500 && answer.status !== 404) {
        // A List without entries has no array to append to.
        const create = [{ op: 'add', path: '/entry', value: items }];
        answer = await this.fhir.request('PATCH', `List/${listId}`, { body: create, headers });
      }
      if (answer.status >= 200 && answer.status < 300) return true;
      this.logger.error(
        { list: `List/${listId}`, status: answer.status, patients: patientIds.length },
        'Could not add new Patients to the patient list; they are outside it',
      );
      return false;
    } catch (error) {
      this.logger.error(
        { list: `List/${listId}`, err: error },
        'Could not add new Patients to the patient list',
      );
      return false;
    } finally {
      this.forget(listId);
    }
  }
}
