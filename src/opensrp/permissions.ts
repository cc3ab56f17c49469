/**
 * The OpenSRP permission rules (spec opensrp-plugins §2, issue 3): a request on resource type X
 * needs the role `<VERB>_X` (X upper-cased, no separator: `GET_QUESTIONNAIRERESPONSE`) or
 * `MANAGE_X`. The verb follows from the classified interaction, not from the HTTP method, so
 * `POST Patient/_search` is a search and needs `GET_PATIENT`.
 *
 * Joins need roles too (issue 8): every type a request can return or probe through `_include`,
 * `_revinclude`, `_has`, chains, an operation, an `If-None-Exist` or a conditional reference in a
 * write body (`Patient?family=x`, RT7) needs its read role, and a reach that cannot be
 * bounded (`_include=*`, `$graphql`) is refused. Destructive extensions (`$expunge`, `_expunge`)
 * need the delete role; `_cascade` cannot be bounded.
 *
 * Batch and transaction Bundles are checked entry by entry, each entry exactly as the same request
 * sent alone; one refused entry refuses the whole Bundle, naming every missing role.
 */
import { type DeniedDecision, denied } from '../access/contract.js';
import { bundleEntries, parseEntryRequest } from '../fhir/bundle-entry.js';
import { destructiveReach } from '../fhir/destructive.js';
import { joinReach } from '../fhir/joins.js';
import type { FhirRequest } from '../fhir/request.js';
import { formatPath } from '../fhir/serialize.js';

export type Verb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One permission: granted by the role `<verb>_<TYPE>` or by `MANAGE_<TYPE>`. */
export interface Permission {
  readonly verb: Verb;
  readonly resourceType: string;
}

/** Every permission the request needs, or why no role can grant it. */
export type Requirement =
  | { readonly kind: 'permissions'; readonly permissions: readonly Permission[] }
  | { readonly kind: 'refused'; readonly reason: string; readonly status: 400 | 403 };

export function verbRole(permission: Permission): string {
  return `${permission.verb}_${upperCase(permission.resourceType)}`;
}

export function manageRole(resourceType: string): string {
  return `MANAGE_${upperCase(resourceType)}`;
}

/** Role names are asked for on every request and every answered resource; types are few. */
const upperCased = new Map<string, string>();

function upperCase(resourceType: string): string {
  let upper = upperCased.get(resourceType);
  if (upper === undefined) {
    upper = resourceType.toUpperCase();
    if (upperCased.size < 1024) upperCased.set(resourceType, upper);
  }
  return upper;
}

/** Roles are compared exactly (case-sensitive), as upstream; there is no wildcard role. */
export function hasPermission(roles: ReadonlySet<string>, permission: Permission): boolean {
  return roles.has(manageRole(permission.resourceType)) || roles.has(verbRole(permission));
}

/** What a single (non-Bundle) request needs. */
export function requirementOf(req: FhirRequest): Requirement {
  const type = req.resourceType;
  const needs = (...permissions: Permission[]): Requirement => ({ kind: 'permissions', permissions });
  switch (req.interaction) {
    case 'read':
    case 'vread':
    case 'search-type':
    case 'history-instance':
    case 'history-type':
      return type ? needs({ verb: 'GET', resourceType: type }) : MISSING_TYPE;
    case 'search-compartment': {
      // The answer holds resources of the searched type, and it is addressed through the owner
      // (`Patient/1/Observation`), which upstream (HAPI's resource name) checks: both are needed.
      const owner = req.compartment?.resourceType;
      if (!type || !owner) return MISSING_TYPE;
      return needs({ verb: 'GET', resourceType: type }, { verb: 'GET', resourceType: owner });
    }
    case 'operation-type':
    case 'operation-instance':
      if (!type) return MISSING_TYPE;
      // An operation sent with POST may change data ($meta-add, $merge): it also needs POST_X,
      // the role upstream asks for on any POST.
      return req.method === 'POST'
        ? needs({ verb: 'GET', resourceType: type }, { verb: 'POST', resourceType: type })
        : needs({ verb: 'GET', resourceType: type });
    case 'create':
      if (!type) return MISSING_TYPE;
      // If-None-Exist searches the type, and a match is named to the caller (200 with it, or a
      // sibling Bundle entry's reference): it needs the read role too (W10).
      return req.headers['if-none-exist'] === undefined
        ? needs({ verb: 'POST', resourceType: type })
        : needs({ verb: 'POST', resourceType: type }, { verb: 'GET', resourceType: type });
    case 'update':
      return type ? needs({ verb: 'PUT', resourceType: type }) : MISSING_TYPE;
    case 'patch':
      return type ? needs({ verb: 'PATCH', resourceType: type }) : MISSING_TYPE;
    case 'delete':
      return type ? needs({ verb: 'DELETE', resourceType: type }) : MISSING_TYPE;
    case 'paging':
      // A continuation carries the type of the search it continues (signed by the gateway); what
      // it returns is checked against the read roles like any answer.
      if (type) return needs({ verb: 'GET', resourceType: type });
      return {
        kind: 'refused',
        status: 403,
        reason: 'it continues a search that names no resource type',
      };
    case 'search-system':
    case 'history-system':
    case 'operation-system':
    case 'capabilities':
      // No resource type means no role can grant it: fail closed.
      return {
        kind: 'refused',
        status: 403,
        reason: 'it names no resource type, so no role can grant it',
      };
    case 'batch':
    case 'transaction':
      return {
        kind: 'refused',
        status: 400,
        reason: `A ${req.interaction} is checked entry by entry, not as a single request`,
      };
  }
}

