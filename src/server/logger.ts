import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * JSON logs; credentials are redacted wherever they appear. Every line about a request carries its
 * id in one field, `requestId` (fastify's own `reqId` child binding is renamed to it).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'fhir-gateway' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'headers.cookie',
        '*.access_token',
        'access_token',
        'token',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
