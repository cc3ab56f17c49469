import type { Readable } from 'node:stream';
import type { GrantedDecision, VerifiedToken } from '../../access/contract.js';
import type { UpstreamSignal } from '../../backend/backend.js';
import type { FhirRequest } from '../../fhir/request.js';

/** One client request on its way through the pipeline, free of framework types. */
export interface Exchange {
  readonly requestId: string;
  readonly method: string;
  /** The raw request-target below the FHIR base (`/Patient?x=1`, `?_getpages=…`, or ''). */
  readonly target: string;
  /** Lower-cased names, first value only. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** The gateway's public FHIR base URL for this request, e.g. `https://gw.example.org/fhir`. */
  readonly baseUrl: string;
  readonly remoteAddress: string;
  /** Aborted when the client goes away before the answer is complete. */
  readonly signal: UpstreamSignal;
  /** Filled by the stages, for logs and metrics. */
  fhir?: FhirRequest;
  token?: VerifiedToken;
  decision?: GrantedDecision;
  /** How access was decided: `unauthenticated-allowed-query`, `allowed-query`, `checker`, `capabilities`. */
  grantedBy?: string;
  /** Set only while the audit trail is on: shown the answer's body (respond.ts). */
  answerTap?: AnswerTap;
}

/** Sees the body the client gets, decoded and before compression, without changing it or its pace. */
export interface AnswerTap {
  /** A body sent whole. */
  bytes(body: Buffer): void;
  /** A streamed body: returns the stream to send instead, which passes every chunk on as it comes. */
  stream(body: Readable): Readable;
}
