import type { Environment } from '../config/index.js';
import { effectiveConfig, formatEffectiveConfig } from './effective-config.js';
import { onlineChecks } from './online-checks.js';
import { EXIT_CONFIG, prepareForCommand } from './prepare.js';

export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/**
 * `fhir-gateway check-config [--online]`: builds the gateway exactly as `start` does, without
 * listening, and prints the effective configuration (secrets hidden). Returns the exit status:
 * 0 valid, 2 invalid (the same one line as `start`), 1 for any other failure.
 */
export async function checkConfig(env: Environment, online: boolean, io: CommandIo): Promise<number> {
  // Warnings (e.g. PAGING_LINK_KEY unset) go to stderr as plain lines; stdout holds the listing.
  const prepared = await prepareForCommand(env, io.err, 'check the configuration');
  if (typeof prepared === 'number') return prepared;
  const { config, gateway } = prepared;
  try {
    io.out(`${formatEffectiveConfig(effectiveConfig(env))}\n`);
    if (!online) {
      io.out('configuration is valid\n');
      return 0;
    }
    const checks = await onlineChecks(config, gateway.context.fhirClient);
    for (const check of checks) io.out(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}\n`);
    const failed = checks.filter((check) => !check.ok);
    if (failed.length === 0) {
      io.out('configuration is valid; the token issuer and the FHIR server answer\n');
      return 0;
    }
    for (const check of failed) io.err(`fhir-gateway: online check failed: ${check.name}: ${check.detail}\n`);
    return EXIT_CONFIG;
  } finally {
    await gateway.close();
  }
}
