/**
 * The SMART-scope half of the `patient` checker: each request needs a scope granting its letter
 * for its resource type (scopes-and-launch-context.html: c create, r read/vread/instance history,
 * u update and patch, d delete, s search), and every resource returned or written is held to the
 * criteria of the scopes that grant it.
 *
 * Criteria, for the scopes granting the letter (one unconstrained scope lifts them all):
 * - search: one criterion is appended to the search (AND, the client's own params kept); several
 *   cannot be ORed in one search, so every entry is matched in the gateway and `Bundle.total`,
 *   which would count the others, is dropped (`_summary=count` is refused);
 * - read: the fetched resource must match an `r` criterion (404 otherwise, as for a missing one);
 *   versions and history are judged on the current version;
 * - create: the body must match a `c` criterion; update and patch: the stored version and the new
 *   one must each match a `u` criterion; delete: the stored version a `d` criterion; conditional
 *   updates and deletes are narrowed by a single criterion and refused with several.
 * Scopes of any context (`patient/`, `user/`, `system/`) grant within the patient's compartment,
 * which the other half enforces.
 */
import {
  type AccessDecision,
  type BackendResponse,
  type DeniedDecision,
  denied,
  type FhirClient,
  type FhirResource,
  granted,
  type RequestMutation,
} from '../access/contract.js';
import type { FhirRequest, QueryParam } from '../fhir/request.js';
import { formatQuery } from '../fhir/serialize.js';
import type { PatchLimits } from '../fhir/json-patch.js';
import { conditionalMatch, patchedOf, type Resource, storedVersion } from '../patient/stored.js';
import { matchesCriteria, unsupportedCriteria } from './criteria.js';
import type { Letter, SmartScope } from './scopes.js';

/** What the scopes granting one letter on one type allow. */
interface Grant {
  readonly unconstrained: boolean;
  /** Distinct criteria, each as the params of one scope. */
  readonly criteria: readonly (readonly QueryParam[])[];
  /** Scopes that would grant the letter but whose criteria cannot be enforced, with why. */
  readonly unusable: readonly string[];
}

const LETTER_NAMES: Readonly<Record<Letter, string>> = {
  c: 'create (c)',
  r: 'read (r)',
  u: 'update (u)',
  d: 'delete (d)',
  s: 'search (s)',
};

export class ScopeAccess {
  private readonly grants = new Map<string, Grant>();

  constructor(
    private readonly scopes: readonly SmartScope[],
    private readonly fhir: FhirClient,
    private readonly limits: PatchLimits,
  ) {}

  /**
   * The checks made before anything is read: the letter, and the conditional requests whose
   * outcome would tell whether a resource the read criteria hide matches their search (RT5, RT6).
   * A denial, or undefined when a scope may grant.
   */
  coarse(req: FhirRequest): DeniedDecision | undefined {
    const type = req.resourceType;
    const letter = letterOf(req);
    if (type === undefined || letter === undefined) return undefined;
    const grant = this.grant(letter, type);
    if (!grant.unconstrained && grant.criteria.length === 0) return this.noScope(letter, type, grant);
    if (req.interaction === 'create' && req.headers['if-none-exist'] !== undefined) {
      if (!this.grant('r', type).unconstrained) {
        return denied(
          `A conditional create of ${type} tells whether a match exists; it needs a read (r) scope of ${type} without criteria. Create it without If-None-Exist`,
        );
      }
    }
    if (req.interaction === 'patch' && req.conditional && !grant.unconstrained) {
      return denied(
        `A conditional patch of ${type} cannot be held to the criteria of the update (u) scopes (${describe(grant.criteria)}) without telling which resource matched; patch it by id`,
      );
    }
    return undefined;
  }

  /** True when a scope grants reading `resource` (its type, and the criteria of an `r` scope). */
  readable(resource: FhirResource): boolean {
    const grant = this.grant('r', resource.resourceType);
    return grant.unconstrained || matchesAny(resource, grant.criteria);
  }

