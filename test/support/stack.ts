import type { Logger as PinoLogger } from 'pino';
import type { AccessCheckerFactory } from '../../src/access/contract.js';
import { loadConfig } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/server/gateway.js';
import { createLogger } from '../../src/server/logger.js';
import { type LocalFhirServer, startFhirServer } from './fhir-server.js';
import { type LocalIssuer, startIssuer } from './issuer.js';

export interface Stack {
  /** The gateway's FHIR base, e.g. `http://127.0.0.1:P/fhir`. */
  readonly fhirBase: string;
  /** The gateway's root URL, e.g. `http://127.0.0.1:P`. */
  readonly gatewayUrl: string;
  readonly fhir: LocalFhirServer;
  readonly issuer: LocalIssuer;
  readonly gateway: Gateway;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Extra environment variables (ACCESS_CHECKER defaults to permissive with RUN_MODE=DEV). */
  env?: Record<string, string>;
  extraCheckers?: readonly AccessCheckerFactory[];
  fhir?: LocalFhirServer;
  issuer?: LocalIssuer;
  /** Instead of the JSON logger at LOG_LEVEL (e.g. one that captures lines for assertions). */
  logger?: PinoLogger;
}

/** A real gateway on a loopback port, in front of a real local FHIR server, trusting a real local issuer. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const fhir = options.fhir ?? (await startFhirServer());
  const issuer = options.issuer ?? (await startIssuer());
  const env: Record<string, string> = {
    PROXY_TO: fhir.baseUrl,
    TOKEN_ISSUER: issuer.issuerUrl,
    PROXY_PORT: '0',
    PROXY_HOST: '127.0.0.1',
    ACCESS_CHECKER: 'permissive',
    RUN_MODE: 'DEV',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    ...options.env,
  };
  let gateway: Gateway;
  let gatewayUrl: string;
  try {
    const config = loadConfig(env);
    gateway = await createGateway(config, {
      env,
      logger: options.logger ?? createLogger(config.logLevel),
      ...(options.extraCheckers ? { extraCheckers: options.extraCheckers } : {}),
    });
    gatewayUrl = await gateway.listen();
  } catch (error) {
    // Servers this call started must not outlive a failed start (they would keep the test process alive).
    if (!options.fhir) await fhir.close();
    if (!options.issuer) await issuer.close();
    throw error;
  }
  return {
    fhirBase: `${gatewayUrl}/fhir`,
    gatewayUrl,
    fhir,
    issuer,
    gateway,
    async close() {
      await gateway.close();
      if (!options.fhir) await fhir.close();
      if (!options.issuer) await issuer.close();
    },
  };
}
