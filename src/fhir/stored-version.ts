/**
 * What a read of `Type/id` says of the stored (current) version, for the checks that judge a
 * request on it: absent (404), deleted (410, which a PUT would bring back), or present. Any
 * other answer is not one the gateway can judge on: 502.
 */
import { GatewayError } from './errors.js';

export type Resource = Record<string, unknown> & { resourceType?: string; id?: string };

export type Stored =
  | { readonly state: 'absent' }
  | { readonly state: 'deleted' }
  | { readonly state: 'present'; readonly resource: Resource };

/** `target`: `Type/id`, for the error's detail. Throws GatewayError 502 on any other answer. */
export function storedOf(target: string, status: number, body: unknown): Stored {
  if (status === 404) return { state: 'absent' };
  if (status === 410) return { state: 'deleted' };
  if (status < 200 || status >= 300 || typeof body !== 'object' || body === null) {
    throw new GatewayError(
      502,
      'backend_read_failed',
      'The FHIR server could not be asked for the resource',
      {
        detail: `GET ${target} answered ${status}`,
      },
    );
  }
  return { state: 'present', resource: body as Resource };
}