  async decide(req: FhirRequest): Promise<AccessDecision> {
    const type = req.resourceType;
    const letter = letterOf(req);
    if (type === undefined || letter === undefined) {
      return req.interaction === 'capabilities'
        ? granted()
        : denied(`No SMART scope grants a ${req.interaction} request`);
    }
    const grant = this.grant(letter, type);
    if (!grant.unconstrained && grant.criteria.length === 0) return this.noScope(letter, type, grant);
    const visible = this.visibleFor(req);
    const constrained = grant.unconstrained ? undefined : grant.criteria;
    switch (req.interaction) {
      case 'search-type':
      case 'search-compartment':
      case 'paging':
        return this.search(req, constrained, visible);
      case 'read':
        return granted({ visible });
      case 'vread':
      case 'history-instance':
      case 'operation-instance': {
        const stored = await storedVersion(req, this.fhir);
        if (stored.state !== 'present' || !matchesAny(stored.resource, constrained)) {
          return denied(`Resource ${type}/${req.id} is not known`, 404);
        }
        return granted({ visible });
      }
      case 'create':
        return matchesAny(req.body?.json(), constrained)
          ? granted({ visible })
          : outside(`The new ${type}`, letter, constrained);
      case 'update':
        return this.update(req, constrained, visible);
      case 'patch':
        return this.patch(req, constrained, visible);
      case 'delete': {
        if (req.conditional) return this.narrowedWrite(req, constrained, visible);
        const stored = await storedVersion(req, this.fhir);
        if (stored.state === 'present' && !matchesAny(stored.resource, constrained)) {
          return read(outside(`${type}/${req.id}`, letter, constrained));
        }
        return granted({ visible });
      }
      default:
        return denied(`No SMART scope grants a ${req.interaction} request`);
    }
  }

  /**
   * What the caller may see in the answer to `req`: a resource needs a scope granting the letter
   * the request used for its type (search entries of the searched type: `s`; everything else
   * a search or a read brings: `r`; a write's own answer: its letter or `r`), whose criteria it matches.
   */
  visibleFor(req: FhirRequest): (resource: FhirResource) => boolean {
    const primary = req.resourceType;
    const letter = letterOf(req);
    const searched = letter === 's';
    const batch = req.interaction === 'batch' || req.interaction === 'transaction';
    return (resource) => {
      const letters: Letter[] = batch
        ? ['r', 's']
        : searched
          ? [resource.resourceType === primary ? 's' : 'r']
          : letter === 'r' || letter === undefined
            ? ['r']
            : [letter, 'r'];
      return letters.some((l) => {
        const grant = this.grant(l, resource.resourceType);
        return grant.unconstrained || matchesAny(resource, grant.criteria);
      });
    };
  }

  private search(
    req: FhirRequest,
    criteria: readonly (readonly QueryParam[])[] | undefined,
    visible: (resource: FhirResource) => boolean,
  ): AccessDecision {
    if (criteria === undefined) return granted({ visible });
    // A continuation replays the search as it was narrowed; its pages are checked anyway.
    if (criteria.length === 1 && req.interaction === 'paging') return granted({ visible });
    if (criteria.length === 1) return granted({ visible, mutation: appended(req.query, criteria[0]!) });
    if (req.query.some((p) => p.name === '_summary' && p.value === 'count')) {
      return denied(
        `The token's scopes for searching ${req.resourceType} have several criteria (${describe(criteria)}); the gateway checks each entry against them, so it cannot count matches: _summary=count is not supported`,
      );
    }
    return granted({ visible, postProcess: withoutTotal });
  }

  private async update(
    req: FhirRequest,
    criteria: readonly (readonly QueryParam[])[] | undefined,
    visible: (resource: FhirResource) => boolean,
  ): Promise<AccessDecision> {
    const type = req.resourceType!;
    if (!matchesAny(req.body?.json(), criteria)) return outside(`The new ${type}`, 'u', criteria);
    if (req.conditional) return this.narrowedWrite(req, criteria, visible);
    const stored = await storedVersion(req, this.fhir);
    if (stored.state === 'present' && !matchesAny(stored.resource, criteria)) {
      return read(outside(`${type}/${req.id}`, 'u', criteria));
    }
    return granted({ visible });
  }

  private async patch(
    req: FhirRequest,
    criteria: readonly (readonly QueryParam[])[] | undefined,
    visible: (resource: FhirResource) => boolean,
  ): Promise<AccessDecision> {
    if (criteria === undefined) return granted({ visible });
    const type = req.resourceType!;
    let stored: Resource | undefined;
    if (req.conditional) {
      // The compartment half resolved the match with the same params (memoized).
      stored = await conditionalMatch(req, this.fhir, req.query);
      if (stored === undefined) return granted({ visible });
    } else {
      const current = await storedVersion(req, this.fhir);
      if (current.state !== 'present') return denied(`Resource ${type}/${req.id} is not known`, 404);
      stored = current.resource;
    }
    if (!matchesAny(stored, criteria)) return read(outside(`${type}/${stored.id}`, 'u', criteria));
    const patched = patchedOf(req, stored, this.limits);
    if (!('ok' in patched)) return read(patched);
    if (!matchesAny(patched.resource, criteria)) return read(outside(`The patched ${type}`, 'u', criteria));
    return granted({ visible });
  }

