/**
 * The plugin contract. An access checker decides, per request, whether the caller may do what the
 * request asks, and how the request must be narrowed. Checkers see only the parsed FhirRequest
 * and the verified token claims: no HTTP framework, JWT library or backend-client types.
 *
 * Lifecycle:
 *   1. at start, `init(ctx)` once per factory named in ACCESS_CHECKER (read files, validate, warm caches);
 *   2. `routes(app, ctx)` once, to add plugin-owned endpoints (e.g. OpenSRP's /LocationHierarchy);
 *   3. per authenticated request, `create(token, ctx)` then `checkAccess(request)`.
 *
 * @example
 * const readOnly: AccessCheckerFactory = {
 *   name: 'read-only',
 *   async create() {
 *     return { async checkAccess(req) { return req.method === 'GET' ? granted() : denied('read only') } };
 *   },
 * };
 */

import type { FhirRequest, QueryParam } from '../fhir/request.js';

/** The claims of a bearer token whose signature, issuer and lifetime were verified. */
export interface VerifiedToken {
  readonly issuer: string;
  readonly subject?: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** A FHIR reference (for audit agents). */
export interface Reference {
  reference?: string;
  type?: string;
  display?: string;
  identifier?: { system?: string; value?: string };
}

/** How the gateway must change the request before forwarding it. */
export interface RequestMutation {
  /** Params to add; an existing param of the same name is replaced (all its values), as upstream does. */
  readonly addParams?: readonly QueryParam[];
  /** Param names to remove. */
  readonly discardParams?: readonly string[];
  /**
   * A JSON body to send instead of the client's (e.g. a batch Bundle whose entries were narrowed
   * one by one). Sent as `application/fhir+json`.
   */
  readonly replaceBody?: unknown;
  /**
   * Request headers to send instead of the client's, names lower-cased (e.g. an `if-none-exist`
   * narrowed to the caller's scope). Only headers the gateway forwards at all reach the backend.
   * In a batch or transaction entry, the condition headers stand for the entry's `request` fields
   * (`if-none-exist` is `request.ifNoneExist`).
   */
  readonly setHeaders?: Readonly<Record<string, string>>;
}

/** The backend's answer, buffered, as handed to post-processing. */
export interface BackendResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body parsed as JSON (throws when it is not JSON). */
  json(): unknown;
  text(): string;
}

export interface GrantedDecision {
  readonly canAccess: true;
  readonly mutation?: RequestMutation;
  /**
   * Runs only when the backend answered 2xx. The whole body is buffered for it. Returns the value
   * to send instead of the backend body (serialized as JSON), or undefined to keep the body.
   * It may throw a GatewayError (src/fhir/errors.ts) to answer with that error instead, e.g. 404
   * to hide a resource the caller may not see.
   */
  postProcess?(req: FhirRequest, res: BackendResponse): Promise<unknown | undefined>;
  /**
   * Which resources the caller may see (the answer side of the decision). When set, every
   * resource in every answer is held to it before the client gets it: a resource read by id that
   * the caller may not see is answered as missing (404, HEAD and If-None-Match included), Bundle
   * entries (search matches and includes, history, continuation pages, operation outputs, batch
   * and transaction responses) and Parameters resources are removed, a write answer loses its
   * body and Location, and an answer that cannot be checked resource by resource (not FHIR JSON,
   * GraphQL) is refused with 403. Only plain searches (type or compartment searches without
   * `_include*`, `_revinclude*` or `_contained*`, not of Bundle or Parameters, whose answer the
   * decision does not post-process) stream unchecked: a checker that sets `visible` vouches that
   * it narrowed or denied those. Runs after `postProcess`, on its output. OperationOutcome
   * resources are always shown. Rule: src/server/pipeline/answer-check.ts.
   */
  visible?(resource: FhirResource): boolean;
  /** The audit user; undefined disables audit for the request. */
  auditAgent?(): Reference | undefined;
}

/** A FHIR resource as found in an answer, before anything about it is checked. */
export interface FhirResource {
  readonly resourceType: string;
  readonly id?: string;
  readonly meta?: { readonly tag?: readonly { readonly system?: string; readonly code?: string }[] };
  readonly [field: string]: unknown;
}

