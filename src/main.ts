#!/usr/bin/env node
import { readConfigOrExit } from './config/index.js';
import { ConfigError } from './config/config-error.js';
import { createGateway } from './server/gateway.js';

const USAGE = 'usage: fhir-gateway [start | check-config]';

async function main(command: string): Promise<void> {
  const config = readConfigOrExit(process.env);
  if (command === 'check-config') {
    console.log('configuration is valid');
    return;
  }
  const gateway = await createGateway(config);
  const url = await gateway.listen();
  gateway.app.log.info({ url, backend: new URL(config.proxyTo).origin }, 'fhir-gateway listening');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.app.log.info({ signal }, 'draining in-flight requests');
    const force = setTimeout(() => process.exit(1), config.shutdownGraceMs);
    force.unref();
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

const command = process.argv[2] ?? 'start';
if (command !== 'start' && command !== 'check-config') {
  console.error(USAGE);
  process.exit(2);
}
main(command).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`fhir-gateway: configuration error: ${error.message}`);
    process.exit(2);
  }
  console.error(`fhir-gateway: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