  /** A conditional update or delete: the stored versions are unknown, so the search is narrowed. */
  private narrowedWrite(
    req: FhirRequest,
    criteria: readonly (readonly QueryParam[])[] | undefined,
    visible: (resource: FhirResource) => boolean,
  ): AccessDecision {
    if (criteria === undefined) return granted({ visible });
    if (criteria.length === 1) return granted({ visible, mutation: appended(req.query, criteria[0]!) });
    return denied(
      `A conditional ${req.interaction} of ${req.resourceType} cannot be held to several criteria (${describe(criteria)}); address the resource by id`,
    );
  }

  private grant(letter: Letter, type: string): Grant {
    const key = `${letter}\u0000${type}`;
    let grant = this.grants.get(key);
    if (grant === undefined) {
      let unconstrained = false;
      const criteria = new Map<string, readonly QueryParam[]>();
      const unusable: string[] = [];
      for (const scope of this.scopes) {
        if (!scope.letters.has(letter) || (scope.type !== '*' && scope.type !== type)) continue;
        if (scope.criteria === undefined) {
          unconstrained = true;
          continue;
        }
        const why = unsupportedCriteria(type, scope.criteria);
        if (why === undefined) criteria.set(formatQuery(scope.criteria), scope.criteria);
        else unusable.push(`${scope.text} (${why})`);
      }
      grant = { unconstrained, criteria: [...criteria.values()], unusable };
      this.grants.set(key, grant);
    }
    return grant;
  }

  private noScope(letter: Letter, type: string, grant: Grant): DeniedDecision {
    const base = `The token's SMART scopes grant no ${LETTER_NAMES[letter]} of ${type}`;
    if (grant.unusable.length === 0) return denied(base);
    return denied(
      `${base}: criteria the gateway cannot enforce make these scopes unusable: ${grant.unusable.join('; ')}`,
    );
  }
}

/** The scope letter a request needs; undefined for requests no scope grants (system level, other operations). */
export function letterOf(req: FhirRequest): Letter | undefined {
  switch (req.interaction) {
    case 'read':
    case 'vread':
    case 'history-instance':
      return 'r';
    case 'operation-instance':
      return req.resourceType === 'Patient' && req.operation === 'everything' ? 'r' : undefined;
    case 'search-type':
    case 'search-compartment':
    case 'paging':
      return 's';
    case 'create':
      return 'c';
    case 'update':
    case 'patch':
      return 'u';
    case 'delete':
      return 'd';
    default:
      return undefined;
  }
}

function matchesAny(resource: unknown, criteria: readonly (readonly QueryParam[])[] | undefined): boolean {
  if (criteria === undefined) return true;
  if (typeof resource !== 'object' || resource === null) return false;
  return criteria.some((c) => matchesCriteria(resource as Parameters<typeof matchesCriteria>[0], c));
}

function outside(
  what: string,
  letter: Letter,
  criteria: readonly (readonly QueryParam[])[] | undefined,
): DeniedDecision {
  return denied(
    `${what} does not match the criteria of the scopes that grant ${LETTER_NAMES[letter]} (${describe(criteria ?? [])})`,
  );
}

/**
 * A refusal that depends on the stored version read (contract.ts `afterReading`): composed with
 * another checker (ACCESS_CHECKER=patient,list), that checker's 404 answers instead, so the
 * refusal does not tell that a resource it hides exists.
 */
function read(refusal: DeniedDecision): DeniedDecision {
  return { ...refusal, afterReading: true };
}

function describe(criteria: readonly (readonly QueryParam[])[]): string {
  return criteria.map((c) => formatQuery(c)).join(' or ');
}

/**
 * The criterion appended to the client's params. Added params replace same-name ones, so the
 * client's own params of those names are added again first: AND, never a replacement.
 */
function appended(query: readonly QueryParam[], criterion: readonly QueryParam[]): RequestMutation {
  const names = new Set(criterion.map((p) => p.name));
  return {
    discardParams: [...names],
    addParams: [...query.filter((p) => names.has(p.name)), ...criterion],
  };
}

/** A searchset whose entries the gateway filters: its total would count the ones removed. */
async function withoutTotal(_req: FhirRequest, res: BackendResponse): Promise<unknown> {
  const body = res.json() as { resourceType?: unknown; total?: unknown } | null;
  if (body?.resourceType !== 'Bundle' || body.total === undefined) return undefined;
  const { total: _total, ...rest } = body;
  return rest;
}
