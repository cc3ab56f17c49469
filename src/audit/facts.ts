/**
 * The facts of the AuditEvents one exchange gives: one event per interaction, and one per entry
 * for a batch or transaction. Each names what was acted on, the query, the Patients touched and the
 * outcome, from the parsed request, the answer's status and headers, and what AnswerCapture kept.
 */
import type { AuditAction } from '../config/index.js';
import { bundleEntries, parseEntryRequest } from '../fhir/bundle-entry.js';
import { isFhirId } from '../fhir/ids.js';
import type { FhirRequest } from '../fhir/request.js';
import { formatPath, formatQuery, isFormSearch } from '../fhir/serialize.js';
import type { Exchange } from '../server/pipeline/exchange.js';
import type { AnswerCapture } from './answer-capture.js';
import { DELETED_SYSTEM, OUTCOME, REQUESTED_SYSTEM } from './codes.js';
import type { EventFacts } from './event.js';
import { type AuditKind, auditKind } from './interaction.js';
import { PatientScanner, requestedPatients } from './patients.js';

/** The answer as the client got it. */
export interface AnswerFacts {
  readonly status: number;
  /** `Location`, else `Content-Location`. */
  readonly location?: string;
  readonly etag?: string;
  readonly capture?: AnswerCapture;
}

export function factsOf(
  exchange: Exchange,
  answer: AnswerFacts,
  actions: ReadonlySet<AuditAction>,
): EventFacts[] {
  const req = exchange.fhir;
  if (req === undefined) return [];
  if (req.interaction === 'batch' || req.interaction === 'transaction') {
    return entryFacts(exchange, req, answer, actions);
  }
  const kind = auditKind(req);
  if (kind === undefined || !actions.has(kind.action)) return [];
  const success = answer.status < 400;
  const answered = success ? answer.capture?.patients() : undefined;
  const cut = success && answer.capture?.complete === false;
  let target = targetOf(req, answer.location, answer.etag);
  if (success && target.id === undefined && kind.data)
    target = answeredTarget(target, answer.capture?.body());
  // The capture's set is this request's own: added to, not copied.
  const confirmed = answered ?? new Set<string>();
  if (
    success &&
    answer.capture?.head() === undefined &&
    (kind.subtype === 'create' || kind.subtype === 'update')
  ) {
    // `Prefer: return=minimal`: the stored resource is the one sent.
    if (req.body !== undefined) scanInto(confirmed, req.body.bytes.toString('latin1'), exchange.baseUrl);
  }
  return [
    {
      kind,
      ...outcomeOf(answer.status, success ? undefined : outcomeText(answer.capture?.head())),
      ...(cut ? { outcomeDesc: 'The client went away before the end of the answer' } : {}),
      ...(kind.data ? { data: dataOf(req, kind, target, success) } : {}),
      ...(kind.query ? { query: queryOf(req, rawRequest(exchange)) } : {}),
      patients: patientsOf(req, kind, target, success, confirmed, exchange.baseUrl),
    },
  ];
}

interface Target {
  readonly type?: string;
  readonly id?: string;
  readonly version?: string;
}

