/**
 * The patient-compartment half of the `list` and `patient` checkers: a request is granted when it
 * stays inside the compartments of a set of patients (one patient, or a List's members), and
 * every resource the gateway returns is held to the same rule (`visible`).
 *
 * - Searches must name their patients (params.ts); joins that probe other data (`_has`, chains,
 *   `_list`) and joins that cannot be bounded are refused; `_include`/`_revinclude` are allowed,
 *   their answers checked entry by entry. A compartment search needs its owner in the set.
 * - Reads by id work for every compartment type: the answer is checked (a resource outside is
 *   answered 404). Versions and history are judged on the current version, read first.
 * - Writes: the new version (the body, or the stored version with the JSON Patch applied) must be
 *   in a compartment of the set, and so must the stored version. Out of scope looks missing: a
 *   PATCH or DELETE of a resource outside answers 404 without reaching the FHIR server; a PUT
 *   cannot (it would create), and is refused with 403.
 * - Creating and deleting Patients is the caller's policy (the list checker may, the patient checker not).
 */
import {
  type AccessDecision,
  type DeniedDecision,
  denied,
  type FhirClient,
  type FhirResource,
  type GrantedDecision,
  granted,
  type RequestMutation,
} from '../access/contract.js';
import { storedVersionId, versionGuard } from '../access/version-guard.js';
import { destructiveReach } from '../fhir/destructive.js';
import { joinReach } from '../fhir/joins.js';
import { parseQueryString } from '../fhir/query-string.js';
import type { FhirRequest, QueryParam } from '../fhir/request.js';
import { formatQuery } from '../fhir/serialize.js';
import type { PatchLimits } from '../fhir/json-patch.js';
import { inPatientCompartment } from './definitions.js';
import { inCompartmentOf, type PatientSet } from './membership.js';
import { confinedTo } from './params.js';
import type { ReferenceContext } from './references.js';
import { conditionalMatch, patchedOf, type Resource, storedVersion } from './stored.js';

export interface CompartmentPolicy {
  readonly patients: PatientSet;
  readonly fhir: FhirClient;
  /** The FHIR server's base URL, under which absolute references are local. */
  readonly backendBase: string;
  readonly limits: PatchLimits;
  /** POST Patient and PUT of a Patient id that does not exist (the list checker adds them to its List). */
  readonly createsPatients: boolean;
  /** DELETE of the set's own Patients. */
  readonly deletesPatients: boolean;
}

/** Where a request stands: alone, or as an entry of a Bundle (its `urn:uuid` references resolved). */
export interface EntryContext {
  readonly resolve: (reference: string) => string | undefined;
}

export class CompartmentAccess {
  private readonly references: ReferenceContext;
  /** Bound once: the answer check calls it for every resource. */
  readonly visible = (resource: FhirResource): boolean =>
    inCompartmentOf(resource, this.policy.patients, this.references);

  constructor(private readonly policy: CompartmentPolicy) {
    this.references = { backendBase: policy.backendBase };
  }

  async decide(req: FhirRequest, entry?: EntryContext): Promise<AccessDecision> {
    const refusal = outrightRefusal(req);
    if (refusal) return refusal;
    const type = req.resourceType;
    switch (req.interaction) {
      case 'capabilities':
        return granted();
      case 'paging':
        // A continuation replays a search that was confined when it started; its pages are checked.
        return type !== undefined && inPatientCompartment(type)
          ? this.grant()
          : denied('This paging link continues a search the gateway cannot check');
      case 'search-type':
        return this.confined(req, req.query, entry, 'The search');
      case 'search-compartment':
        return this.compartmentSearch(req);
      case 'read':
      case 'vread':
      case 'history-instance':
        return this.read(req);
      case 'operation-instance':
        if (type === 'Patient' && req.operation === 'everything') return this.read(req);
        return denied(
          `The operation $${req.operation} is not supported for ${this.policy.patients.description}`,
        );
      case 'create':
        return this.create(req, entry);
      case 'update':
        return this.update(req, entry);
      case 'patch':
        return this.patch(req, entry);
      case 'delete':
        return this.delete(req, entry);
      default:
        return denied(
          `A ${req.interaction} request names no patient; ${this.policy.patients.description} can only reach patient compartments`,
        );
    }
  }

  /** Granted with the compartment rule on the answer. */
  grant(extra: Omit<GrantedDecision, 'canAccess' | 'visible'> = {}): GrantedDecision {
    return granted({ ...extra, visible: this.visible });
  }

  private confined(
    req: FhirRequest,
    query: readonly QueryParam[],
    entry: EntryContext | undefined,
    what: string,
  ): AccessDecision {
    const type = req.resourceType!;
    const verdict = confinedTo(type, query, this.policy.patients, what);
    if (!verdict.canAccess) return verdict;
    if (verdict.typed === undefined) return this.grant();
    // In a Bundle, the rewrite travels in a replaced Bundle, which a second checker's could replace.
    if (entry !== undefined && req.conditional && verdict.ambiguous) return ambiguousInBundle(what);
    return this.grant({ mutation: verdict.typed });
  }

