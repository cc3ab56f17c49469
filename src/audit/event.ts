/**
 * One AuditEvent (FHIR R4) in the shape of the IHE BALP RESTful profiles: agents for the client
 * application, the gateway (the server the client talked to) and the user; entities for the
 * request id, the resource acted on, the query, and the Patients touched. It takes plain facts
 * (facts.ts finds them in an exchange) and writes the event's JSON as UTF-8 bytes directly
 * (encoded.ts): the fixed parts are serialized and encoded once, at load, because a search can
 * name hundreds of Patients and every microsecond here is spent on every audited request.
 */
import type { Reference } from '../access/contract.js';
import {
  APPLICATION_SERVER,
  balpProfileUrl,
  type Coding,
  ENTITY,
  NETWORK,
  OUTCOME,
  REQUESTED_SYSTEM,
  REST_EVENT,
  restfulInteraction,
} from './codes.js';
import { EventBytes } from './encoded.js';
import type { AuditKind, Roles } from './interaction.js';

/** Who made the request; never the token itself. */
export interface Principal {
  readonly user: { readonly who: Reference; readonly name?: string; readonly policy?: readonly string[] };
  readonly client: Reference;
}

/** What every event of one HTTP request shares. */
export interface RequestContext {
  readonly principal: Principal;
  /** The client's network address (X-Forwarded-For only with TRUST_PROXY). */
  readonly clientAddress: string;
  /** The gateway's public FHIR base URL for this request. */
  readonly gatewayBase: string;
  /** The X-Request-ID the client got. */
  readonly requestId: string;
  /** ISO 8601 instants. */
  readonly start: string;
  readonly end: string;
}

/** What one event records. */
export interface EventFacts {
  readonly kind: AuditKind;
  readonly outcome: string;
  readonly outcomeDesc?: string;
  /** The resource acted on (`what`), when the kind names one. */
  readonly data?: { readonly what: Reference; readonly description?: string };
  readonly query?: { readonly description: string; readonly raw: string };
  /**
   * The Patients touched, by id (FHIR ids: nothing to escape). `shown`: the answer (or the stored
   * write) names them, so they exist and are referenced; `named`: only the request names them,
   * so they are identified, not referenced (a reference might not resolve).
   */
  readonly patients: { readonly shown: ReadonlySet<string>; readonly named: readonly string[] };
}

const json = JSON.stringify;
/** UTF-8 bytes of a text that is part of every event, made once. */
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/**
 * The agents, source and opening of the entities, which depend only on the kind's roles, the
 * principal and the gateway's base URL: encoded once per principal, kind of roles and base. The
 * client's network address goes between the two halves.
 */
interface AgentBytes {
  /** From `,"agent":[` to the client agent's `"address":`. */
  readonly beforeAddress: Buffer;
  /** From after the client's address to the request id entity's `"value":`. */
  readonly afterAddress: Buffer;
}
interface PrincipalAgents {
  base: string;
  readonly byRoles: Map<Roles, AgentBytes>;
}
const principalAgents = new WeakMap<Principal, PrincipalAgents>();

function agentBytes(principal: Principal, roles: Roles, base: string): AgentBytes {
  let cached = principalAgents.get(principal);
  if (cached === undefined || cached.base !== base) {
    cached = { base, byRoles: new Map() };
    principalAgents.set(principal, cached);
  }
  let bytes = cached.byRoles.get(roles);
  if (bytes === undefined) {
    bytes = agentsOf(principal, roles, base);
    cached.byRoles.set(roles, bytes);
  }
  return bytes;
}

function agentsOf(principal: Principal, roles: Roles, gatewayBase: string): AgentBytes {
  const { user } = principal;
  const base = json(gatewayBase);
  const coded = (coding: Coding) => `{"type":{"coding":[${json(coding)}]}`;
  let userAgent = `${coded(roles.user)},"who":${json(user.who)}`;
  if (user.name !== undefined) userAgent += `,"name":${json(user.name)}`;
  userAgent += ',"requestor":true';
  if (user.policy !== undefined) userAgent += `,"policy":${json(user.policy)}`;
  return {
    beforeAddress: utf8(
      `,"agent":[${coded(roles.client)},"who":${json(principal.client)},"requestor":false,"network":{"address":`,
    ),
    afterAddress: utf8(
      `,"type":"${NETWORK.ipAddress}"}},${coded(roles.server)},"who":{"display":${base}},"requestor":false,` +
        `"network":{"address":${base},"type":"${NETWORK.uri}"}},${userAgent}}],` +
        `"source":{"observer":{"display":${base}},"type":${json([APPLICATION_SERVER])}},` +
        `"entity":[{"type":${json(ENTITY.requestId)},"what":{"identifier":{"value":`,
    ),
  };
}

