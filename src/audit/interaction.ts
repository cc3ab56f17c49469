/**
 * What kind of AuditEvent a FHIR interaction gives: its AUDIT_EVENT_ACTIONS_CONFIG letter, its
 * restful-interaction subtype, the BALP profile family it follows and the agents' roles there.
 * Batches and transactions give none of their own: each entry is audited as the request it stands for.
 */
import type { AuditAction } from '../config/index.js';
import type { FhirRequest, Interaction } from '../fhir/request.js';
import { AGENT, type Coding } from './codes.js';

export type ProfileFamily = 'Create' | 'Read' | 'Update' | 'Delete' | 'Query';

export interface AuditKind {
  readonly action: AuditAction;
  /** restful-interaction code. */
  readonly subtype: string;
  /** The BALP profile family, or undefined where BALP has none (history, operations, capabilities). */
  readonly family?: ProfileFamily;
  /** The client's and the gateway's agent types, and the user's. */
  readonly roles: Roles;
  /** Names the resource acted on (BALP's `data` entity). */
  readonly data: boolean;
  /** Records the request as a query entity (BALP's `query` entity). */
  readonly query: boolean;
}

export interface Roles {
  readonly client: Coding;
  readonly server: Coding;
  readonly user: Coding;
}

// BALP: the party the data flows from is the Source Role; for a read that is the server.
const SENDS: Roles = { client: AGENT.source, server: AGENT.destination, user: AGENT.recipient };
const WRITES: Roles = { ...SENDS, user: AGENT.author };
const READS: Roles = { client: AGENT.destination, server: AGENT.source, user: AGENT.recipient };
const DELETES: Roles = { client: AGENT.application, server: AGENT.custodian, user: AGENT.author };

const kind = (
  action: AuditAction,
  subtype: string,
  family: ProfileFamily | undefined,
  roles: Roles,
  data: boolean,
  query: boolean,
): AuditKind => ({ action, subtype, ...(family ? { family } : {}), roles, data, query });

const KINDS: Readonly<Record<Exclude<Interaction, 'batch' | 'transaction' | 'paging'>, AuditKind>> = {
  create: kind('C', 'create', 'Create', WRITES, true, false),
  read: kind('R', 'read', 'Read', READS, true, false),
  vread: kind('R', 'vread', 'Read', READS, true, false),
  update: kind('U', 'update', 'Update', WRITES, true, false),
  patch: kind('U', 'patch', 'Update', WRITES, true, false),
  delete: kind('D', 'delete', 'Delete', DELETES, true, false),
  'search-type': kind('E', 'search-type', 'Query', SENDS, false, true),
  'search-system': kind('E', 'search-system', 'Query', SENDS, false, true),
  // R4's restful-interaction has no code of its own for a compartment search.
  'search-compartment': kind('E', 'search', 'Query', SENDS, false, true),
  'history-instance': kind('R', 'history-instance', undefined, READS, true, false),
  'history-type': kind('R', 'history-type', undefined, READS, false, false),
  'history-system': kind('R', 'history-system', undefined, READS, false, false),
  'operation-system': kind('E', 'operation', undefined, SENDS, false, true),
  'operation-type': kind('E', 'operation', undefined, SENDS, false, true),
  'operation-instance': kind('E', 'operation', undefined, SENDS, true, true),
  capabilities: kind('R', 'capabilities', undefined, READS, false, false),
};

/** The kind of a single interaction; undefined for a batch or transaction (audited per entry). */
export function auditKind(req: FhirRequest): AuditKind | undefined {
  switch (req.interaction) {
    case 'batch':
    case 'transaction':
      return undefined;
    case 'paging':
      // A continuation page is more of the search it continues.
      return req.resourceType === undefined ? KINDS['search-system'] : KINDS['search-type'];
    default:
      return KINDS[req.interaction];
  }
}
