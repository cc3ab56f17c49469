/**
 * The `list` access checker (ACCESS_CHECKER=list): a user limited to the patients of one FHIR
 * List, named by the token's `patient_list` claim. A request is granted when it stays in the
 * compartments of the List's members (src/patient/compartment-access.ts), and every resource
 * returned is held to the same rule; the List itself may be read, never written or deleted.
 *
 * New patients: a POST of a Patient, or a PUT of a Patient id that does not exist yet, is granted
 * (as upstream: clinicians register patients), and after the FHIR server created it (201) the
 * gateway adds it to the List, alone or as Bundle entries; when that fails (no such List), the
 * Patient stays outside it and the create's answer loses its body. A conditional create of a
 * Patient is refused: its match (200) would name a patient outside the List.
 */
import { composeCheckers } from '../access/compose.js';
import {
  type AccessChecker,
  type AccessCheckerFactory,
  type AccessDecision,
  type BackendResponse,
  denied,
  type FhirResource,
  type GatewayContext,
  type GrantedDecision,
  granted,
} from '../access/contract.js';
import { ensureSearchParameters } from '../fhir/definitions.js';
import type { FhirRequest } from '../fhir/request.js';
import { bundleAccess } from '../patient/bundle.js';
import { CompartmentAccess, type EntryContext } from '../patient/compartment-access.js';
import { inPatientCompartment } from '../patient/definitions.js';
import { NEW_PATIENT } from '../patient/references.js';
import { idClaim, patientAccessSettings } from '../patient/settings.js';
import { ListMembers } from './members.js';

export const LIST_CLAIM = 'patient_list';

const membersByGateway = new WeakMap<GatewayContext, ListMembers>();

export const listChecker: AccessCheckerFactory = {
  name: 'list',

  async init(ctx) {
    ensureSearchParameters();
    inPatientCompartment('Patient');
    membersOf(ctx);
  },

  async create(token, ctx): Promise<AccessChecker> {
    const listId = idClaim(token.claims, [LIST_CLAIM]);
    if (listId === undefined) {
      const refusal = denied(
        'The token names no patient list: the list checker needs a patient_list claim with a List id',
        401,
      );
      return { checkAccess: async () => refusal };
    }
    return new ListChecker(listId, membersOf(ctx), ctx);
  },
};

function membersOf(ctx: GatewayContext): ListMembers {
  let members = membersByGateway.get(ctx);
  if (members === undefined) {
    members = new ListMembers(ctx.fhirClient, patientAccessSettings(ctx).backendBase, ctx.logger);
    membersByGateway.set(ctx, members);
  }
  return members;
}

class ListChecker implements AccessChecker {
  constructor(
    private readonly listId: string,
    private readonly lists: ListMembers,
    private readonly ctx: GatewayContext,
  ) {}

  async checkAccess(req: FhirRequest): Promise<AccessDecision> {
    const members = await this.lists.of(this.listId);
    // Patients this request creates: shown in its answer once the List has them.
    const created = new Set<string>();
    const settings = patientAccessSettings(this.ctx);
    const compartment = new CompartmentAccess({
      // A Patient created by an earlier entry of the same Bundle will be added to the List.
      patients: {
        has: (id) => members.has(id) || created.has(id) || id === NEW_PATIENT,
        description: `the patients of List/${this.listId}`,
      },
      fhir: this.ctx.fhirClient,
      backendBase: settings.backendBase,
      limits: settings.limits,
      createsPatients: true,
      deletesPatients: true,
    });
    const visible = (resource: FhirResource) => this.isOwnList(resource) || compartment.visible(resource);
    const one = (request: FhirRequest, entry?: EntryContext) =>
      this.one(request, compartment, { members, created }, entry);
    if (req.interaction !== 'batch' && req.interaction !== 'transaction') {
      const decision = await one(req);
      return decision.canAccess ? { ...decision, visible } : decision;
    }
    const decision = await bundleAccess(req, one);
    if (!decision.canAccess) return decision;
    return { ...decision, visible, ...this.forgetListsAfter(req, decision) };
  }