  private compartmentSearch(req: FhirRequest): AccessDecision {
    const owner = req.compartment!;
    if (owner.resourceType !== 'Patient' || !this.policy.patients.has(owner.id)) {
      return denied(
        `The compartment ${owner.resourceType}/${owner.id} is outside ${this.policy.patients.description}`,
      );
    }
    if (!inPatientCompartment(req.resourceType!)) {
      return denied(`${req.resourceType} resources are not in a patient's compartment`);
    }
    if (req.resourceType === 'Patient') {
      // The FHIR server's compartment holds the Patients that link to the owner (R4 `link`), which
      // a Patient search by _id does not return.
      return denied(
        `Patient/${owner.id}/Patient returns the patients linked to it; read Patient/${owner.id} or search Patient?_id=`,
        400,
      );
    }
    return this.grant();
  }

  private async read(req: FhirRequest): Promise<AccessDecision> {
    const type = req.resourceType!;
    if (type === 'Patient') {
      return this.policy.patients.has(req.id!)
        ? this.grant()
        : denied(`Patient/${req.id} is outside ${this.policy.patients.description}`);
    }
    if (!inPatientCompartment(type)) {
      return denied(
        `${type} resources are not in a patient's compartment, so ${this.policy.patients.description} cannot read them`,
      );
    }
    if (req.interaction !== 'read') {
      // Versions and history follow the current version (issue 8, R9).
      const stored = await storedVersion(req, this.policy.fhir);
      if (stored.state !== 'present' || !this.visible(stored.resource as FhirResource)) return missing(req);
    }
    return this.grant();
  }

  private create(req: FhirRequest, entry: EntryContext | undefined): AccessDecision {
    const type = req.resourceType!;
    const ifNoneExist = req.headers['if-none-exist'];
    if (type === 'Patient') {
      if (!this.policy.createsPatients)
        return denied(`${this.policy.patients.description} may not create Patients`);
      if (ifNoneExist !== undefined) {
        return denied(
          'A conditional create of a Patient would search every patient; create it without If-None-Exist',
        );
      }
      return this.grant();
    }
    const body = req.body?.json();
    if (!this.holds(body, entry)) {
      return denied(`The new ${type} is not in the compartment of ${this.policy.patients.description}`);
    }
    if (ifNoneExist === undefined) return this.grant();
    const condition = parseQueryString(ifNoneExist, 'If-None-Exist');
    const verdict = confinedTo(type, condition, this.policy.patients, 'If-None-Exist');
    if (!verdict.canAccess) return verdict;
    if (verdict.typed === undefined) return this.grant();
    if (entry !== undefined) {
      return denied(
        'ifNoneExist names a patient by a bare id on a param that can point at other types; write Patient/<id>',
        400,
      );
    }
    const typed = applyMutation(condition, verdict.typed);
    return this.grant({ mutation: { setHeaders: { 'if-none-exist': formatQuery(typed) } } });
  }

  private async update(req: FhirRequest, entry: EntryContext | undefined): Promise<AccessDecision> {
    const type = req.resourceType!;
    const body = req.body?.json();
    if (req.conditional) {
      const verdict = this.confined(req, req.query, entry, 'The conditional update');
      if (!verdict.canAccess) return verdict;
      if (!this.holds(body, entry)) return notInCompartment(type, this.policy.patients);
      return verdict;
    }
    if (type === 'Patient') {
      if (this.policy.patients.has(req.id!)) return this.grant();
      const stored = this.policy.createsPatients ? await storedVersion(req, this.policy.fhir) : undefined;
      // A deleted Patient keeps its history; bringing it back would disclose it.
      if (stored?.state === 'absent') return this.grant();
      return denied(`Patient/${req.id} is outside ${this.policy.patients.description}`);
    }
    if (!inPatientCompartment(type)) return notInCompartment(type, this.policy.patients);
    const stored = await storedVersion(req, this.policy.fhir);
    if (stored.state === 'present' && !this.visible(stored.resource as FhirResource)) {
      return denied(`${type}/${req.id} is outside ${this.policy.patients.description}`);
    }
    if (stored.state === 'deleted')
      return {
        ...denied(`${type}/${req.id} was deleted; it cannot be brought back here`),
        afterReading: true,
      };
    if (!this.holds(body, entry)) return notInCompartment(type, this.policy.patients);
    return this.guarded(req, stored.state === 'present' ? stored.resource : undefined);
  }

  /** Granted, and forwarded only onto the stored version it was judged on (version-guard.ts). */
  private guarded(req: FhirRequest, stored: unknown): AccessDecision {
    const guard = versionGuard(req, storedVersionId(stored));
    if (guard === undefined) return this.grant();
    if ('canAccess' in guard) return guard;
    return this.grant({ mutation: { setHeaders: guard.setHeaders } });
  }