/**
 * The request's permission check: undefined when the roles grant it, else the denial (403 naming
 * the missing roles; 400 for a malformed Bundle entry).
 */
export function checkPermissions(req: FhirRequest, roles: ReadonlySet<string>): DeniedDecision | undefined {
  if (req.interaction === 'batch' || req.interaction === 'transaction') return checkBundle(req, roles);
  const problem = problemOf(req, roles);
  return problem && denied(`User is not authorized to ${describe(req)}: ${problem.text}`, problem.status);
}

function checkBundle(req: FhirRequest, roles: ReadonlySet<string>): DeniedDecision | undefined {
  const problems: string[] = [];
  let status: 400 | 403 = 403;
  entriesOf(req).forEach((entry, index) => {
    const entryRequest = parseEntryRequest(entry, index, { ...req.headers });
    const problem = problemOf(entryRequest, roles);
    if (!problem) return;
    if (problem.status === 400) status = 400;
    problems.push(`entry ${index} (${describe(entryRequest)}) ${problem.text}`);
  });
  if (problems.length === 0) return undefined;
  return denied(
    `User is not authorized to send this ${req.interaction}; nothing was forwarded: ${problems.join('; ')}`,
    status,
  );
}

/** A batch or transaction with no `entry` at all: an empty Bundle, which upstream grants. */
export function isEntrylessBundle(req: FhirRequest): boolean {
  if (req.interaction !== 'batch' && req.interaction !== 'transaction') return false;
  const bundle = req.body?.json();
  return isRecord(bundle) && bundle['entry'] === undefined;
}

function entriesOf(req: FhirRequest): unknown[] {
  return isEntrylessBundle(req) ? [] : bundleEntries(req);
}

function problemOf(
  req: FhirRequest,
  roles: ReadonlySet<string>,
): { text: string; status: 400 | 403 } | undefined {
  const requirement = requirementOf(req);
  if (requirement.kind === 'refused') return { text: requirement.reason, status: requirement.status };
  const extra = extendedRequirement(req);
  if (extra.kind === 'refused') return { text: extra.reason, status: extra.status };
  if (extra.needs.length === 0 && requirement.permissions.every((p) => hasPermission(roles, p))) {
    return undefined;
  }
  const needed: { permission: Permission; why?: string }[] = [
    ...requirement.permissions.map((permission) => ({ permission })),
    ...extra.needs,
  ];
  const seen = new Set<string>();
  const missing = needed.filter(({ permission }) => {
    const role = verbRole(permission);
    if (seen.has(role) || hasPermission(roles, permission)) return false;
    seen.add(role);
    return true;
  });
  if (missing.length === 0) return undefined;
  const text = missing
    .map(
      ({ permission, why }) =>
        `${verbRole(permission)} or ${manageRole(permission.resourceType)}${why ? ` (${why})` : ''}`,
    )
    .join(', and ');
  return { text: `needs role ${text}`, status: 403 };
}

const NOTHING_EXTENDED = { kind: 'permissions', needs: [] } as const;

/**
 * What the request needs beyond its interaction on its own type: the read permission of every type
 * its joins return or probe (src/fhir/joins.ts), and the delete permission for a destructive
 * extension (src/fhir/destructive.ts). A reach that cannot be bounded is refused whatever the roles.
 */
export function extendedRequirement(
  req: FhirRequest,
):
  | { readonly kind: 'permissions'; readonly needs: readonly { permission: Permission; why: string }[] }
  | { readonly kind: 'refused'; readonly reason: string; readonly status: 403 } {
  const joins = joinReach(req);
  const destructive = destructiveReach(req);
  if (destructive === undefined && !joins.unbounded && joins.types.size === 0 && joins.probes.size === 0) {
    return NOTHING_EXTENDED;
  }
  const unbounded = [...joins.unboundedBy, ...(destructive?.unboundedBy ?? [])];
  if (unbounded.length > 0) {
    return {
      kind: 'refused',
      status: 403,
      reason: `what it reaches cannot be bounded by any role (${unbounded.join(', ')})`,
    };
  }
  const needs: { permission: Permission; why: string }[] = [];
  for (const type of [...joins.types, ...joins.probes]) {
    const how = joins.types.has(type) ? 'returned' : 'searched';
    needs.push({
      permission: { verb: 'GET', resourceType: type },
      why: `${type} is ${how} by ${joins.via.get(type) ?? 'a join'}`,
    });
  }
  for (const type of destructive?.types ?? []) {
    needs.push({
      permission: { verb: 'DELETE', resourceType: type },
      why: `for ${destructive!.by.join(', ')}`,
    });
  }
  return { kind: 'permissions', needs };
}

const MISSING_TYPE: Requirement = { kind: 'refused', status: 400, reason: 'it has no resource type' };

/** `GET Patient/1`, `POST Observation/_search`, `POST` (base) — for messages. */
function describe(req: FhirRequest): string {
  const path = formatPath(req);
  return path === '' ? `${req.method} the FHIR base` : `${req.method} ${path}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
