/**
 * A gateway with ACCESS_CHECKER=permission in front of a FHIR server seeded with the OpenSRP
 * dataset, and helpers to call it as a user with given roles and to see what reached the backend.
 */
import { buildOpenSrpDataset, PERSONAS } from '../support/opensrp-dataset.js';
import { startFhirServer } from '../support/fhir-server.js';
import { bearer, type RawResponse, send } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

export const FHIR_JSON = 'application/fhir+json';

export interface PermissionStack {
  readonly stack: Stack;
  /** Calls the gateway with a token carrying `roles` as realm roles (plus any extra claims). */
  call(
    method: string,
    path: string,
    options?: {
      roles?: readonly string[];
      claims?: Record<string, unknown>;
      body?: unknown;
      contentType?: string;
    },
  ): Promise<RawResponse>;
  /** Requests the backend received since the last call, as `METHOD /path?query`. */
  forwarded(): string[];
  close(): Promise<void>;
}

/** A WEB_CLIENT user is never narrowed by the data access checker: only the roles decide. */
export const WEB_USER = { sub: PERSONAS.worker.sub, fhir_core_app_id: 'app-location' };

export async function startPermissionStack(env: Record<string, string> = {}): Promise<PermissionStack> {
  const fhir = await startFhirServer({ seed: buildOpenSrpDataset().resources });
  const stack = await startStack({
    env: { ACCESS_CHECKER: 'permission', RUN_MODE: 'PROD', ...env },
    fhir,
  });
  return {
    stack,
    async call(method, path, options = {}) {
      fhir.clearRequests();
      const token = await stack.issuer.mint({
        ...WEB_USER,
        realm_access: { roles: [...(options.roles ?? [])] },
        ...options.claims,
      });
      const body =
        options.body === undefined
          ? undefined
          : typeof options.body === 'string'
            ? options.body
            : JSON.stringify(options.body);
      const headers = bearer(
        token,
        body === undefined ? {} : { 'content-type': options.contentType ?? FHIR_JSON },
      );
      return send(stack.gatewayUrl, {
        method,
        path: `/fhir/${path}`,
        headers,
        ...(body === undefined ? {} : { body }),
      });
    },
    forwarded: () => fhir.requests.map((r) => `${r.method} ${r.url.replace(/^\/fhir/, '')}`),
    async close() {
      await stack.close();
      await fhir.close();
    },
  };
}

/** The diagnostics of an OperationOutcome answer. */
export function diagnostics(response: RawResponse): string {
  const outcome = response.json() as { resourceType?: string; issue?: { diagnostics?: string }[] };
  if (outcome.resourceType !== 'OperationOutcome')
    throw new Error(`not an OperationOutcome: ${response.text}`);
  return outcome.issue?.map((issue) => issue.diagnostics ?? '').join(' ') ?? '';
}
