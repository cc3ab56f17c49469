import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AccessCheckerFactory } from '../access/contract.js';
import { BUILT_IN_CHECKERS } from '../checkers/index.js';
import { loadConfig } from '../config/index.js';
import { createGateway, type Gateway } from '../server/gateway.js';
import { createLogger } from '../server/logger.js';
import { type LocalFhirServer, startFhirServer } from '../../test/support/fhir-server.js';
import { type LocalIssuer, startIssuer } from '../../test/support/issuer.js';
import {
  buildOpenSrpDataset,
  type DatasetShape,
  type OpenSrpDataset,
} from '../../test/support/opensrp-dataset.js';
import { type DemoPersona, issuerUsers } from './personas.js';
import { portFromEnv, startOnPort } from './ports.js';

type Environment = Readonly<Record<string, string | undefined>>;

/** 1 country, 4 districts, 24 facilities, 240 villages: 269 Locations and 240 tagged patients. */
export const DEMO_SHAPE: DatasetShape = {
  districts: 4,
  facilitiesPerDistrict: 6,
  villagesPerFacility: 10,
  patientsPerVillage: 1,
};

export const DEMO_REALM = 'opensrp';

const ALLOWED_QUERIES_FILE = fileURLToPath(
  new URL('../../resources/opensrp_allowed_queries.json', import.meta.url),
);

export interface GatewayMode {
  readonly accessChecker: string;
  readonly runMode: 'PROD' | 'DEV';
  /** Set when the demo could not run the way it is meant to, to be shown in the banner. */
  readonly caveat?: string;
}

/** `permission` in PROD once it is registered; until then the permissive checker, which needs DEV. */
export function chooseGatewayMode(available: readonly AccessCheckerFactory[]): GatewayMode {
  if (available.some((factory) => factory.name === 'permission'))
    return { accessChecker: 'permission', runMode: 'PROD' };
  return {
    accessChecker: 'permissive',
    runMode: 'DEV',
    caveat:
      'the OpenSRP `permission` checker is not registered in this build, so the gateway runs the ' +
      'permissive checker (RUN_MODE=DEV): every persona sees every patient',
  };
}

export interface DemoStack {
  /** The gateway's root URL; FHIR is under `/fhir`. */
  readonly gatewayUrl: string;
  readonly fhir: LocalFhirServer;
  readonly issuer: LocalIssuer;
  readonly gateway: Gateway;
  readonly mode: GatewayMode;
  readonly dataset: OpenSrpDataset;
  readonly allowedQueriesFile?: string;
  /** One line per server that could not get its usual port. */
  readonly portNotes: readonly string[];
  close(): Promise<void>;
}

/** Starts the seeded FHIR server, the issuer and the gateway in front of them, in that order. */
export async function startDemoStack(env: Environment, personas: readonly DemoPersona[]): Promise<DemoStack> {
  const portNotes: string[] = [];
  const noteFallback = (what: string) => (port: number) =>
    portNotes.push(`port ${port} is busy, so the ${what} listens on a free port instead`);
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    closers.length = 0;
  };

  try {
    const dataset = buildOpenSrpDataset(DEMO_SHAPE);
    const fhir = await startOnPort(
      portFromEnv(env, ['DEMO_FHIR_PORT'], 8099),
      (port) => startFhirServer({ port, seed: dataset.resources }),
      noteFallback('FHIR server'),
    );
    closers.push(() => fhir.close());

    const issuer = await startOnPort(
      portFromEnv(env, ['DEMO_ISSUER_PORT'], 8090),
      (port) => startIssuer({ port, realm: DEMO_REALM, users: issuerUsers(personas) }),
      noteFallback('token issuer'),
    );
    closers.push(() => issuer.close());

    const mode = chooseGatewayMode(BUILT_IN_CHECKERS);
    const allowedQueriesFile = existsSync(ALLOWED_QUERIES_FILE) ? ALLOWED_QUERIES_FILE : undefined;
    const gatewayEnv = (port: number): Record<string, string | undefined> => ({
      ...env,
      LOG_LEVEL: env.LOG_LEVEL?.trim() || 'warn',
      PROXY_TO: fhir.baseUrl,
      TOKEN_ISSUER: issuer.issuerUrl,
      PROXY_HOST: '127.0.0.1',
      PROXY_PORT: String(port),
      ACCESS_CHECKER: mode.accessChecker,
      RUN_MODE: mode.runMode,
      ALLOWED_QUERIES_FILE: allowedQueriesFile ?? '',
    });
    const { gateway, url } = await startOnPort(
      portFromEnv(env, ['DEMO_GATEWAY_PORT', 'PROXY_PORT'], 8080),
      (port) => startGateway(gatewayEnv(port)),
      noteFallback('gateway'),
    );
    closers.push(() => gateway.close());

    return {
      gatewayUrl: url,
      fhir,
      issuer,
      gateway,
      mode,
      dataset,
      ...(allowedQueriesFile ? { allowedQueriesFile } : {}),
      portNotes,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function startGateway(
  env: Record<string, string | undefined>,
): Promise<{ gateway: Gateway; url: string }> {
  const config = loadConfig(env);
  const gateway = await createGateway(config, { env, logger: createLogger(config.logLevel) });
  try {
    return { gateway, url: await gateway.listen() };
  } catch (error) {
    await gateway.close().catch(() => undefined);
    throw error;
  }
}