const LOCATION =
  /(?:^|\/)([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?\/?$/;
const ETAG = /^(?:W\/)?"([A-Za-z0-9\-.]{1,64})"$/;

/** The resource acted on: `Location` says where a write put it, the ETag which version. */
function targetOf(req: FhirRequest, location: string | undefined, etag: string | undefined): Target {
  const version = etag === undefined ? undefined : ETAG.exec(etag.trim())?.[1];
  const located = location === undefined ? null : LOCATION.exec(location);
  if (located !== null && located[1] === req.resourceType) {
    return { type: located[1], id: located[2], version: located[3] ?? version };
  }
  const { resourceType: type, id } = req;
  return { type, id, version: req.versionId ?? version };
}

/**
 * Where a conditional write went (or a create whose answer had no Location), from the resource
 * the answer carries: parsed only in this rare case.
 */
function answeredTarget(target: Target, body: Buffer | undefined): Target {
  if (body === undefined) return target;
  try {
    const resource = JSON.parse(body.toString('utf8')) as {
      resourceType?: unknown;
      id?: unknown;
      meta?: { versionId?: unknown };
    };
    // The id goes into the event as written: a FHIR id, or nothing.
    if (resource.resourceType !== target.type || typeof resource.id !== 'string' || !isFhirId(resource.id))
      return target;
    const version = typeof resource.meta?.versionId === 'string' ? resource.meta.versionId : target.version;
    return { type: target.type, id: resource.id, version };
  } catch {
    return target;
  }
}

function dataOf(req: FhirRequest, kind: AuditKind, target: Target, success: boolean): EventFacts['data'] {
  const { type, id, version } = target;
  if (id === undefined) {
    // A failed create, or a conditional write that did not say where it went.
    return {
      what: type === undefined ? {} : { type },
      ...(req.conditional ? { description: requestLine(req) } : {}),
    };
  }
  const named = `${type}/${id}`;
  // A reference to a resource that is gone, or may never have been, would not resolve (and a
  // server enforcing referential integrity would refuse the whole Bundle): name it instead.
  if (kind.subtype === 'delete' && success)
    return { what: { type, identifier: { system: DELETED_SYSTEM, value: named } } };
  if (!success) return { what: { type, identifier: { system: REQUESTED_SYSTEM, value: named } } };
  const versioned = version !== undefined && kind.subtype !== 'history-instance';
  return { what: { reference: versioned ? `${named}/_history/${version}` : named } };
}

/** `shown`: the answer (or the stored write) names them; `named`: only the request does. */
function patientsOf(
  req: FhirRequest,
  kind: AuditKind,
  target: Target,
  success: boolean,
  shown: Set<string>,
  base: string,
): EventFacts['patients'] {
  if (success && target.type === 'Patient' && target.id !== undefined && kind.subtype !== 'delete') {
    shown.add(target.id);
  }
  const named = requestedPatients(req, base).filter((id) => !shown.has(id));
  return { shown, named };
}

function scanInto(ids: Set<string>, text: string, base: string): void {
  const scanner = new PatientScanner(base);
  scanner.text(text);
  for (const id of scanner.ids) ids.add(id);
}

function outcomeOf(status: number, text: string | undefined): Pick<EventFacts, 'outcome' | 'outcomeDesc'> {
  if (status < 400) return { outcome: OUTCOME.success };
  const outcome = status < 500 ? OUTCOME.minorFailure : OUTCOME.seriousFailure;
  return { outcome, outcomeDesc: text ?? `HTTP ${status}` };
}

/** The first issue's text of an OperationOutcome answer. */
function outcomeText(body: Buffer | undefined): string | undefined {
  if (body === undefined) return undefined;
  try {
    return issueText(JSON.parse(body.toString('utf8')));
  } catch {
    return undefined;
  }
}

function issueText(outcome: unknown): string | undefined {
  const issue = (outcome as { resourceType?: unknown; issue?: unknown[] } | null)?.issue?.[0] as
    | { diagnostics?: unknown; details?: { text?: unknown } }
    | undefined;
  const text = issue?.diagnostics ?? issue?.details?.text;
  return typeof text === 'string' && text !== '' ? text.slice(0, 1024) : undefined;
}

/** The request as the client wrote it, for the query entity (BALP: base64 of the raw request). */
function rawRequest(exchange: Exchange): string {
  const line = `${exchange.method} ${exchange.baseUrl}${exchange.target}`;
  const req = exchange.fhir;
  const form = req !== undefined && isFormSearch(req) && exchange.body !== undefined;
  return redactTokens(form ? `${line}\n\n${exchange.body!.toString('utf8')}` : line);
}

function queryOf(req: FhirRequest, raw: string): NonNullable<EventFacts['query']> {
  return { description: redactTokens(requestLine(req)), raw };
}

/** The request as the gateway understood it: method, canonical path, decoded params in order. */
function requestLine(req: FhirRequest): string {
  const query = req.query.length > 0 ? `?${formatQuery(req.query)}` : '';
  return `${req.method} ${formatPath(req)}${query}`;
}

/** A bearer token sent as `access_token` (RFC 6750 §2.3) never reaches an AuditEvent. */
function redactTokens(text: string): string {
  // Almost no request carries one: a test is cheaper than a replace that finds nothing.
  if (!ACCESS_TOKEN.test(text)) return text;
  return text.replace(/((?:^|[?&\n])access_token=)[^&\s]*/gi, '$1[redacted]');
}

const ACCESS_TOKEN = /access_token=/i;

interface EntryAnswer {
  readonly status?: number;
  readonly location?: string;
  readonly etag?: string;
  readonly outcome?: unknown;
  readonly resource?: unknown;
}

/** One event per entry, each as the standalone request the entry stands for. */
function entryFacts(
  exchange: Exchange,
  req: FhirRequest,
  answer: AnswerFacts,
  actions: ReadonlySet<AuditAction>,
): EventFacts[] {
  let entries: unknown[];
  try {
    entries = bundleEntries(req);
  } catch {
    return [];
  }
  const success = answer.status < 400;
  const answers = success ? answerEntries(answer.capture?.body()) : undefined;
  const failure = success ? undefined : outcomeText(answer.capture?.head());
  const facts: EventFacts[] = [];
  entries.forEach((entry, index) => {
    let entryReq: FhirRequest;
    try {
      entryReq = parseEntryRequest(entry, index, { ...exchange.headers });
    } catch {
      return;
    }
    const kind = auditKind(entryReq);
    if (kind === undefined || !actions.has(kind.action)) return;
    const entryAnswer = answers?.[index];
    // A transaction that succeeded succeeded in every entry; a batch's entries say for themselves.
    const status =
      entryAnswer?.status ?? (answers === undefined && req.interaction === 'batch' ? 0 : answer.status);
    const entrySuccess = status > 0 && status < 400;
    const target = targetOf(entryReq, entryAnswer?.location, entryAnswer?.etag);
    const confirmed = new Set<string>();
    if (entrySuccess) {
      const sent = (entry as { resource?: unknown }).resource;
      const shown =
        entryAnswer?.resource ?? (kind.subtype === 'create' || kind.subtype === 'update' ? sent : undefined);
      if (shown !== undefined) scanInto(confirmed, JSON.stringify(shown), exchange.baseUrl);
    }
    const url = String((entry as { request: { url: unknown } }).request.url);
    facts.push({
      kind,
      ...(status === 0
        ? { outcome: OUTCOME.success, outcomeDesc: 'The outcome of this batch entry was not read' }
        : outcomeOf(status, entrySuccess ? undefined : (issueText(entryAnswer?.outcome) ?? failure))),
      ...(kind.data ? { data: dataOf(entryReq, kind, target, entrySuccess) } : {}),
      ...(kind.query
        ? {
            query: queryOf(
              entryReq,
              redactTokens(`${entryReq.method} ${exchange.baseUrl}/${url.replace(/^\/+/, '')}`),
            ),
          }
        : {}),
      patients: patientsOf(entryReq, kind, target, entrySuccess, confirmed, exchange.baseUrl),
    });
  });
  return facts;
}

/** The entries of a batch-response or transaction-response, or undefined when it cannot be read. */
function answerEntries(body: Buffer | undefined): EntryAnswer[] | undefined {
  if (body === undefined) return undefined;
  let bundle: { entry?: unknown };
  try {
    bundle = JSON.parse(body.toString('utf8')) as { entry?: unknown };
  } catch {
    return undefined;
  }
  if (!Array.isArray(bundle?.entry)) return undefined;
  return bundle.entry.map((entry: { response?: Record<string, unknown>; resource?: unknown } | null) => {
    const response = entry?.response ?? {};
    const status = Number.parseInt(String(response['status'] ?? ''), 10);
    return {
      ...(Number.isInteger(status) ? { status } : {}),
      ...(typeof response['location'] === 'string' ? { location: response['location'] } : {}),
      ...(typeof response['etag'] === 'string' ? { etag: response['etag'] } : {}),
      ...(response['outcome'] !== undefined ? { outcome: response['outcome'] } : {}),
      ...(entry?.resource !== undefined ? { resource: entry.resource } : {}),
    };
  });
}
