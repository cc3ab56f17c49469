import { GatewayError, outcomeOf } from '../fhir/errors.js';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
}

/** Maps anything thrown while handling a request to the error the client sees. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const { code, statusCode } = (error ?? {}) as FastifyLikeError;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || statusCode === 413) {
    return new GatewayError(413, 'body_too_large', 'The request body is larger than the gateway accepts');
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || statusCode === 415) {
    return new GatewayError(415, 'unsupported_media_type', 'Unsupported Content-Type');
  }
  if (statusCode === 400) {
    return new GatewayError(400, 'bad_request', 'The request is malformed', { detail: String(code) });
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return new GatewayError(500, 'internal_error', 'The gateway failed to handle the request', { detail });
}

export function errorBody(error: GatewayError): string {
  return JSON.stringify(outcomeOf(error));
}

export function isClientAbort(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || (error as FastifyLikeError).code === 'UND_ERR_ABORTED')
  );
}
