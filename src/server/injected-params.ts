import { LRUCache } from 'lru-cache';
import type { RequestMutation } from '../access/contract.js';
import type { QueryParam } from '../fhir/request.js';
import type { UrlTailRewrite } from './url-rewrite.js';

/**
 * The params a decision added that the client did not send itself (`_tag` narrowing). Servers that
 * echo a search's params into its paging links (GCP, Medplum) would hand them to the client, whose
 * next request then carries them (tens of KB for a large assignment); the continuation is narrowed
 * again anyway, so they are taken out of every link the gateway hands on.
 */
export function injectedParams(
  clientQuery: readonly QueryParam[],
  mutation: RequestMutation | undefined,
): QueryParam[] {
  const added = mutation?.addParams ?? [];
  return added.filter((p) => !clientQuery.some((q) => q.name === p.name && q.value === p.value));
}

/**
 * A rewrite of URL tails (`Patient?a=1&_tag=…`) that drops the given params, matched by decoded
 * name and value; `&amp;` separators (XML) are kept as they are. Undefined when there is nothing to drop.
 */
export function withoutParams(params: readonly QueryParam[]): UrlTailRewrite | undefined {
  if (params.length === 0) return undefined;
  if (params.length > 1) return dropping(params);
  // The common case, one `_tag` per cached scope: the same value string every request, so its
  // rewrite is made once (the string's hash is cached by V8 too).
  const [param] = params as [QueryParam];
  let byValue = singleParamRewrites.get(param.name);
  if (byValue === undefined) {
    byValue = new LRUCache({ max: 256 });
    singleParamRewrites.set(param.name, byValue);
  }
  let rewrite = byValue.get(param.value);
  if (rewrite === undefined) {
    rewrite = dropping(params);
    byValue.set(param.value, rewrite);
  }
  return rewrite;
}

const singleParamRewrites = new Map<string, LRUCache<string, UrlTailRewrite>>();

function dropping(params: readonly QueryParam[]): UrlTailRewrite {
  const drop = new Set(params.map((p) => `${p.name}\u0000${p.value}`));
  const names = new Set(params.map((p) => p.name));
  const literalNames = [...names];
  return (tail) => {
    const mark = tail.indexOf('?');
    if (mark === -1) return tail;
    // Without an escape, a name can only appear as itself: most links carry none of ours.
    const escaped = tail.includes('%') || tail.includes('+');
    if (!escaped && !literalNames.some((name) => tail.includes(name))) return tail;
    const query = tail.slice(mark + 1);
    const separator = query.includes('&amp;') ? '&amp;' : '&';
    const kept = query.split(separator).filter((pair) => {
      const eq = pair.indexOf('=');
      const name = decoded(eq === -1 ? pair : pair.slice(0, eq));
      if (!names.has(name)) return true;
      const value = eq === -1 ? '' : decoded(pair.slice(eq + 1));
      return !drop.has(`${name}\u0000${value}`);
    });
    return kept.length === 0 ? tail.slice(0, mark) : `${tail.slice(0, mark + 1)}${kept.join(separator)}`;
  };
}

/**
 * Long values (a large assignment's `_tag`, tens of KB) come back in every paging link of every
 * page; decoding them each time is the cost of the rewrite, so their decoded form is kept.
 */
const LONG_VALUE = 256;
const decodedLongValues = new LRUCache<string, string>({ max: 64 });

function decoded(text: string): string {
  if (text.length < LONG_VALUE) return decode(text);
  let value = decodedLongValues.get(text);
  if (value === undefined) {
    value = decode(text);
    decodedLongValues.set(text, value);
  }
  return value;
}

function decode(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
