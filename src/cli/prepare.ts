/**
 * The one validation path. `start`, `check-config` and `explain` all build the gateway through
 * `prepareGateway`: the environment is parsed, PROXY_HOST resolved, the checkers named in
 * ACCESS_CHECKER resolved and initialised with their files, the allowed-queries file loaded and
 * the routes built. Only `start` then listens. So a setting that stops `start` stops
 * `check-config` too, with the same line and status.
 */
import type { Logger } from 'pino';
import { ConfigError } from '../config/config-error.js';
import { type Environment, type GatewayConfig, loadConfig } from '../config/index.js';
import { checkListenAddress } from '../config/listen-address.js';
import { createGateway, type Gateway } from '../server/gateway.js';
import { createLogger } from '../server/logger.js';
import { consoleLogger } from './console-log.js';

export interface Prepared {
  readonly config: GatewayConfig;
  readonly gateway: Gateway;
}

/** Throws ConfigError for anything wrong in the configuration or the files it names. */
export async function prepareGateway(
  env: Environment,
  makeLogger: (level: GatewayConfig['logLevel']) => Logger = createLogger,
): Promise<Prepared> {
  const config = loadConfig(env);
  await checkListenAddress(config.proxyHost);
  const gateway = await createGateway(config, { env, logger: makeLogger(config.logLevel) });
  return { config, gateway };
}

/** Exit status 2: the configuration is wrong (or the command line). */
export const EXIT_CONFIG = 2;
/** Exit status 1: a failure that is not the configuration's (e.g. the port is taken). */
export const EXIT_FAILURE = 1;

/** The one line and the exit status for an error thrown while preparing or starting. */
export function failureOf(error: unknown, doing = 'start'): { line: string; status: number } {
  if (error instanceof ConfigError) {
    return { line: `fhir-gateway: configuration error: ${error.message}`, status: EXIT_CONFIG };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { line: `fhir-gateway: failed to ${doing}: ${message}`, status: EXIT_FAILURE };
}

/**
 * For the one-shot commands: prepares the gateway with its log lines as plain text on stderr, or
 * prints the failure line and returns the exit status.
 */
export async function prepareForCommand(
  env: Environment,
  writeError: (text: string) => void,
  doing: string,
): Promise<Prepared | number> {
  try {
    return await prepareGateway(env, () => consoleLogger('warn', writeError));
  } catch (error) {
    const { line, status } = failureOf(error, doing);
    writeError(`${line}\n`);
    return status;
  }
}
