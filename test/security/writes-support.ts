/**
 * Helpers for the write and escalation cases: what the backend received apart from the gateway's
 * own reads, and the tags the Android app writes.
 */
import type { Bundle, Coding } from '@medplum/fhirtypes';
import type { LocalFhirServer, RecordedRequest } from '../support/fhir-server.js';
import { TAG_SYSTEMS } from '../support/opensrp-dataset.js';

/** A batch made only of GET entries: the gateway reading stored versions. */
export function isReadBatch(request: RecordedRequest): boolean {
  if (request.method !== 'POST' || request.path !== '/fhir/') return false;
  try {
    const bundle = JSON.parse(request.body) as Bundle;
    return bundle.type === 'batch' && (bundle.entry ?? []).every((e) => e.request?.method === 'GET');
  } catch {
    return false;
  }
}

/** Requests that could have changed data: anything but GETs and the gateway's read batches. */
export function backendWrites(fhir: LocalFhirServer): string[] {
  return fhir.requests
    .filter((r) => r.method !== 'GET' && !isReadBatch(r))
    .map((r) => `${r.method} ${r.path}`);
}

/** The `GET Type/id` URLs of every read batch the backend received. */
export function readBatches(fhir: LocalFhirServer): string[][] {
  return fhir.requests
    .filter(isReadBatch)
    .map((r) => ((JSON.parse(r.body) as Bundle).entry ?? []).map((e) => e.request!.url));
}

export const tag = (system: keyof typeof TAG_SYSTEMS, code: string): Coding => ({
  system: TAG_SYSTEMS[system],
  code,
});

export const bundle = (type: 'batch' | 'transaction', entry: Bundle['entry']): Bundle => ({
  resourceType: 'Bundle',
  type,
  entry,
});

export const JSON_PATCH = { 'content-type': 'application/json-patch+json' };