export interface DeniedDecision {
  readonly canAccess: false;
  /** Shown to the client in the OperationOutcome and written to the logs. */
  readonly reason: string;
  /**
   * 403 unless said otherwise (404 hides existence for reads, 400 for bad requests, 401 for missing
   * claims, 412 for an If-Match that names another version than the one judged (version-guard.ts),
   * 415 for a body the checker cannot read).
   */
  readonly status?: 400 | 401 | 403 | 404 | 412 | 415;
  /**
   * The refusal depends on the stored resource the checker read (its content, or that it was
   * deleted). Composed with other checkers (ACCESS_CHECKER=a,b), a later checker that hides that
   * resource (404) answers instead, so the refusal does not tell a hidden resource from a missing one.
   */
  readonly afterReading?: boolean;
}

export type AccessDecision = GrantedDecision | DeniedDecision;

export interface AccessChecker {
  checkAccess(req: FhirRequest): Promise<AccessDecision>;
}

/** Read-only access to the FHIR backend for plugins, with the gateway's backend credentials. */
export interface FhirClient {
  /** GET a path below the FHIR base (`Composition?identifier=x`); resolves with status and parsed JSON body. */
  get(path: string, query?: readonly QueryParam[]): Promise<{ status: number; body: unknown }>;
  /** Type-level search following every `next` link; resolves with all entry resources. */
  searchAll<T extends object = Record<string, unknown>>(
    resourceType: string,
    query: readonly QueryParam[],
  ): Promise<T[]>;
  /** Any request; the body is sent as JSON when it is not a string. */
  request(
    method: string,
    path: string,
    options?: { query?: readonly QueryParam[]; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Record<string, string>; body: unknown }>;
}

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the gateway hands to plugins. */
export interface GatewayContext {
  readonly fhirClient: FhirClient;
  /** Raw environment, for plugin-specific variables (validated by the plugin's own init). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly devMode: boolean;
  readonly logger: Logger;
}

/** A request to a plugin-owned endpoint. */
export interface PluginRouteRequest {
  readonly path: string;
  readonly query: readonly QueryParam[];
  readonly headers: Readonly<Record<string, string>>;
  /** Set when the route was registered with `authenticated: true` (the default). */
  readonly token?: VerifiedToken;
  /** The gateway's public FHIR base URL for this request (e.g. `https://gw.example.org/fhir`). */
  readonly baseUrl: string;
}

export interface PluginRouteResponse {
  readonly status: number;
  readonly body: unknown;
  /** The body already serialized as JSON (e.g. from a cache); sent as is instead of `body`. */
  readonly serialized?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface PluginRoute {
  readonly method: 'GET' | 'POST';
  /** An absolute path on the gateway, e.g. `/LocationHierarchy`. */
  readonly path: string;
  /** Verify the bearer token before calling the handler (default true). */
  readonly authenticated?: boolean;
  handler(req: PluginRouteRequest): Promise<PluginRouteResponse>;
}

export interface RouteRegistrar {
  route(route: PluginRoute): void;
}

export interface AccessCheckerFactory {
  /** The value of ACCESS_CHECKER that selects this factory. */
  readonly name: string;
  /** Only selectable with RUN_MODE=DEV. */
  readonly devOnly?: boolean;
  /**
   * What `[base]/.well-known/smart-configuration` advertises while this checker is configured,
   * added to the gateway's defaults (e.g. `permission-v2` for a checker that enforces v2 scopes).
   */
  readonly smart?: {
    readonly capabilities?: readonly string[];
    readonly scopesSupported?: readonly string[];
  };
  init?(ctx: GatewayContext): Promise<void>;
  create(token: VerifiedToken, ctx: GatewayContext): Promise<AccessChecker>;
  routes?(app: RouteRegistrar, ctx: GatewayContext): void;
}

export function granted(extra: Omit<GrantedDecision, 'canAccess'> = {}): GrantedDecision {
  return { canAccess: true, ...extra };
}

export function denied(reason: string, status?: DeniedDecision['status']): DeniedDecision {
  return status === undefined ? { canAccess: false, reason } : { canAccess: false, reason, status };
}
