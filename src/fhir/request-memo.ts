/**
 * Per-request memos: a value several stages ask for (the join reach, a user's sync scope) is
 * computed once and kept on the request object itself, under a module's own symbol.
 *
 * Not a WeakMap: one WeakMap entry per request made every request cost the garbage collector
 * more than the lookup it saved (ephemeron tables are walked on every scavenge). The property is
 * non-enumerable, so `{ ...req }` (a mutated copy, whose query may differ) does not inherit it.
 *
 * @example
 * const REACH = Symbol('join reach');
 * memoOnRequest(req, REACH, () => computeReach(req));
 */
export function memoOnRequest<T>(req: object, key: symbol, compute: () => T): T {
  const held = req as Record<symbol, T | undefined>;
  let value = held[key];
  if (value === undefined) {
    value = compute();
    MEMO.value = value;
    Object.defineProperty(req, key, MEMO);
    MEMO.value = undefined;
  }
  return value;
}

/** One descriptor for every memo (non-enumerable, fixed), its `value` set for each definition. */
const MEMO: PropertyDescriptor = {
  value: undefined,
  writable: false,
  enumerable: false,
  configurable: false,
};
