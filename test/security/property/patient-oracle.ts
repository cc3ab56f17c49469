/**
 * The oracle of the patient-centred property test: what a caller of the `patient` and `list`
 * checkers may see and what may reach the FHIR server for them, from the stored data and the rules
 * of docs/checkers.md and the R4 Patient CompartmentDefinition, written without the gateway's code.
 *
 * - Compartment: a Patient is in its own compartment only; another resource is in the compartments
 *   of the patients its compartment fields reference as `Patient/<id>` (the table below, read off the
 *   R4 definition for the types the generator makes). Observation.focus, Patient.link and
 *   List.entry.item are not compartment fields; Practitioner, Organization, Location, Device are in
 *   no compartment.
 * - `patient`: the patient of `patient_id` (or `patient`); every request needs a scope granting its
 *   letter for its type (c create, r read/vread/history/$everything, u update/patch, d delete, s
 *   search) and every resource returned a scope granting `s` (matches of the searched type) or `r`
 *   (everything else), whose criteria it matches. It creates and deletes no Patient.
 * - `list`: the Patients the List of `patient_list` names; the List itself may be read, never
 *   written, and Lists are not searched; it may create Patients (then they join the List) and
 *   delete its members.
 * - `patient,list`: both rules, each on its own.
 * Nothing else is granted: no system-level or type-level history, no operation but a patient's
 * `$everything`, no join that probes (`_has`, chains, `_list`) or cannot be bounded.
 */
import { applyPatch, type Operation } from 'rfc6902';
import type { PatientCaller, PatientWorld } from './patient-world.js';
import { allows, grantOf, grants, type Letter, type ScopeSpec } from './patient-scopes.js';
import {
  type AnyResource,
  type Before,
  bodyIdentityProblems,
  bundleEntriesOf,
  type Forwarded,
  leaksWith,
  parsePatch,
  type RepoView,
} from './oracle.js';
import type { Rendered } from './requests.js';

type Json = Record<string, unknown>;

/** R4 compartmentdefinition-patient: the fields whose `Patient/<id>` references put a resource in. */
const COMPARTMENT: Readonly<Record<string, readonly (readonly string[])[]>> = {
  Observation: [['subject'], ['performer']],
  Encounter: [['subject']],
  Condition: [['subject'], ['asserter']],
  List: [['subject'], ['source']],
  Group: [['member', 'entity']],
  Composition: [['subject'], ['author'], ['attester', 'party']],
};
/** Search params whose match puts every result in the compartment of the patients they name. */
const CONFINING: Readonly<Record<string, ReadonlySet<string>>> = {
  Observation: new Set(['subject', 'patient', 'performer']),
  Encounter: new Set(['subject', 'patient']),
  Condition: new Set(['subject', 'patient', 'asserter']),
  List: new Set(['subject', 'patient', 'source']),
  Group: new Set(['member']),
  Composition: new Set(['subject', 'patient', 'author', 'attester']),
};
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export interface Rule {
  readonly checker: 'patient' | 'list';
  /** Undefined when the token's claim is missing or not an id: the checker grants nothing. */
  readonly patients: ReadonlySet<string> | undefined;
  readonly ownList?: string;
  readonly scopes: readonly ScopeSpec[];
}

export interface PatientCallerView {
  readonly user: PatientCaller;
  readonly anonymous: boolean;
  readonly rules: readonly Rule[];
}

export async function patientCallerOf(
  view: RepoView,
  world: PatientWorld,
  user: PatientCaller,
): Promise<PatientCallerView> {
  const rules: Rule[] = [];
  for (const checker of world.spec.checker.split(',') as ('patient' | 'list')[]) {
    if (checker === 'patient') {
      const id = user.patientId;
      rules.push({ checker, patients: id && ID.test(id) ? new Set([id]) : undefined, scopes: user.scopes });
    } else {
      const listId = user.listId;
      const list = listId ? await view.get('List', listId) : undefined;
      const members = new Set(
        ((list?.['entry'] as { item?: { reference?: unknown } }[] | undefined) ?? []).flatMap((e) => {
          const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(String(e?.item?.reference ?? ''));
          return m ? [m[1]!] : [];
        }),
      );
      rules.push({ checker, patients: listId ? members : undefined, ownList: listId, scopes: [] });
    }
  }
  return { user, anonymous: user.anonymous, rules };
}

