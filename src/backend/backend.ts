import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { Pool, errors as undiciErrors } from 'undici';
import { GatewayError } from '../fhir/errors.js';
import type { BackendAuth, BackendType } from './credentials/index.js';
import { gcpAnswer, gcpRequestHeaders } from './gcp-dialect.js';

export interface BackendOptions {
  /** PROXY_TO: the backend FHIR base URL, without a trailing slash. */
  baseUrl: string;
  connectTimeoutMs: number;
  /** Time allowed for the response headers, and between two body chunks. */
  timeoutMs: number;
  connections?: number;
  /** BACKEND_TYPE; `GCP` turns on what the Healthcare API needs (gcp-dialect.ts). Default `HAPI`. */
  type?: BackendType;
  /** The gateway's own credentials, sent on every upstream request; none for HAPI. */
  auth?: BackendAuth;
}

/** Aborts the upstream request: an AbortSignal, or an EventEmitter that emits `abort` (undici accepts both). */
export type UpstreamSignal = AbortSignal | EventEmitter;

export interface UpstreamRequest {
  method: string;
  /** Target below the backend base, starting with `/` (e.g. `/Patient?name=x`), or '' for the base. */
  target: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  signal?: UpstreamSignal;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer>; dump(): Promise<void> };
}

/**
 * The one connection pool to the FHIR backend: keep-alive, TLS verification on (undici's default),
 * with timeouts mapped to 502/504 OperationOutcomes in one place. Every upstream call passes here
 * (forwarded requests, plugin lookups, readiness probes), so here the gateway's own credentials
 * are added: the client's Authorization never reaches this point (headers.ts).
 */
export class Backend {
  readonly baseUrl: string;
  private readonly basePath: string;
  private readonly pool: Pool;
  private readonly timeoutMs: number;
  private readonly auth?: BackendAuth;
  private readonly gcp: boolean;

  constructor(options: BackendOptions) {
    const url = new URL(options.baseUrl);
    this.baseUrl = options.baseUrl;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
    if (options.auth) this.auth = options.auth;
    this.gcp = options.type === 'GCP';
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 128,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: options.connectTimeoutMs },
    });
  }

  /** True unless the last attempt to get a credential (or its use) failed. */
  get authHealthy(): boolean {
    return this.auth?.healthy ?? true;
  }

  async send(request: UpstreamRequest): Promise<UpstreamResponse> {
    let headers = request.headers;
    if (this.auth) headers = { ...headers, authorization: await this.auth.authorization() };
    if (this.gcp) headers = gcpRequestHeaders(headers);
    let response: UpstreamResponse;
    try {
      const answer = await this.pool.request({
        method: request.method as 'GET',
        path: this.basePath + request.target,
        headers,
        body: request.body ?? null,
        signal: request.signal ?? null,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      response = { status: answer.statusCode, headers: answer.headers, body: answer.body };
    } catch (error) {
      throw mapUpstreamError(error);
    }
    if (this.auth && response.status === 401) {
      // A 401 is about the gateway's credential, not the client's: never passed on as such.
      await response.body.dump();
      throw this.auth.refused(401, String(response.headers['www-authenticate'] ?? 'no WWW-Authenticate'));
    }
    return this.gcp && response.status >= 400 ? gcpAnswer(response, this.auth) : response;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Maps undici and socket failures to the gateway's 502/504 errors; anything else is rethrown. */
export function mapUpstreamError(error: unknown): unknown {
  if (error instanceof GatewayError) return error;
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
    return new GatewayError(504, 'backend_timeout', 'The FHIR server did not answer in time', {
      detail: (error as Error).message,
    });
  }
  if (
    error instanceof Error &&
    (error.name === 'AbortError' || error instanceof undiciErrors.RequestAbortedError)
  ) {
    return error;
  }
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new GatewayError(502, 'backend_unreachable', 'The FHIR server could not be reached', { detail });
}
