/** Shared helpers for the FHIR parser tests: building raw requests and asserting refusals. */

import assert from 'node:assert/strict';
import { GatewayError } from '../../src/fhir/errors.js';
import { parseFhirRequest } from '../../src/fhir/parse.js';
import type { FhirRequest } from '../../src/fhir/request.js';

export interface RawOptions {
  /** A string is sent as is; an object is sent as JSON. */
  readonly body?: string | object;
  /** Content-Type; defaults to application/fhir+json when there is a body. */
  readonly type?: string;
  readonly headers?: Record<string, string>;
}

export function parse(method: string, target: string, options: RawOptions = {}): FhirRequest {
  const { body, type, headers = {} } = options;
  if (body === undefined) return parseFhirRequest({ method, target, headers });
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const contentType = type ?? 'application/fhir+json';
  const withType = contentType === '' ? headers : { ...headers, 'content-type': contentType };
  return parseFhirRequest({ method, target, headers: withType, body: Buffer.from(text) });
}

/** The classification of a request, with unset fields left out (defaults: not conditional, no query). */
export function shapeOf(req: FhirRequest): Record<string, unknown> {
  const shape: Record<string, unknown> = {
    interaction: req.interaction,
    resourceType: req.resourceType,
    id: req.id,
    versionId: req.versionId,
    compartment: req.compartment,
    operation: req.operation,
    conditional: req.conditional,
    query: req.query,
  };
  return Object.fromEntries(Object.entries(shape).filter(([, value]) => value !== undefined));
}

export function expectedShape(expected: Record<string, unknown>): Record<string, unknown> {
  return { conditional: false, query: [], ...expected };
}

/** Asserts that `run` throws a GatewayError with this status, code and a message matching `message`. */
export function assertRefused(
  run: () => unknown,
  status: number,
  code: string,
  message: RegExp,
): GatewayError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof GatewayError, `expected a GatewayError, got ${String(caught)}`);
  assert.equal(caught.status, status, caught.message);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  return caught;
}
