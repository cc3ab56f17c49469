/**
 * SMART scopes for the property test, generated as structured data and rendered to the scope
 * string the gateway parses. What a scope grants is stated here from the SMART App Launch rules
 * (scopes-and-launch-context.html) and docs/checkers.md, never by the gateway's code:
 * - v1 `read` = `rs`, `write` = `cud`, `*` = `cruds`; v2 letters in the order `c r u d s`; letters out
 *   of order, an unknown type or criteria on a v1 scope make the scope malformed (it grants nothing);
 * - `patient/`, `user/` and `system/` all grant within the caller's compartment;
 * - granular criteria are a fixed catalogue, each with a matcher written here by hand for the data
 *   the generator makes (token, :not, :missing, date with prefixes), and a flag saying whether the
 *   gateway promises to enforce it; a scope with a criterion it does not enforce grants nothing.
 */
import fc from 'fast-check';
import { OBSERVATION_CATEGORY } from './requests.js';

export type Letter = 'c' | 'r' | 'u' | 'd' | 's';
type Json = Record<string, unknown>;

export interface Criterion {
  readonly type: string;
  /** One search param, as written in the scope (`category=laboratory`). */
  readonly text: string;
  /** docs/checkers.md: token (plain, :not, :missing), reference (plain, :missing) and date params. */
  readonly supported: boolean;
  readonly matches: (resource: Json) => boolean;
}

const codings = (value: unknown): Json[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((cc) =>
    Array.isArray((cc as Json | null)?.['coding']) ? ((cc as Json)['coding'] as Json[]) : [],
  );
/** A token search value against codings: `code`, `system|code`. */
const token = (list: Json[], value: string): boolean =>
  value.split(',').some((v) => {
    const bar = v.indexOf('|');
    return bar === -1
      ? list.some((c) => c['code'] === v)
      : list.some((c) => c['system'] === v.slice(0, bar) && c['code'] === v.slice(bar + 1));
  });
/** Day-precision dates: `ge2024-01-01` etc. against a `YYYY-MM-DD` value (absent matches nothing). */
const date = (value: unknown, criterion: string): boolean => {
  if (typeof value !== 'string') return false;
  const prefix = criterion.slice(0, 2);
  const day = value.slice(0, 10);
  const bound = criterion.slice(2);
  return (
    { ge: day >= bound, gt: day > bound, le: day <= bound, lt: day < bound, eq: day === bound }[prefix] ??
    false
  );
};
const plainCode = (field: string, value: string) => (r: Json) => value.split(',').includes(String(r[field]));

const c = (
  type: string,
  text: string,
  supported: boolean,
  matches: (r: Json) => boolean = () => false,
): Criterion => ({
  type,
  text,
  supported,
  matches,
});

export const CRITERIA: Readonly<Record<string, readonly Criterion[]>> = {
  Observation: [
    c('Observation', 'category=laboratory', true, (r) => token(codings(r['category']), 'laboratory')),
    c('Observation', `category=${OBSERVATION_CATEGORY}|vital-signs`, true, (r) =>
      token(codings(r['category']), `${OBSERVATION_CATEGORY}|vital-signs`),
    ),
    c('Observation', 'status=final', true, plainCode('status', 'final')),
    c('Observation', 'status=final,amended', true, plainCode('status', 'final,amended')),
    c('Observation', 'status:not=final', true, (r) => r['status'] !== 'final'),
    c('Observation', 'code=http://loinc.org|1234-5', true, (r) =>
      token(codings(r['code']), 'http://loinc.org|1234-5'),
    ),
    c('Observation', 'category:missing=true', true, (r) => codings(r['category']).length === 0),
    c('Observation', 'date=ge2024-01-01', true, (r) => date(r['effectiveDateTime'], 'ge2024-01-01')),
    c('Observation', 'date=lt2024-01-01', true, (r) => date(r['effectiveDateTime'], 'lt2024-01-01')),
    c('Observation', 'code:text=free', false),
    c('Observation', 'value-quantity=gt5', false),
    c('Observation', 'subject:Patient.name=Test', false),
    c('Observation', '_count=1', false),
  ],
  Encounter: [
    c('Encounter', 'status=finished', true, plainCode('status', 'finished')),
    c('Encounter', 'status:not=finished', true, (r) => r['status'] !== 'finished'),
    c('Encounter', 'length=gt5', false),
  ],
  Condition: [
    c('Condition', 'clinical-status=active', true, (r) => token(codings(r['clinicalStatus']), 'active')),
    c('Condition', 'category=problem-list-item', true, (r) =>
      token(codings(r['category']), 'problem-list-item'),
    ),
    c('Condition', 'category:missing=false', true, (r) => codings(r['category']).length > 0),
    c('Condition', 'onset-info=x', false),
  ],
  Patient: [
    c('Patient', 'gender=female', true, plainCode('gender', 'female')),
    c('Patient', 'gender:not=female', true, (r) => r['gender'] !== 'female'),
    c('Patient', 'birthdate=ge2000-01-01', true, (r) => date(r['birthDate'], 'ge2000-01-01')),
    c('Patient', 'name=Test', false),
  ],
  List: [c('List', 'status=current', true, plainCode('status', 'current')), c('List', 'title=x', false)],
};

export interface ScopeSpec {
  readonly text: string;
  /** False for a scope that breaks the grammar: it grants nothing. */
  readonly valid: boolean;
  readonly type: string;
  readonly letters: ReadonlySet<Letter>;
  /** ANDed; undefined for an unconstrained scope. */
  readonly criteria: readonly Criterion[] | undefined;
}

const SCOPE_TYPES = [
  'Patient',
  'Observation',
  'Observation',
  'Encounter',
  'Condition',
  'List',
  'Group',
  'Practitioner',
  '*',
  '*',
  'Foo',
];
const PERMISSIONS = ['read', 'write', '*', 'rs', 'r', 's', 'cruds', 'cud', 'c', 'u', 'd', 'rus', 'sr', 'rc'];
const V1: Readonly<Record<string, readonly Letter[]>> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
};

