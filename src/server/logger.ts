import pino, { type Logger } from 'pino';

/** JSON logs; credentials are redacted wherever they appear. */
export function createLogger(level: string): Logger {
  return pino({
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
  });
}
