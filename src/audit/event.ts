/**
 * One AuditEvent (FHIR R4) in the shape of the IHE BALP RESTful profiles: agents for the client
 * application, the gateway (the server the client talked to) and the user; entities for the
 * request id, the resource acted on, the query, and the Patients touched. It takes plain facts
 * (facts.ts finds them in an exchange) and writes the event's JSON text directly: the fixed parts
 * are serialized once, at load, because a search can name hundreds of Patients and every
 * microsecond here is spent on every audited request.
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
import type { AuditKind } from './interaction.js';

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
  readonly patients: { readonly shown: Iterable<string>; readonly named: readonly string[] };
}

const json = JSON.stringify;
const codingJson = new Map<Coding, string>();
/** The JSON of one of the codes.ts constants, serialized once. */
function coded(coding: Coding): string {
  let text = codingJson.get(coding);
  if (text === undefined) {
    text = json(coding);
    codingJson.set(coding, text);
  }
  return text;
}
const subtypeJson = new Map<string, string>();
function subtype(code: string): string {
  let text = subtypeJson.get(code);
  if (text === undefined) {
    text = json(restfulInteraction(code));
    subtypeJson.set(code, text);
  }
  return text;
}

/** The agents' JSON that depends on the principal alone, serialized once per principal. */
interface PrincipalJson {
  /** `"who":…` of the client agent. */
  readonly client: string;
  /** From `"who"` to the end of the user agent, but its closing brace. */
  readonly user: string;
}
const principalJsons = new WeakMap<Principal, PrincipalJson>();
function principalJson(principal: Principal): PrincipalJson {
  let text = principalJsons.get(principal);
  if (text === undefined) {
    const { user } = principal;
    let userJson = `"who":${json(user.who)}`;
    if (user.name !== undefined) userJson += `,"name":${json(user.name)}`;
    userJson += ',"requestor":true';
    if (user.policy !== undefined) userJson += `,"policy":${json(user.policy)}`;
    text = { client: `"who":${json(principal.client)}`, user: userJson };
    principalJsons.set(principal, text);
  }
  return text;
}

/** A code without its display: the patient entity repeats once per Patient, hundreds of times for a large search. */
const codeOnly = ({ system, code }: Coding): string => json({ system, code });
const PATIENT = `{"type":${codeOnly(ENTITY.person)},"role":${codeOnly(ENTITY.patientRole)},"what":`;
const SHOWN_PATIENT = `${PATIENT}{"reference":"Patient/`;
const NAMED_PATIENT = `${PATIENT}{"type":"Patient","identifier":{"system":${json(REQUESTED_SYSTEM)},"value":"Patient/`;
const DATA = `{"type":${json(ENTITY.systemObject)},"role":${json(ENTITY.domainResourceRole)}`;
const QUERY = `{"type":${json(ENTITY.systemObject)},"role":${json(ENTITY.queryRole)}`;
const REQUEST_ID = `{"type":${json(ENTITY.requestId)},"what":{"identifier":{"value":`;
const SOURCE_TYPE = json([APPLICATION_SERVER]);
const REST_TYPE = json(REST_EVENT);

/** The AuditEvent's JSON text. */
export function auditEventJson(context: RequestContext, facts: EventFacts): string {
  const { kind } = facts;
  const { principal, gatewayBase } = context;
  const base = json(gatewayBase);
  const who = principalJson(principal);
  const { shown, named } = facts.patients;
  let patients = '';
  let patientCount = 0;
  for (const id of shown) {
    patients += `,${SHOWN_PATIENT}${id}"}}`;
    patientCount++;
  }
  for (const id of named) patients += `,${NAMED_PATIENT}${id}"}}}`;
  patientCount += named.length;

  const profile = profileOf(kind, facts.outcome, patientCount);
  let out = '{"resourceType":"AuditEvent"';
  if (profile !== undefined) out += `,"meta":{"profile":[${json(profile)}]}`;
  out += `,"type":${REST_TYPE},"subtype":[${subtype(kind.subtype)}],"action":"${kind.action}"`;
  out += `,"period":{"start":"${context.start}","end":"${context.end}"},"recorded":"${context.end}"`;
  out += `,"outcome":"${facts.outcome}"`;
  if (facts.outcomeDesc !== undefined) out += `,"outcomeDesc":${json(facts.outcomeDesc)}`;
  out += `,"agent":[{"type":{"coding":[${coded(kind.roles.client)}]},${who.client}`;
  out += `,"requestor":false,"network":{"address":${json(context.clientAddress)},"type":"${NETWORK.ipAddress}"}}`;
  out += `,{"type":{"coding":[${coded(kind.roles.server)}]},"who":{"display":${base}}`;
  out += `,"requestor":false,"network":{"address":${base},"type":"${NETWORK.uri}"}}`;
  out += `,{"type":{"coding":[${coded(kind.roles.user)}]},${who.user}`;
  out += `}],"source":{"observer":{"display":${base}},"type":${SOURCE_TYPE}}`;
  out += `,"entity":[${REQUEST_ID}${json(context.requestId)}}}}`;
  if (facts.data !== undefined) {
    out += `,${DATA},"what":${json(facts.data.what)}`;
    if (facts.data.description !== undefined) out += `,"description":${json(facts.data.description)}`;
    out += '}';
  }
  if (facts.query !== undefined) {
    const raw = Buffer.from(facts.query.raw, 'utf8').toString('base64');
    out += `,${QUERY},"description":${json(facts.query.description)},"query":"${raw}"}`;
  }
  return `${out}${patients}]}`;
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
