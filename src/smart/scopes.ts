/**
 * SMART App Launch scopes (scopes-and-launch-context.html, v1 and v2) as the `patient` checker
 * reads them from the token's `scope` claim (a space-separated string, or an array of strings):
 *
 *   ( patient | user | system ) "/" ( ResourceType | "*" ) "." ( read | write | * | [c][r][u][d][s] ) [ "?" criteria ]
 *
 * v1 `read` is `rs`, `write` is `cud`, `*` is `cruds`. v2 letters must be in that order (`rc` is
 * not `cr`: the spec lets servers ignore such scopes, and reading them as something else would
 * grant what was not asked). Criteria (v2 only) are search params, decoded once.
 *
 * Scopes that are not about resources (`openid`, `fhirUser`, `launch/patient`, `offline_access`)
 * are skipped; resource scopes that break the grammar (unknown type, bad letters, criteria on a
 * v1 scope, bad percent-encoding) are ignored and reported as malformed, never an error.
 */
import { parseQueryString } from '../fhir/query-string.js';
import type { QueryParam } from '../fhir/request.js';
import { isResourceType } from '../fhir/resource-types.js';

export type Letter = 'c' | 'r' | 'u' | 'd' | 's';
export const LETTERS: readonly Letter[] = ['c', 'r', 'u', 'd', 's'];

export interface SmartScope {
  /** The scope as granted, for reasons and logs. */
  readonly text: string;
  readonly context: 'patient' | 'user' | 'system';
  /** A resource type, or `*` for every type. */
  readonly type: string;
  readonly letters: ReadonlySet<Letter>;
  /** v2 search criteria, decoded; undefined when the scope is unconstrained. */
  readonly criteria?: readonly QueryParam[];
}

export interface ParsedScopes {
  readonly scopes: readonly SmartScope[];
  /** Resource scopes that break the grammar, as granted. */
  readonly malformed: readonly string[];
}

const RESOURCE_SCOPE = /^(patient|user|system)\/([^.?]+)\.([^?]+)(?:\?(.*))?$/s;
const V2_LETTERS = /^c?r?u?d?s?$/;
const V1: Readonly<Record<string, readonly Letter[]>> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': LETTERS,
};

/** The scopes of a `scope` claim; anything that is not a string or an array of strings has none. */
export function parseScopes(claim: unknown): ParsedScopes {
  const tokens =
    typeof claim === 'string'
      ? claim.split(/\s+/)
      : Array.isArray(claim)
        ? claim.flatMap((item) => (typeof item === 'string' ? item.split(/\s+/) : []))
        : [];
  const scopes: SmartScope[] = [];
  const malformed: string[] = [];
  for (const token of tokens) {
    if (!/^(patient|user|system)\//.test(token)) continue;
    const scope = parseScope(token);
    if (scope) scopes.push(scope);
    else malformed.push(token);
  }
  return { scopes, malformed };
}

function parseScope(text: string): SmartScope | undefined {
  const match = RESOURCE_SCOPE.exec(text);
  if (!match) return undefined;
  const [, context, type, permission, query] = match as unknown as [
    string,
    SmartScope['context'],
    string,
    string,
    string | undefined,
  ];
  if (type !== '*' && !isResourceType(type)) return undefined;
  const v1 = V1[permission];
  if (v1 === undefined && (permission === '' || !V2_LETTERS.test(permission))) return undefined;
  if (query !== undefined && (v1 !== undefined || query === '')) return undefined;
  let criteria: QueryParam[] | undefined;
  if (query !== undefined) {
    try {
      criteria = parseQueryString(query, 'a scope');
    } catch {
      return undefined;
    }
    if (criteria.length === 0) return undefined;
  }
  const letters = new Set<Letter>(v1 ?? (permission.split('') as Letter[]));
  return { text, context, type, letters, ...(criteria ? { criteria } : {}) };
}