/** Broad scopes (most apps ask for these), so that enough requests get through to be judged. */
const broad = fc.record({
  context: fc.constant('patient'),
  type: fc.constantFrom('*', '*', 'Observation', 'Patient'),
  permission: fc.constantFrom('read', 'rs', '*', 'cruds'),
  criteria: fc.constant(undefined),
});
const any = fc.record({
  context: fc.constantFrom('patient', 'patient', 'patient', 'user', 'system'),
  type: fc.constantFrom(...SCOPE_TYPES),
  permission: fc.constantFrom(...PERMISSIONS),
  criteria: fc.option(fc.array(fc.nat(), { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 2 }),
});

export const scopeArb: fc.Arbitrary<ScopeSpec> = fc
  .oneof({ weight: 4, arbitrary: broad }, { weight: 5, arbitrary: any })
  .map(({ context, type, permission, criteria }) => {
    const catalogue = CRITERIA[type] ?? [];
    const picked =
      criteria === undefined || catalogue.length === 0
        ? undefined
        : [...new Set(criteria.map((n) => catalogue[n % catalogue.length]!))];
    const v1 = V1[permission];
    const v2 = /^c?r?u?d?s?$/.test(permission) && permission !== '';
    const valid = type !== 'Foo' && (v1 !== undefined ? picked === undefined : v2);
    const letters = new Set<Letter>(v1 ?? (v2 ? (permission.split('') as Letter[]) : []));
    const text = `${context}/${type}.${permission}${picked ? `?${picked.map((p) => p.text).join('&')}` : ''}`;
    return { text, valid, type, letters, criteria: picked };
  });

/** What the scopes granting `letter` on `type` allow: everything, some criteria (ORed), or nothing. */
export interface Grant {
  readonly unconstrained: boolean;
  readonly criteria: readonly (readonly Criterion[])[];
}

export function grantOf(scopes: readonly ScopeSpec[], letter: Letter, type: string): Grant {
  let unconstrained = false;
  const criteria = new Map<string, readonly Criterion[]>();
  for (const s of scopes) {
    if (!s.valid || !s.letters.has(letter) || (s.type !== '*' && s.type !== type)) continue;
    if (s.criteria === undefined) unconstrained = true;
    else if (s.criteria.every((k) => k.supported && k.type === type))
      criteria.set(s.criteria.map((k) => k.text).join('&'), s.criteria);
  }
  return { unconstrained, criteria: [...criteria.values()] };
}

export const grants = (g: Grant): boolean => g.unconstrained || g.criteria.length > 0;

export const allows = (g: Grant, resource: Json): boolean =>
  g.unconstrained || g.criteria.some((set) => set.every((k) => k.matches(resource)));
