/** Shared helpers for the auth tests: a logger that records, and an assertion on GatewayErrors. */

import assert from 'node:assert/strict';
import type { Logger } from '../../src/access/contract.js';
import { GatewayError } from '../../src/fhir/errors.js';

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg?: string;
}

export function recordingLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord['level']) =>
    (obj: object, msg?: string): void => {
      records.push({ level, obj, msg });
    };
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Awaits a rejection with a GatewayError of this status and code, and returns it. */
export async function rejectsWith(
  promise: Promise<unknown>,
  status: number,
  code: string,
  message?: RegExp,
): Promise<GatewayError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof GatewayError, `expected a GatewayError, got ${String(caught)}`);
  assert.equal(caught.status, status, `status of "${caught.message}" (${caught.detail})`);
  assert.equal(caught.code, code);
  if (message !== undefined) assert.match(caught.message, message);
  return caught;
}

export async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
