/**
 * Per-request memos: a value several stages ask for (the join reach, a user's sync scope) is
 * computed once and kept on the request object itself, under a module's own symbol.
 *
 * Not a WeakMap: one WeakMap entry per request made every request cost the garbage collector
 * more than the lookup it saved (ephemeron tables are walked on every scavenge). Not
 * Object.defineProperty either (a runtime call, about 2 µs per request in profiles): a plain
 * assignment, of a box that names its owner, so that `{ ...req }` (a mutated copy, whose query may
 * differ) carries the box along but never uses it.
 *
 * @example
 * const REACH = Symbol('join reach');
 * memoOnRequest(req, REACH, () => computeReach(req));
 */
export function memoOnRequest<T>(req: object, key: symbol, compute: () => T): T {
  const held = req as Record<symbol, Memo<T> | undefined>;
  const memo = held[key];
  if (memo !== undefined && memo.owner === req) return memo.value;
  const value = compute();
  held[key] = { owner: req, value };
  return value;
}

interface Memo<T> {
  readonly owner: object;
  readonly value: T;
}