/** The patients whose compartment `resource` is in. */
export function compartmentsOf(resource: unknown): Set<string> {
  const found = new Set<string>();
  const r = resource as Json | null;
  if (typeof r !== 'object' || r === null) return found;
  if (r['resourceType'] === 'Patient') {
    if (typeof r['id'] === 'string') found.add(r['id']);
    return found;
  }
  for (const path of COMPARTMENT[String(r['resourceType'])] ?? []) {
    let values: unknown[] = [r];
    for (const step of path)
      values = values.flatMap((v) => {
        const next = (v as Json | null)?.[step];
        return Array.isArray(next) ? next : next === undefined ? [] : [next];
      });
    for (const v of values) {
      const m = /^Patient\/([A-Za-z0-9\-.]{1,64})(\/_history\/[^/]+)?$/.exec(
        String((v as Json | null)?.['reference']),
      );
      if (m) found.add(m[1]!);
    }
  }
  return found;
}

const inside = (resource: unknown, patients: ReadonlySet<string>) =>
  [...compartmentsOf(resource)].some((id) => patients.has(id));
const isOwnList = (rule: Rule, r: Json) =>
  rule.ownList !== undefined && r['resourceType'] === 'List' && r['id'] === rule.ownList;

/** Why `rule` hides `resource` from an answer that needs one of `letters`; undefined when it shows it. */
function hiddenBy(rule: Rule, resource: Json, letters: readonly Letter[]): string | undefined {
  const type = String(resource['resourceType']);
  if (rule.patients === undefined) return `${rule.checker}: the token's claim is missing or invalid`;
  if (isOwnList(rule, resource)) return undefined;
  if (!inside(resource, rule.patients))
    return `${rule.checker}: outside the compartments of {${[...rule.patients].join(',')}} (it names ${[...compartmentsOf(resource)].join(',') || 'no patient'})`;
  if (rule.checker === 'patient' && !letters.some((l) => allows(grantOf(rule.scopes, l, type), resource)))
    return `patient: no scope grants ${letters.join(' or ')} on ${type} for this resource`;
  return undefined;
}

export function hiddenFor(
  caller: PatientCallerView,
  resource: Json,
  letters: readonly Letter[],
): string | undefined {
  if (resource['resourceType'] === 'OperationOutcome') return undefined;
  if (caller.anonymous) return 'the request had no token';
  for (const rule of caller.rules) {
    const why = hiddenBy(rule, resource, letters);
    if (why) return why;
  }
  return undefined;
}

/** The letters a resource in the answer to `rendered` needs (docs/checkers.md, "SMART scopes"). */
export function lettersFor(rendered: Rendered, type: string): Letter[] {
  switch (rendered.interaction) {
    case 'search':
    case 'paging':
      return [type === rendered.searchType ? 's' : 'r'];
    case 'create':
      return ['c', 'r'];
    case 'update':
    case 'patch':
      return ['u', 'r'];
    case 'delete':
      return ['d', 'r'];
    case 'batch':
    case 'transaction':
      return ['r', 's'];
    default:
      return ['r'];
  }
}

export function patientLeaks(caller: PatientCallerView, rendered: Rendered, body: unknown): string[] {
  const leaks = leaksWith((r) => hiddenFor(caller, r, lettersFor(rendered, r.resourceType)), body, false);
  // Several criteria are matched entry by entry: a total would count the entries removed.
  const b = body as Json | null;
  const type = rendered.searchType;
  if (b?.['resourceType'] === 'Bundle' && b['type'] === 'searchset' && b['total'] !== undefined && type) {
    for (const rule of caller.rules) {
      const g = rule.checker === 'patient' ? grantOf(rule.scopes, 's', type) : undefined;
      if (g && !g.unconstrained && g.criteria.length > 1)
        leaks.push(
          `Bundle.total=${String(b['total'])} of a search held to several criteria (${g.criteria.length})`,
        );
    }
  }
  return leaks;
}

type Say = (text: string) => void;