  private async patch(req: FhirRequest, entry: EntryContext | undefined): Promise<AccessDecision> {
    const type = req.resourceType!;
    let stored: Resource | undefined;
    let decision: AccessDecision;
    if (req.conditional) {
      const verdict = this.confined(req, req.query, entry, 'The conditional patch');
      if (!verdict.canAccess) return verdict;
      decision = verdict;
      stored = await conditionalMatch(req, this.policy.fhir, applyMutation(req.query, verdict.mutation));
      if (stored === undefined) return decision; // the FHIR server answers 404 or 412
    } else {
      if (type === 'Patient' && !this.policy.patients.has(req.id!)) return missing(req);
      if (!inPatientCompartment(type)) return notInCompartment(type, this.policy.patients);
      const current = await storedVersion(req, this.policy.fhir);
      if (current.state !== 'present' || !this.visible(current.resource as FhirResource)) return missing(req);
      stored = current.resource;
      decision = this.guarded(req, stored);
      if (!decision.canAccess) return decision;
    }
    // Refusals from here on depend on the stored resource read above (afterReading).
    const patched = patchedOf(req, stored, this.policy.limits);
    if (!('ok' in patched)) return { ...patched, afterReading: true };
    if (!this.holds(patched.resource, entry)) {
      return {
        ...denied(`The patched ${type} would leave the compartment of ${this.policy.patients.description}`),
        afterReading: true,
      };
    }
    return decision;
  }

  private async delete(req: FhirRequest, entry: EntryContext | undefined): Promise<AccessDecision> {
    const type = req.resourceType!;
    if (type === 'Patient' && !this.policy.deletesPatients) {
      return denied(`${this.policy.patients.description} may not delete Patients`);
    }
    if (req.conditional) return this.confined(req, req.query, entry, 'The conditional delete');
    if (type === 'Patient') return this.policy.patients.has(req.id!) ? this.grant() : missing(req);
    if (!inPatientCompartment(type)) return notInCompartment(type, this.policy.patients);
    const stored = await storedVersion(req, this.policy.fhir);
    if (stored.state !== 'present' || !this.visible(stored.resource as FhirResource)) return missing(req);
    return this.grant();
  }

  /** True when a new version is in a compartment of the set (Bundle-local references resolved). */
  private holds(resource: unknown, entry: EntryContext | undefined): boolean {
    const context = entry ? { ...this.references, resolve: entry.resolve } : this.references;
    return inCompartmentOf(resource, this.policy.patients, context);
  }
}

/**
 * Joins that search other data without returning it (`_has`, chains, `_list`, search references in
 * a body) are refused: no check of the answer can undo what they disclose. Joins whose reach
 * cannot be named are refused too, except a patient's `$everything`, whose answer is checked.
 */
function joinRefusal(req: FhirRequest): DeniedDecision | undefined {
  const reach = joinReach(req);
  if (reach.probes.size > 0) {
    const via = [...reach.probes].map((type) => reach.via.get(type)).join(', ');
    return denied(`Searching other data (${via}) is not supported for patient-level access`, 400);
  }
  const everything =
    req.interaction === 'operation-instance' &&
    req.resourceType === 'Patient' &&
    req.operation === 'everything';
  const unbounded = reach.unboundedBy.filter((by) => !(everything && by === 'Patient/$everything'));
  if (unbounded.length > 0)
    return denied(`${unbounded.join(', ')} cannot be bounded to patient compartments`);
  return undefined;
}

/**
 * What is refused from the request alone, before any lookup (so hidden and missing resources get
 * the same answer): joins that cannot be confined, destructive extensions.
 */
export function outrightRefusal(req: FhirRequest): DeniedDecision | undefined {
  return joinRefusal(req) ?? destructiveRefusal(req);
}

/**
 * Destructive extensions (`_cascade`, `_expunge`, `$expunge`, X-Cascade; src/fhir/destructive.ts)
 * erase data beyond the resource the request names, in any patient's compartment: refused, before
 * any lookup, so a hidden resource and a missing one get the same answer.
 */
function destructiveRefusal(req: FhirRequest): DeniedDecision | undefined {
  const destructive = destructiveReach(req);
  if (destructive === undefined) return undefined;
  return denied(
    `${destructive.by.join(', ')} would erase data beyond the request; not supported for patient-level access`,
  );
}

function ambiguousInBundle(what: string): DeniedDecision {
  return denied(
    `${what} names a patient by a bare id on a param that can point at other types; write Patient/<id>`,
    400,
  );
}

function missing(req: FhirRequest): DeniedDecision {
  return denied(`Resource ${req.resourceType}/${req.id} is not known`, 404);
}

function notInCompartment(type: string, patients: PatientSet): DeniedDecision {
  return denied(`The new ${type} is not in the compartment of ${patients.description}`);
}

/** As the pipeline applies a mutation: discard names, then added params replace same-name ones. */
export function applyMutation(
  query: readonly QueryParam[],
  mutation: RequestMutation | undefined,
): QueryParam[] {
  if (mutation === undefined) return [...query];
  const added = mutation.addParams ?? [];
  const removed = new Set([...(mutation.discardParams ?? []), ...added.map((p) => p.name)]);
  return [...query.filter((p) => !removed.has(p.name)), ...added];
}
