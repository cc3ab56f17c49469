/**
 * One catalogue of the errors the gateway answers with. Each carries the HTTP status, a stable
 * code, and a text that is safe to show a client; internal detail goes to the logs only.
 * The edge (server/) turns them into FHIR OperationOutcome bodies.
 */

export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'not-found'
  | 'not-supported'
  | 'too-long'
  | 'too-costly'
  | 'exception'
  | 'timeout'
  | 'transient'
  | 'conflict'
  | 'processing';

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: { severity: 'fatal' | 'error' | 'warning' | 'information'; code: IssueType; diagnostics?: string }[];
}

export class GatewayError extends Error {
  readonly status: number;
  readonly issueType: IssueType;
  /** Stable machine-readable code, e.g. `invalid_token`. */
  readonly code: string;
  /** Extra response headers (e.g. `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Detail for the logs only, never sent to the client. */
  readonly detail?: string;

  constructor(
    status: number,
    code: string,
    message: string,
    options: {
      issueType?: IssueType;
      headers?: Record<string, string>;
      detail?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.status = status;
    this.code = code;
    this.issueType = options.issueType ?? defaultIssueType(status);
    this.headers = options.headers ?? {};
    this.detail = options.detail;
  }
}

function defaultIssueType(status: number): IssueType {
  switch (status) {
    case 400:
      return 'invalid';
    case 401:
      return 'login';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 409:
    case 412:
      return 'conflict';
    case 405:
    case 415:
      return 'not-supported';
    case 413:
    case 414:
      return 'too-long';
    case 504:
      return 'timeout';
    case 502:
    case 503:
      return 'transient';
    default:
      return 'exception';
  }
}

export const badRequest = (message: string, code = 'bad_request') => new GatewayError(400, code, message);
export const forbidden = (message: string, code = 'forbidden') => new GatewayError(403, code, message);
export const notFound = (message: string, code = 'not_found') => new GatewayError(404, code, message);

export function operationOutcome(
  diagnostics: string,
  code: IssueType = 'processing',
  severity: 'fatal' | 'error' | 'warning' | 'information' = 'error',
): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

export function outcomeOf(error: GatewayError): OperationOutcome {
  return operationOutcome(error.message, error.issueType);
}