  private async one(
    req: FhirRequest,
    compartment: CompartmentAccess,
    { members, created }: { members: ReadonlySet<string>; created: Set<string> },
    entry?: EntryContext,
  ): Promise<AccessDecision> {
    if (req.resourceType === 'List') {
      const rule = this.listRule(req);
      if (rule) return rule;
    }
    const decision = await compartment.decide(req, entry);
    if (!decision.canAccess) return decision;
    if (req.resourceType === 'List') return { ...decision, ...this.forgetListsAfter(req, decision) };
    if (req.resourceType !== 'Patient' || (req.interaction !== 'create' && req.interaction !== 'update')) {
      return decision;
    }
    // A Patient the FHIR server created (POST, or PUT of a new id: 201, or 200 from some servers) joins the List.
    const addCreated = async (_req: FhirRequest, res: BackendResponse): Promise<undefined> => {
      const id = res.status >= 200 && res.status < 300 ? createdId(res) : undefined;
      if (id === undefined || members.has(id)) return undefined;
      // Only a Patient now in the List is the caller's to see, in this answer too.
      if (await this.lists.add(this.listId, [id])) created.add(id);
      return undefined;
    };
    return composeCheckers([
      fixed(decision),
      fixed({ canAccess: true, postProcess: addCreated }),
    ]).checkAccess(req);
  }

  /**
   * The List that grants access: read it (also its versions), nothing else; other Lists are in a
   * patient's compartment like any resource, but only by id (searching Lists is refused, as upstream).
   */
  private listRule(req: FhirRequest): AccessDecision | undefined {
    const own = req.id === this.listId;
    const reads =
      req.interaction === 'read' || req.interaction === 'vread' || req.interaction === 'history-instance';
    if (own && reads) return granted();
    if (own)
      return denied(
        `List/${this.listId} is the list that grants your access; it cannot be changed or deleted here`,
      );
    if (req.interaction === 'search-type' || req.interaction === 'search-compartment') {
      return denied('Searching Lists is not supported for list-based access; read your List by id');
    }
    // The FHIR server picks a conditional write's target by a search, whose match may be the access
    // List itself (when a member is its subject or source): write other Lists by id.
    if (req.conditional && req.interaction !== 'create') {
      return denied(
        `A conditional ${req.interaction} of a List could change List/${this.listId}, the list that grants your access; write Lists by id`,
      );
    }
    const body = req.body === undefined ? undefined : (req.body.json() as { id?: unknown } | null);
    if (body?.id === this.listId) {
      return denied(`List/${this.listId} is the list that grants your access; it cannot be overwritten`);
    }
    return undefined;
  }

  private isOwnList(resource: FhirResource): boolean {
    return resource.resourceType === 'List' && resource.id === this.listId;
  }

  /** A write of a List (someone's access list, perhaps) makes the gateway read it again next time. */
  private forgetListsAfter(
    req: FhirRequest,
    decision: GrantedDecision,
  ): Pick<GrantedDecision, 'postProcess'> {
    const writesLists =
      req.interaction === 'batch' || req.interaction === 'transaction'
        ? JSON.stringify(req.body?.json() ?? null).includes('"List')
        : req.interaction !== 'read' && req.interaction !== 'vread' && req.interaction !== 'history-instance';
    if (!writesLists) return decision.postProcess ? { postProcess: decision.postProcess } : {};
    const listId = req.resourceType === 'List' && !req.conditional ? req.id : undefined;
    return {
      postProcess: async (request, res) => {
        const output = decision.postProcess ? await decision.postProcess(request, res) : undefined;
        this.lists.forget(listId);
        return output;
      },
    };
  }
}

/** The id of the created Patient: the answer's body, or its Location (`Prefer: return=minimal`). */
function createdId(res: BackendResponse): string | undefined {
  try {
    const body = res.json() as { resourceType?: unknown; id?: unknown } | undefined;
    if (body?.resourceType === 'Patient' && typeof body.id === 'string') return body.id;
  } catch {
    // no body: fall back to Location
  }
  const location = res.headers.location ?? res.headers['content-location'] ?? '';
  return /Patient\/([A-Za-z0-9\-.]{1,64})/.exec(location)?.[1];
}

function fixed(decision: AccessDecision): AccessChecker {
  return { checkAccess: async () => decision };
}
