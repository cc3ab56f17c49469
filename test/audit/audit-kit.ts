/**
 * For the audit tests: the AuditEvent transaction Bundles a FHIR server received from the
 * gateway, the events in them, and the events of one request (by its X-Request-ID).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalFhirServer, RecordedRequest } from '../support/fhir-server.js';

export type Json = Record<string, unknown>;

/** The requests that carried AuditEvents: `POST [base]` transaction Bundles of `POST AuditEvent` entries. */
export function auditPosts(fhir: LocalFhirServer): RecordedRequest[] {
  return fhir.requests.filter((request) => {
    if (request.method !== 'POST' || request.path !== new URL(fhir.baseUrl).pathname) return false;
    const bundle = JSON.parse(request.body) as { type?: string; entry?: { request?: { url?: string } }[] };
    return (
      bundle.type === 'transaction' &&
      (bundle.entry?.length ?? 0) > 0 &&
      bundle.entry!.every((entry) => entry.request?.url === 'AuditEvent')
    );
  });
}

/** The events of these posts (all the server got, when not given; refused ones included). */
export function auditEvents(fhir: LocalFhirServer, posts: RecordedRequest[] = auditPosts(fhir)): Json[] {
  return posts.flatMap((request) =>
    (JSON.parse(request.body) as { entry: { resource: Json }[] }).entry.map((entry) => entry.resource),
  );
}

/** The value of the event's BALP transaction entity: the X-Request-ID of the request it records. */
export function requestIdOf(event: Json): string | undefined {
  for (const entity of event['entity'] as Json[]) {
    if ((entity['type'] as { code?: string }).code === 'XrequestId') {
      return String(((entity['what'] as Json)['identifier'] as Json)['value']);
    }
  }
  return undefined;
}

/**
 * Waits until `count` events of the request with this X-Request-ID have reached the FHIR server
 * (writes are asynchronous), and returns them. Gives up after a few seconds, saying what came.
 */
export async function eventsOf(fhir: LocalFhirServer, requestId: string, count = 1): Promise<Json[]> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const events = auditEvents(fhir).filter((event) => requestIdOf(event) === requestId);
    if (events.length >= count) return events;
    await sleep(10);
  }
  const seen = auditEvents(fhir).map(requestIdOf);
  throw new Error(
    `expected ${count} AuditEvent(s) of request ${requestId}; the FHIR server got those of ${seen.join(', ')}`,
  );
}

/** The entities of one kind (`type.code`, `role.code`). */
export function entities(event: Json, type: string, role?: string): Json[] {
  return (event['entity'] as Json[]).filter(
    (entity) =>
      (entity['type'] as { code?: string }).code === type &&
      (role === undefined || (entity['role'] as { code?: string } | undefined)?.code === role),
  );
}

/** The agent whose type is this code. */
export function agent(event: Json, code: string): Json {
  const found = (event['agent'] as Json[]).find((candidate) =>
    ((candidate['type'] as { coding: { code: string }[] }).coding ?? []).some((c) => c.code === code),
  );
  if (found === undefined) throw new Error(`no agent of type ${code} in ${JSON.stringify(event['agent'])}`);
  return found;
}

/** The Patient entities' `what`. */
export function patientsOf(event: Json): Json[] {
  return entities(event, '1', '1').map((entity) => entity['what'] as Json);
}

export const decodeQuery = (event: Json): string =>
  Buffer.from(String(entities(event, '2', '24')[0]?.['query']), 'base64').toString('utf8');