/** Why a request that reached the FHIR server was not authorized for the caller ([] when it was). */
export function patientForwardProblems(
  caller: PatientCallerView,
  fwd: Forwarded,
  before: Before,
  pageOwner: (id: string) => { readonly sub: string } | undefined,
): string[] {
  const segments = fwd.path.split('/').filter((s) => s !== '');
  const problems: string[] = [];
  const say: Say = (text) =>
    problems.push(`${fwd.method} /${segments.join('/')}${fwd.query.size ? `?${fwd.query}` : ''}: ${text}`);
  const pages = fwd.query.getAll('_getpages');
  if (segments.length === 0 && pages.length > 0) {
    if (caller.anonymous) say('a paging link without a token');
    for (const page of pages) {
      const owner = pageOwner(page);
      if (owner !== undefined && owner.sub !== caller.user.sub) say(`page ${page} belongs to another caller`);
    }
    return problems;
  }
  if (segments.length === 0 && fwd.method === 'POST') {
    const entries = bundleEntriesOf(fwd);
    if (typeof entries === 'string') return [entries];
    for (const [index, sub] of entries.entries())
      for (const p of patientForwardProblems(caller, sub, before, pageOwner))
        problems.push(`entry ${index}: ${p}`);
    return problems;
  }
  if (segments[0] === 'metadata' && segments.length === 1) return problems;
  if (caller.anonymous) {
    say('forwarded without a token');
    return problems;
  }
  for (const rule of caller.rules) ruleProblems(rule, fwd, segments, before, say);
  if (!segments.some((s) => s.startsWith('$') || s === '_search'))
    for (const p of bodyIdentityProblems(fwd, segments)) say(p);
  return problems;
}

