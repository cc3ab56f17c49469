/**
 * The `patient` access checker (ACCESS_CHECKER=patient): a SMART app acting for one patient. The
 * token names the patient (`patient_id`, as google/fhir-gateway, or `patient`, the SMART launch
 * context name) and carries SMART scopes (`scope`). A request is granted when it stays in that
 * patient's compartment (src/patient/compartment-access.ts) and a scope grants it
 * (scope-access.ts); every resource returned is held to both.
 */
import { LRUCache } from 'lru-cache';
import { composeCheckers } from '../access/compose.js';
import {
  type AccessChecker,
  type AccessCheckerFactory,
  type AccessDecision,
  type DeniedDecision,
  denied,
  type FhirClient,
  type FhirResource,
  type GatewayContext,
} from '../access/contract.js';
import { ensureSearchParameters } from '../fhir/definitions.js';
import type { FhirRequest } from '../fhir/request.js';
import { bundleAccess } from '../patient/bundle.js';
import { CompartmentAccess, type EntryContext, outrightRefusal } from '../patient/compartment-access.js';
import { inPatientCompartment } from '../patient/definitions.js';
import { idClaim, patientAccessSettings } from '../patient/settings.js';
import { storedVersion } from '../patient/stored.js';
import { ScopeAccess } from './scope-access.js';
import { parseScopes } from './scopes.js';

export const PATIENT_CLAIMS = ['patient_id', 'patient'] as const;

/** Scopes parsed once per distinct `scope` claim (and their malformed ones logged once). */
const scopeCaches = new WeakMap<GatewayContext, LRUCache<string, ScopeAccess>>();

export const patientChecker: AccessCheckerFactory = {
  name: 'patient',
  smart: {
    capabilities: ['permission-v2', 'permission-v1', 'permission-patient', 'context-standalone-patient'],
    scopesSupported: [
      'launch/patient',
      'patient/*.cruds',
      'user/*.cruds',
      'system/*.cruds',
      'patient/*.*',
      'user/*.*',
    ],
  },

  async init() {
    ensureSearchParameters();
    inPatientCompartment('Patient');
  },

  async create(token, ctx): Promise<AccessChecker> {
    const patientId = idClaim(token.claims, PATIENT_CLAIMS);
    if (patientId === undefined) {
      const refusal = denied(
        'The token names no patient: the patient checker needs a patient_id (or patient) claim with a FHIR id',
        401,
      );
      return { checkAccess: async () => refusal };
    }
    const settings = patientAccessSettings(ctx);
    const compartment = new CompartmentAccess({
      patients: { has: (id) => id === patientId, description: `Patient/${patientId}` },
      fhir: ctx.fhirClient,
      backendBase: settings.backendBase,
      limits: settings.limits,
      createsPatients: false,
      deletesPatients: false,
    });
    return new PatientChecker(compartment, scopeAccess(token.claims.scope, ctx), ctx.fhirClient);
  },
};

class PatientChecker implements AccessChecker {
  constructor(
    private readonly compartment: CompartmentAccess,
    private readonly scopes: ScopeAccess,
    private readonly fhir: FhirClient,
  ) {}

  async checkAccess(req: FhirRequest): Promise<AccessDecision> {
    if (req.interaction !== 'batch' && req.interaction !== 'transaction') return this.one(req);
    const decision = await bundleAccess(req, (entry, context) => this.one(entry, context));
    if (!decision.canAccess) return decision;
    const inCompartment = this.compartment.visible;
    const scoped = this.scopes.visibleFor(req);
    return { ...decision, visible: (resource) => inCompartment(resource) && scoped(resource) };
  }

  private async one(req: FhirRequest, entry?: EntryContext): Promise<AccessDecision> {
    const noScope = this.scopes.coarse(req) ?? outrightRefusal(req);
    if (noScope) return noScope;
    const hidden = await this.hiddenTarget(req);
    if (hidden) return hidden;
    const compartment = await this.compartment.decide(req, entry);
    if (!compartment.canAccess) return compartment;
    const scoped = await this.scopes.decide(req);
    if (!scoped.canAccess) return scoped;
    return composeCheckers([fixed(compartment), fixed(scoped)]).checkAccess(req);
  }

  /**
   * Out of scope looks missing (docs/security.md, 5): a PATCH or DELETE of a resource the caller
   * cannot read, because it is outside the compartment or outside every read criterion, answers
   * 404 as for a missing id, before either half could answer differently (403 for a patch that
   * leaves the compartment, or for a stored version outside the u/d criteria).
   */
  private async hiddenTarget(req: FhirRequest): Promise<DeniedDecision | undefined> {
    if ((req.interaction !== 'patch' && req.interaction !== 'delete') || req.conditional) return undefined;
    const type = req.resourceType!;
    if (type === 'Patient' || !inPatientCompartment(type)) return undefined; // decided without a read
    const stored = await storedVersion(req, this.fhir);
    if (stored.state !== 'present') return undefined;
    const resource = stored.resource as FhirResource;
    if (this.compartment.visible(resource) && this.scopes.readable(resource)) return undefined;
    return denied(`Resource ${type}/${req.id} is not known`, 404);
  }
}

function scopeAccess(claim: unknown, ctx: GatewayContext): ScopeAccess {
  let cache = scopeCaches.get(ctx);
  if (cache === undefined) {
    cache = new LRUCache({ max: 1000 });
    scopeCaches.set(ctx, cache);
  }
  const key = typeof claim === 'string' ? claim : JSON.stringify(claim ?? null);
  let access = cache.get(key);
  if (access === undefined) {
    const parsed = parseScopes(claim);
    if (parsed.malformed.length > 0) {
      ctx.logger.warn(
        { malformedScopes: parsed.malformed },
        'Ignored SMART scopes that break the scope grammar',
      );
    }
    const settings = patientAccessSettings(ctx);
    access = new ScopeAccess(parsed.scopes, ctx.fhirClient, settings.limits);
    cache.set(key, access);
  }
  return access;
}

function fixed(decision: AccessDecision): AccessChecker {
  return { checkAccess: async () => decision };
}
