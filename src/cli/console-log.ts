import type { DestinationStream, Logger } from 'pino';
import { createLogger } from '../server/logger.js';

const LEVEL_NAMES: Record<number, string> = {
  60: 'fatal',
  50: 'error',
  40: 'warning',
  30: 'info',
  20: 'debug',
};
const PLUMBING = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg']);

/**
 * For the one-shot commands (check-config, explain): the gateway's log lines, turned into
 * `fhir-gateway: warning: <message> {fields}` lines on stderr, so that stdout holds only the
 * command's own answer.
 */
export function consoleLogger(level: string, write: (line: string) => void): Logger {
  const destination: DestinationStream = {
    write(json: string) {
      const entry = JSON.parse(json) as Record<string, unknown>;
      const fields = Object.fromEntries(Object.entries(entry).filter(([key]) => !PLUMBING.has(key)));
      const extra = Object.keys(fields).length === 0 ? '' : ` ${JSON.stringify(fields)}`;
      write(`fhir-gateway: ${LEVEL_NAMES[entry.level as number] ?? 'log'}: ${String(entry.msg)}${extra}\n`);
    },
  };
  return createLogger(level, destination);
}