/** From the start of the event to the period's start instant, by kind and profile. */
const heads = new Map<AuditKind, Map<string | undefined, Buffer>>();
function headBytes(kind: AuditKind, profile: string | undefined): Buffer {
  let byProfile = heads.get(kind);
  if (byProfile === undefined) {
    byProfile = new Map();
    heads.set(kind, byProfile);
  }
  let bytes = byProfile.get(profile);
  if (bytes === undefined) {
    const meta = profile === undefined ? '' : `,"meta":{"profile":[${json(profile)}]}`;
    bytes = utf8(
      `{"resourceType":"AuditEvent"${meta},"type":${json(REST_EVENT)},` +
        `"subtype":[${json(restfulInteraction(kind.subtype))}],"action":"${kind.action}","period":{"start":"`,
    );
    byProfile.set(profile, bytes);
  }
  return bytes;
}

/** A code without its display: the patient entity repeats once per Patient, hundreds of times for a large search. */
const codeOnly = ({ system, code }: Coding): string => json({ system, code });
const PATIENT = `,{"type":${codeOnly(ENTITY.person)},"role":${codeOnly(ENTITY.patientRole)},"what":`;
/** A patient entity around its id: the bytes before the first id, between two ids, after the last. */
interface PatientEntity {
  readonly first: Buffer;
  readonly between: Buffer;
  readonly last: Buffer;
}
const patientEntity = (open: string, close: string): PatientEntity => ({
  first: utf8(open),
  between: utf8(close + open),
  last: utf8(close),
});
const SHOWN_PATIENT = patientEntity(`${PATIENT}{"reference":"Patient/`, '"}}');
const NAMED_PATIENT = patientEntity(
  `${PATIENT}{"type":"Patient","identifier":{"system":${json(REQUESTED_SYSTEM)},"value":"Patient/`,
  '"}}}',
);
const DATA = utf8(`,{"type":${json(ENTITY.systemObject)},"role":${json(ENTITY.domainResourceRole)},"what":`);
const QUERY = utf8(`,{"type":${json(ENTITY.systemObject)},"role":${json(ENTITY.queryRole)},"description":`);
const QUERY_RAW = utf8(',"query":"');
const QUERY_END = utf8('"}');
const PERIOD_END = utf8('","end":"');
const RECORDED = utf8('"},"recorded":"');
const OUTCOME_OPEN = utf8('","outcome":"');
const OUTCOME_DESC = utf8('","outcomeDesc":');
const QUOTE = utf8('"');
const REQUEST_ID_END = utf8('}}}');
const DESCRIPTION = utf8(',"description":');
const CLOSE_OBJECT = utf8('}');
const CLOSE_EVENT = utf8(']}');

const out = new EventBytes();

/** The AuditEvent's JSON as UTF-8 (a view of a slab shared with other events: see encoded.ts). */
export function auditEvent(context: RequestContext, facts: EventFacts): Buffer {
  const { kind } = facts;
  const { shown, named } = facts.patients;
  const agents = agentBytes(context.principal, kind.roles, context.gatewayBase);

  out.begin();
  out.bytes(headBytes(kind, profileOf(kind, facts.outcome, shown.size + named.length)));
  out.ascii(context.start);
  out.bytes(PERIOD_END);
  out.ascii(context.end);
  out.bytes(RECORDED);
  out.ascii(context.end);
  out.bytes(OUTCOME_OPEN);
  out.ascii(facts.outcome);
  if (facts.outcomeDesc !== undefined) {
    out.bytes(OUTCOME_DESC);
    out.json(facts.outcomeDesc);
  } else out.bytes(QUOTE);
  out.bytes(agents.beforeAddress);
  out.json(context.clientAddress);
  out.bytes(agents.afterAddress);
  out.json(context.requestId);
  out.bytes(REQUEST_ID_END);
  if (facts.data !== undefined) {
    out.bytes(DATA);
    out.text(json(facts.data.what));
    if (facts.data.description !== undefined) {
      out.bytes(DESCRIPTION);
      out.json(facts.data.description);
    }
    out.bytes(CLOSE_OBJECT);
  }
  if (facts.query !== undefined) {
    out.bytes(QUERY);
    out.json(facts.query.description);
    out.bytes(QUERY_RAW);
    out.ascii(Buffer.from(facts.query.raw, 'utf8').toString('base64'));
    out.bytes(QUERY_END);
  }
  // Patient ids are FHIR ids ([A-Za-z0-9\-.]): nothing to escape.
  patientEntities(shown, SHOWN_PATIENT);
  patientEntities(named, NAMED_PATIENT);
  out.bytes(CLOSE_EVENT);
  return out.end();
}

function patientEntities(ids: Iterable<string>, entity: PatientEntity): void {
  let next = entity.first;
  for (const id of ids) {
    out.bytes(next);
    out.ascii(id);
    next = entity.between;
  }
  if (next !== entity.first) out.bytes(entity.last);
}

/**
 * The BALP profile the event conforms to. BALP's profiles describe successes only (outcome 0),
 * and its Patient* profiles name exactly one Patient: an event naming several claims the basic
 * profile, whose open slicing admits them (BALP would write one event per Patient instead).
 */
function profileOf(kind: AuditKind, outcome: string, patients: number): string | undefined {
  const family = kind.family;
  if (family === undefined || outcome !== OUTCOME.success) return undefined;
  return balpProfileUrl(patients === 1 ? `Patient${family}` : family);
}
