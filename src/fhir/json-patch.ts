/**
 * The resource a PATCH would store (issue 8, W3): the JSON Patch (RFC 6902) applied to the stored
 * version, so the result can be held to the same rules as an update. A FHIRPath Patch (a
 * Parameters body) cannot be evaluated here and is refused; so is a patch that the backend might
 * read differently from us (pointer tokens `__proto__`, `constructor`, `prototype`, which the
 * library skips) or that changes `id` or `resourceType`.
 *
 * Applying a patch is bounded (RT2): a `copy` of a value into itself doubles it, so a few hundred
 * bytes of operations would build a resource of any size, in the gateway first. Operations are
 * applied one by one, and before each one the gateway adds what it can add to an upper bound of
 * the result's size (the bytes of an `add`/`replace` value or of a `copy` source; removals are not
 * subtracted) and of its nesting depth; the patch is refused (400) as soon as either would pass
 * the limit, so the gateway never builds a value past it. At most MAX_PATCH_OPERATIONS operations.
 */
import { applyPatch, type Operation, Pointer } from 'rfc6902';
import { MediaType } from './body.js';
import { MAX_JSON_DEPTH } from './json-depth.js';
import type { RequestBody } from './request.js';

export type Patched =
  | { readonly ok: true; readonly resource: Record<string, unknown> }
  | { readonly ok: false; readonly status: 400 | 403; readonly reason: string };

/** Most operations one JSON Patch may have; patches the app and web clients send have a handful. */
export const MAX_PATCH_OPERATIONS = 1000;

/** How large a patched resource may grow: BODY_LIMIT_BYTES, as for a resource sent whole. */
export interface PatchLimits {
  readonly maxBytes: number;
}

const OPS: ReadonlySet<string> = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
const UNSAFE_TOKENS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

type PatchOperation = { op: string; path: string; from?: string; value?: unknown };

export function patchedVersion(
  stored: Record<string, unknown>,
  body: RequestBody | undefined,
  limits: PatchLimits,
): Patched {
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
  const bound = new ResultBound(result, limits);
  for (const [index, operation] of (operations as PatchOperation[]).entries()) {
    const tooBig = bound.grow(result, operation);
    if (tooBig !== undefined) {
      return {
        ok: false,
        status: 400,
        reason: `The JSON Patch of ${target} ${tooBig} at operation ${index}`,
      };
    }
    const [error] = applyPatch(result, [operation as Operation]);
    if (error) {
      return {
        ok: false,
        status: 400,
        reason: `The JSON Patch of ${target} cannot be applied: operation ${index} failed (${error.name})`,
      };
    }
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

/**
 * Upper bounds of the patched resource's size in bytes and of its nesting depth. A value placed at
 * `path` nests at most `tokens(path) + its own depth`; a `copy` or `move` source found at `from`
 * is at most `depth - tokens(from)` deep, so no walk is needed for it.
 */
class ResultBound {
  private bytes: number;
  private depth: number;
  private readonly maxBytes: number;
  private readonly maxDepth: number;

  constructor(stored: unknown, limits: PatchLimits) {
    this.bytes = byteSize(stored);
    this.depth = depthOf(stored);
    // A stored resource already past a limit may be patched as long as it does not grow.
    this.maxBytes = Math.max(limits.maxBytes, this.bytes);
    this.maxDepth = Math.max(MAX_JSON_DEPTH, this.depth);
  }

  /** Adds what `operation` can add; why the result would be too large, or undefined. */
  grow(document: unknown, operation: PatchOperation): string | undefined {
    const at = tokens(operation.path);
    let added = 0;
    let placedDepth: number | undefined;
    switch (operation.op) {
      case 'add':
      case 'replace':
        added = byteSize(operation.value);
        placedDepth = at + depthOf(operation.value);
        break;
      case 'copy': {
        const source = sourceValue(document, operation.from!);
        // A missing source fails when applied; it adds nothing.
        if (source !== undefined) added = byteSize(source);
        placedDepth = at + this.depth - tokens(operation.from!);
        break;
      }
      case 'move':
        placedDepth = at + this.depth - tokens(operation.from!);
        break;
      default:
        return undefined;
    }
    this.bytes += added + operation.path.length;
    this.depth = Math.max(this.depth, placedDepth);
    if (this.bytes > this.maxBytes) {
      return `would make the resource larger than ${this.maxBytes} bytes (BODY_LIMIT_BYTES)`;
    }
    if (this.depth > this.maxDepth) {
      return `would nest the resource more than ${this.maxDepth} levels deep`;
    }
    return undefined;
  }
}

function sourceValue(document: unknown, from: string): unknown {
  try {
    return Pointer.fromJSON(from).get(document);
  } catch {
    return undefined;
  }
}

function tokens(pointer: string): number {
  return pointer === '' ? 0 : pointer.split('/').length - 1;
}

function byteSize(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : Buffer.byteLength(text);
}

/** Nesting depth of arrays and objects (a scalar is 0), without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    const inner = depth + 1;
    if (inner > deepest) deepest = inner;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push([child, inner]);
    }
  }
  return deepest;
}

function invalidOperations(operations: unknown): string | undefined {
  if (!Array.isArray(operations)) return 'must be a JSON array of operations';
  if (operations.length > MAX_PATCH_OPERATIONS) {
    return `has ${operations.length} operations; at most ${MAX_PATCH_OPERATIONS} are accepted`;
  }
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
