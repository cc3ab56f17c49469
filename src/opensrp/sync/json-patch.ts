/**
 * The resource a PATCH would store (issue 8, W3): the JSON Patch (RFC 6902) applied to the stored
 * version, so the result can be held to the same rules as an update. A FHIRPath Patch (a
 * Parameters body) cannot be evaluated here and is refused; so is a patch that the backend might
 * read differently from us (pointer tokens `__proto__`, `constructor`, `prototype`, which the
 * library skips) or that changes `id` or `resourceType`.
 */
import { applyPatch, type Operation } from 'rfc6902';
import { MediaType } from '../../fhir/body.js';
import type { RequestBody } from '../../fhir/request.js';

export type Patched =
  | { readonly ok: true; readonly resource: Record<string, unknown> }
  | { readonly ok: false; readonly status: 400 | 403; readonly reason: string };

const OPS: ReadonlySet<string> = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
const UNSAFE_TOKENS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function patchedVersion(stored: Record<string, unknown>, body: RequestBody | undefined): Patched {
  const target = `${String(stored.resourceType)}/${String(stored.id)}`;
  if (body?.mediaType !== MediaType.jsonPatch) {
    return {
      ok: false,
      status: 403,
      reason: `A FHIRPath Patch of ${target} cannot be checked against the user's assignment; ANDROID_CLIENT users must send a JSON Patch (${MediaType.jsonPatch})`,
    };
  }
  const operations = body.json();
  const problem = invalidOperations(operations);
  if (problem !== undefined)
    return { ok: false, status: 400, reason: `The JSON Patch of ${target} ${problem}` };
  const result = structuredClone(stored);
  const errors = applyPatch(result, operations as Operation[]);
  const failed = errors.findIndex((error) => error !== null);
  if (failed !== -1) {
    return {
      ok: false,
      status: 400,
      reason: `The JSON Patch of ${target} cannot be applied: operation ${failed} failed (${errors[failed]!.name})`,
    };
  }
  if (result.resourceType !== stored.resourceType || result.id !== stored.id) {
    return {
      ok: false,
      status: 400,
      reason: `The JSON Patch of ${target} must not change its id or resourceType`,
    };
  }
  return { ok: true, resource: result };
}

function invalidOperations(operations: unknown): string | undefined {
  if (!Array.isArray(operations)) return 'must be a JSON array of operations';
  for (const [index, operation] of operations.entries()) {
    const { op, path, from } = (operation ?? {}) as { op?: unknown; path?: unknown; from?: unknown };
    if (typeof operation !== 'object' || operation === null || typeof op !== 'string' || !OPS.has(op)) {
      return `has an invalid operation at ${index}`;
    }
    for (const pointer of [path, ...(op === 'move' || op === 'copy' ? [from] : [])]) {
      if (typeof pointer !== 'string' || (pointer !== '' && !pointer.startsWith('/'))) {
        return `has an invalid JSON pointer at operation ${index}`;
      }
      if (pointer.split('/').some((token) => UNSAFE_TOKENS.has(token))) {
        return `names a reserved member at operation ${index}`;
      }
    }
  }
  return undefined;
}
