import { GatewayError } from '../../fhir/errors.js';
import type { CredentialSource } from './source.js';

/** Why the gateway had no usable credential for a request. */
export type AuthFailureKind = 'token' | 'refused';

/** Hooks the server wires to its logs and metrics. */
export interface AuthEvents {
  /** A token could not be obtained, or the FHIR server refused the one sent. `reason` has no secret. */
  failed(kind: AuthFailureKind, reason: string): void;
  /** The first success after failures. */
  recovered(): void;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
const REDACTED = '[redacted]';

/**
 * The backend client's credentials: the `Authorization` header of every upstream request, the same
 * for forwarded requests, plugin lookups and readiness probes. A failure answers 502 naming
 * backend authentication (never a secret or token); after one, new attempts wait 1 s, doubling up
 * to 30 s, so a token endpoint that is down sees one request per wait, not one per client request,
 * and the gateway recovers by itself once it is back.
 */
export class BackendAuth {
  private pending?: Promise<string>;
  private failure?: { error: GatewayError; retryAt: number; delay: number };
  private readonly issued = new Set<string>();

  constructor(
    /** The BACKEND_TYPE, for messages. */
    readonly type: string,
    private readonly source: CredentialSource,
    private readonly events?: AuthEvents,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** False from a failure until the next success. */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  /** The `Authorization` value for one request. @throws GatewayError 502 `backend_auth_failed` */
  authorization(): Promise<string> {
    if (this.failure && this.now() < this.failure.retryAt) return Promise.reject(this.failure.error);
    this.pending ??= this.attempt().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** The FHIR server answered 401 (or GCP's own permission error): drop the token, wait, report. */
  refused(status: number, reason: string): GatewayError {
    this.source.invalidate?.();
    const error = new GatewayError(
      502,
      'backend_auth_refused',
      'The FHIR server refused the credentials of the gateway (backend authentication failed)',
      { detail: `${this.type}: FHIR server answered ${status}: ${this.redact(reason)}` },
    );
    this.fail(error, 'refused');
    return error;
  }

  private async attempt(): Promise<string> {
    let value: string;
    try {
      value = await this.source.authorization();
    } catch (cause) {
      const reason = this.redact(describe(cause));
      const error = new GatewayError(
        502,
        'backend_auth_failed',
        'The gateway could not authenticate to the FHIR server (backend authentication failed)',
        { detail: `${this.type}: ${reason}` },
      );
      this.fail(error, 'token');
      throw error;
    }
    this.remember(value);
    if (this.failure) {
      this.failure = undefined;
      this.events?.recovered();
    }
    return value;
  }

  private fail(error: GatewayError, kind: AuthFailureKind): void {
    const delay = this.failure ? Math.min(this.failure.delay * 2, MAX_RETRY_MS) : FIRST_RETRY_MS;
    this.failure = { error, retryAt: this.now() + delay, delay };
    this.events?.failed(kind, error.detail ?? error.message);
  }

  /** The last few header values handed out, so that no error text can carry one. */
  private remember(value: string): void {
    if (this.issued.has(value)) return;
    this.issued.add(value);
    const token = value.slice(value.indexOf(' ') + 1);
    if (token !== value) this.issued.add(token);
    while (this.issued.size > 8) this.issued.delete(this.issued.values().next().value as string);
  }

  private redact(text: string): string {
    let result = text;
    for (const secret of [...this.source.secrets, ...this.issued]) {
      if (secret.length >= 4) result = result.split(secret).join(REDACTED);
    }
    return result;
  }
}

/** An error's name and message, with the OAuth error code and description when it carries them. */
function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const { error, error_description: description } = cause as { error?: unknown; error_description?: unknown };
  const oauth =
    typeof error === 'string'
      ? ` (${error}${typeof description === 'string' ? `: ${description}` : ''})`
      : '';
  const network = (cause.cause as { code?: unknown } | undefined)?.code;
  return `${cause.name}: ${cause.message}${oauth}${typeof network === 'string' ? ` (${network})` : ''}`;
}
