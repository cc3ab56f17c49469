/**
 * The FHIR request model: one parsed, validated description of what a client asked for.
 * Every later stage (allowed queries, access checkers, mutation, forwarding) reads this model,
 * and the upstream URL is serialized from it, never copied from the raw client string.
 */

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** FHIR R4 RESTful interactions, classified once by the parser (http.html#operations). */
export type Interaction =
  | 'read' // GET Type/id
  | 'vread' // GET Type/id/_history/vid
  | 'update' // PUT Type/id, or conditional PUT Type?params
  | 'patch' // PATCH Type/id, or conditional PATCH Type?params
  | 'delete' // DELETE Type/id, or conditional DELETE Type?params
  | 'create' // POST Type
  | 'search-type' // GET Type?params, GET|POST Type/_search
  | 'search-system' // GET ?params, GET|POST _search
  | 'search-compartment' // GET Owner/id/Type?params (resourceType is Type, compartment is Owner/id)
  | 'history-instance' // GET Type/id/_history
  | 'history-type' // GET Type/_history
  | 'history-system' // GET _history
  | 'operation-system' // GET|POST $op
  | 'operation-type' // GET|POST Type/$op
  | 'operation-instance' // GET|POST Type/id/$op
  | 'batch' // POST [base] with a Bundle of type batch
  | 'transaction' // POST [base] with a Bundle of type transaction
  | 'capabilities' // GET metadata
  | 'paging'; // GET [base]?_getpages=… (HAPI paging links)

/** One query parameter, decoded. Order and repetition are kept: `a=1&a=2` is two params, `a=1,2` one. */
export interface QueryParam {
  readonly name: string;
  readonly value: string;
}

/** The request body, kept as bytes; parsed to JSON at most once and only when someone asks. */
export interface RequestBody {
  readonly bytes: Buffer;
  /** The media type without parameters, lower-cased (e.g. `application/fhir+json`). */
  readonly mediaType: string;
  /** The parsed JSON value; throws a 400 GatewayError when the body is not JSON. */
  json(): unknown;
}

export interface FhirRequest {
  readonly method: HttpMethod;
  readonly interaction: Interaction;
  /** The resource type the interaction acts on or returns (for a compartment search, the searched type). */
  readonly resourceType?: string;
  readonly id?: string;
  readonly versionId?: string;
  /** Set for `search-compartment`: the compartment owner, e.g. `{ resourceType: 'Patient', id: '123' }`. */
  readonly compartment?: { readonly resourceType: string; readonly id: string };
  /** Operation name without the `$`, for the operation interactions. */
  readonly operation?: string;
  /** True for update/patch/delete addressed by search params instead of an id. */
  readonly conditional: boolean;
  /**
   * Query params in client order, decoded. For `POST …/_search` with a form body, the body's params
   * follow the URL's params here, and the body is not forwarded as bytes.
   */
  readonly query: readonly QueryParam[];
  /** Request headers, names lower-cased; only the first value of a repeated header. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
}

/** Values of one query parameter, in order. */
export function paramValues(req: Pick<FhirRequest, 'query'>, name: string): string[] {
  const values: string[] = [];
  for (const param of req.query) if (param.name === name) values.push(param.value);
  return values;
}

/** True for the interactions that return a searchset Bundle. */
export function isSearch(req: Pick<FhirRequest, 'interaction'>): boolean {
  return (
    req.interaction === 'search-type' ||
    req.interaction === 'search-system' ||
    req.interaction === 'search-compartment'
  );
}

/** One of the gateway's readonly shapes while it is being built, field by field. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
