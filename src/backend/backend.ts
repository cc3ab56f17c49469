import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { Pool, errors as undiciErrors } from 'undici';
import { GatewayError } from '../fhir/errors.js';

export interface BackendOptions {
  /** PROXY_TO: the backend FHIR base URL, without a trailing slash. */
  baseUrl: string;
  connectTimeoutMs: number;
  /** Time allowed for the response headers, and between two body chunks. */
  timeoutMs: number;
  connections?: number;
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
 * with timeouts mapped to 502/504 OperationOutcomes in one place.
 */
export class Backend {
  readonly baseUrl: string;
  private readonly basePath: string;
  private readonly pool: Pool;
  private readonly timeoutMs: number;

  constructor(options: BackendOptions) {
    const url = new URL(options.baseUrl);
    this.baseUrl = options.baseUrl;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 128,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: options.connectTimeoutMs },
    });
  }

  async send(request: UpstreamRequest): Promise<UpstreamResponse> {
    try {
      const response = await this.pool.request({
        method: request.method as 'GET',
        path: this.basePath + request.target,
        headers: request.headers,
        body: request.body ?? null,
        signal: request.signal ?? null,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      throw mapUpstreamError(error);
    }
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