function ruleProblems(
  rule: Rule,
  fwd: Forwarded,
  segments: readonly string[],
  before: Before,
  say: Say,
): void {
  const S = rule.patients;
  const tag = (text: string) => say(`${rule.checker}: ${text}`);
  if (S === undefined) {
    tag("the token's claim is missing or invalid");
    return;
  }
  const type = segments[0] ?? '';
  const id = segments[1];
  if (type.startsWith('$') || type.startsWith('_') || segments.length === 0) {
    tag('a system-level request reached the backend');
    return;
  }
  const scope = (letter: Letter, t: string) =>
    rule.checker === 'patient' ? grantOf(rule.scopes, letter, t) : undefined;
  const needs = (letter: Letter, t: string, ...resources: Json[]) => {
    const g = scope(letter, t);
    if (g === undefined) return;
    if (!grants(g)) tag(`no scope grants ${letter} on ${t}`);
    else
      for (const r of resources)
        if (!allows(g, r))
          tag(`${t}/${String(r['id'] ?? 'new')} is outside the criteria of the ${letter} scopes`);
  };
  const read = fwd.method === 'GET' || fwd.method === 'HEAD';
  const op = segments.find((s) => s.startsWith('$'));
  if (op !== undefined) {
    if (
      type !== 'Patient' ||
      op !== '$everything' ||
      segments.length !== 3 ||
      !['GET', 'POST'].includes(fwd.method)
    ) {
      tag(`the operation ${segments.join('/')} is not granted`);
      return;
    }
    if (!S.has(id!)) tag(`$everything of Patient/${id}, outside the set`);
    const stored = before.stored('Patient', id!);
    needs('r', 'Patient', ...(stored ? [stored] : []));
    return;
  }
  const search =
    (read && (segments.length === 1 || isCompartmentSearch(segments))) ||
    (fwd.method === 'POST' && id === '_search');
  if (search) {
    searchProblems(rule, fwd, segments, tag, scope);
    return;
  }
  if (read) {
    if (id === '_history' || id === undefined) {
      tag('a type-level history reached the backend');
      return;
    }
    const own = type === 'List' && id === rule.ownList;
    if (!own) {
      if (type === 'Patient') {
        if (!S.has(id)) tag(`Patient/${id} is outside the set`);
      } else if (!(type in COMPARTMENT)) tag(`${type} is in no patient compartment`);
      const current = before.stored(type, id);
      if (segments.length > 2 && type !== 'Patient' && current !== undefined && !inside(current, S))
        tag(`a version or history of ${type}/${id}, whose current version is outside`);
    }
    const current = before.stored(type, id);
    needs('r', type, ...(segments.length > 2 && current ? [current] : []));
    return;
  }
  if (fwd.query.has('_cascade') || fwd.query.has('_expunge'))
    tag('a destructive extension reached the backend');
  const body = parseBody(fwd);
  if (
    type === 'List' &&
    rule.ownList !== undefined &&
    (id === rule.ownList || body?.['id'] === rule.ownList)
  ) {
    tag(`the access List ${rule.ownList} was written`);
    return;
  }
  if (id === undefined && fwd.method !== 'POST') {
    tag('a conditional write (not generated; judge by hand)');
    return;
  }
  const stored = id === undefined ? undefined : before.stored(type, id);
  switch (fwd.method) {
    case 'POST': {
      if (type === 'Patient') {
        if (rule.checker === 'patient') tag('a Patient was created');
        if (fwd.headers['if-none-exist'] !== undefined) tag('a conditional create of a Patient');
      } else if (!inside(body, S)) tag(`the new ${type} is outside the compartments`);
      const condition = fwd.headers['if-none-exist'];
      if (condition !== undefined && type !== 'Patient') {
        const params = [...new URLSearchParams(condition.replace(/^\?/, '')).entries()];
        if (!confined(type, params, S)) tag(`If-None-Exist ${condition} is not confined to the set`);
      }
      needs('c', type, ...(body ? [body] : []));
      return;
    }
    case 'PUT': {
      if (type === 'Patient') {
        const fresh = stored === undefined && !before.deleted(type, id!);
        if (!S.has(id!) && !(rule.checker === 'list' && fresh)) tag(`Patient/${id} is outside the set`);
      } else {
        if (stored !== undefined && !inside(stored, S)) tag(`the stored ${type}/${id} is outside`);
        if (stored === undefined && before.deleted(type, id!))
          tag(`the deleted ${type}/${id} was brought back`);
        if (!inside(body, S)) tag(`the new ${type}/${id} is outside`);
      }
      needs('u', type, ...(body ? [body] : []), ...(stored ? [stored] : []));
      return;
    }
    case 'PATCH': {
      if (stored === undefined) {
        tag(`a patch of ${type}/${id}, which is not stored`);
        return;
      }
      if (!inside(stored, S)) tag(`the stored ${type}/${id} is outside`);
      let patched: Json | undefined;
      try {
        patched = structuredClone(stored) as Json;
        const errors = applyPatch(patched, parsePatch(fwd) as Operation[]);
        if (errors.some((e) => e !== null)) patched = undefined;
      } catch {
        patched = undefined;
      }
      if (patched !== undefined && !inside(patched, S)) tag(`the patched ${type}/${id} is outside`);
      needs('u', type, stored, ...(patched ? [patched] : []));
      return;
    }
    case 'DELETE': {
      if (type === 'Patient') {
        if (rule.checker === 'patient') tag('a Patient was deleted');
        else if (!S.has(id!)) tag(`Patient/${id} is outside the set`);
      } else if (stored !== undefined && !inside(stored, S)) tag(`the stored ${type}/${id} is outside`);
      needs('d', type, ...(stored ? [stored] : []));
      return;
    }
    default:
      tag(`a ${fwd.method} reached the backend`);
  }
}

function isCompartmentSearch(segments: readonly string[]): boolean {
  return segments.length === 3 && !segments[2]!.startsWith('_') && !segments[2]!.startsWith('$');
}

