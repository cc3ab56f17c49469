/** Shared set-up of the If-Match red-team tests (test/security/redteam-ifmatch/). */
import { connect } from 'node:net';
import { after, before } from 'node:test';
import type { Patient } from '@medplum/fhirtypes';
import { type SyncStack, startSyncStack } from '../../opensrp/sync/sync-stack.js';
import type { RecordedRequest } from '../../support/fhir-server.js';
import { PERSONAS } from '../../support/opensrp-dataset.js';

/**
 * One HTTP/1.1 exchange written by hand, so that a header can be sent twice or empty (Node's
 * client joins or refuses those); answers the status line.
 */
export function rawExchange(origin: string, head: string, body: string): Promise<string> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

export interface AndroidPatientWrites {
  readonly stack: () => SyncStack;
  readonly token: () => string;
  /** An in-scope Patient of the worker. */
  readonly id: () => string;
  read(): Promise<Patient>;
  /** The PUTs the FHIR server received since the last call. */
  forwardedPuts(): RecordedRequest[];
  /** The head of a raw `PUT Patient/<id>` with the given extra header lines (each ending CRLF). */
  rawPutHead(headerLines: string): string;
}

/** Inside a `describe`: a sync stack (Android worker, Location strategy) started before, closed after. */
export function androidPatientWrites(): AndroidPatientWrites {
  let s: SyncStack;
  let token: string;
  let id: string;
  before(async () => {
    s = await startSyncStack();
    token = await s.token({ strategy: 'Location' });
    id = s.dataset.patientsIn(s.dataset.subtreeOf(PERSONAS.worker.facility))[0]!;
  });
  after(() => s.close());
  return {
    stack: () => s,
    token: () => token,
    id: () => id,
    read: async () => (await s.fhir.repo.readResource<Patient>('Patient', id)) as Patient,
    forwardedPuts: () => s.received().filter((r) => r.method === 'PUT'),
    rawPutHead: (headerLines) =>
      `PUT /fhir/Patient/${id} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/fhir+json\r\n${headerLines}`,
  };
}