function searchProblems(
  rule: Rule,
  fwd: Forwarded,
  segments: readonly string[],
  tag: Say,
  scope: (letter: Letter, t: string) => ReturnType<typeof grantOf> | undefined,
): void {
  const S = rule.patients!;
  const compartment = isCompartmentSearch(segments);
  const type = compartment ? segments[2]! : segments[0]!;
  const params: [string, string][] = [...fwd.query.entries()];
  if (fwd.method === 'POST') params.push(...new URLSearchParams(fwd.body).entries());
  for (const [name, value] of params) {
    if (
      /^_has|^_list$|^_filter$|^_query$|^_containedType$/.test(name) ||
      (name.includes('.') && !name.startsWith('_'))
    )
      tag(`${name}=${value} searches other data`);
    if (name === '_contained' && value !== 'false') tag(`${name}=${value} cannot be bounded`);
    if (/^_(rev)?include/.test(name) && value.split(',').some((v) => v === '*' || v.split(':').includes('*')))
      tag(`${name}=${value} cannot be bounded`);
  }
  if (rule.checker === 'list' && type === 'List') tag('a List search reached the backend');
  if (compartment) {
    if (segments[0] !== 'Patient' || !S.has(segments[1]!))
      tag(`the compartment ${segments[0]}/${segments[1]} is outside`);
    if (!(type in COMPARTMENT)) tag(`${type} is in no patient compartment`);
  } else if (!confined(type, params, S)) tag(`the search is not confined to {${[...S].join(',')}}`);
  const g = scope('s', type);
  if (g === undefined) return;
  if (!grants(g)) {
    tag(`no scope grants s on ${type}`);
    return;
  }
  if (g.unconstrained) return;
  if (g.criteria.length === 1) {
    for (const k of g.criteria[0]!) {
      const eq = k.text.indexOf('=');
      const [name, value] = [k.text.slice(0, eq), k.text.slice(eq + 1)];
      if (!params.some(([n, v]) => n === name && v === value))
        tag(`the search was not narrowed by ${k.text}`);
    }
  } else if (params.some(([n, v]) => n === '_summary' && v === 'count'))
    tag('_summary=count of a search held to several criteria');
}

/** True when one patient param (or `_id` of a Patient search) names only patients of the set. */
function confined(type: string, params: readonly [string, string][], S: ReadonlySet<string>): boolean {
  return params.some(([name, value]) => {
    const [code = '', modifier] = name.split(':');
    const pieces = value.split(',');
    if (type === 'Patient') return name === '_id' && pieces.every((p) => S.has(p));
    if (!CONFINING[type]?.has(code) || (modifier !== undefined && modifier !== 'Patient')) return false;
    // A bare id is a patient only where the param cannot point at other types.
    const bare = code === 'patient' || modifier === 'Patient';
    return pieces.every((p) => (p.startsWith('Patient/') ? S.has(p.slice(8)) : bare && S.has(p)));
  });
}

function parseBody(fwd: Forwarded): Json | undefined {
  if (fwd.body === '' || fwd.method === 'PATCH') return undefined;
  try {
    const body = JSON.parse(fwd.body) as unknown;
    return typeof body === 'object' && body !== null ? (body as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** Existence: a by-id request on a resource the caller may not see answers as for a missing one. */
export function patientTwinApplies(
  caller: PatientCallerView,
  rendered: Rendered,
  stored: AnyResource,
): boolean {
  // A token a checker refuses whole answers the same for every id.
  if (caller.anonymous || caller.rules.some((r) => r.patients === undefined)) return false;
  switch (rendered.interaction) {
    case 'read':
    case 'vread':
    case 'history-instance':
    case 'operation':
      // The patient checker's own Patient is addressed by an id no other resource shares: a hidden
      // own Patient has no missing twin (a missing id is someone else's, refused from the request).
      if (
        stored.resourceType === 'Patient' &&
        caller.rules.some((rule) => rule.checker === 'patient' && rule.patients?.has(stored.id ?? '') === true)
      ) {
        return false;
      }
      return hiddenFor(caller, stored, ['r']) !== undefined;
    case 'patch':
    case 'delete':
      // Outside a compartment, or outside the criteria of the caller's r scopes, looks missing; a
      // caller with no r scope on the type may still write what the u or d scopes grant.
      return caller.rules.some((rule) => {
        if (rule.patients === undefined || isOwnList(rule, stored)) return false;
        if (!inside(stored, rule.patients)) return true;
        const read = rule.checker === 'patient' ? grantOf(rule.scopes, 'r', stored.resourceType) : undefined;
        return read !== undefined && grants(read) && !allows(read, stored);
      });
    default:
      return false;
  }
}

export function describePatientWorld(world: PatientWorld): string {
  const lists = world.resources
    .filter((r) => r.resourceType === 'List' && r.id?.startsWith('access-'))
    .map(
      (r) =>
        `${r.id}=[${((r as { entry?: { item?: { reference?: string } }[] }).entry ?? []).map((e) => e.item?.reference).join(',')}]`,
    );
  return [
    `world: ACCESS_CHECKER=${world.spec.checker}, ${world.spec.patients} patients, ${world.resources.length} resources, access lists ${lists.join(' ')}`,
    ...world.users.map((u) => `  ${u.label}`),
  ].join('\n');
}
