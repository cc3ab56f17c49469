/**
 * `npm run demo`: the gateway with the OpenSRP checker in front of a local FHIR server seeded with
 * an OpenSRP-shaped dataset, a local Keycloak-like issuer, and a banner of tokens and curl lines.
 *
 * Ports: DEMO_FHIR_PORT (8099), DEMO_ISSUER_PORT (8090), DEMO_GATEWAY_PORT or PROXY_PORT (8080);
 * 0 picks a free port, and a busy port falls back to a free one. LOG_LEVEL defaults to `warn`.
 */
import { PERSONAS } from '../../test/support/opensrp-dataset.js';
import { type BannerPersona, formatBanner } from './banner.js';
import { demoPersonas } from './personas.js';
import { patientCountAs } from './self-check.js';
import { DEMO_SHAPE, type DemoStack, startDemoStack } from './stack.js';

const TOKEN_HOURS = 12;
/** Closing waits for in-flight requests; past this the demo gives up and exits 1. */
const SHUTDOWN_GRACE_MS = 5_000;
const REPEAT_SIGNAL_GRACE_MS = 1_000;

async function main(): Promise<void> {
  const personas = demoPersonas(DEMO_SHAPE.villagesPerFacility);
  const starting = startDemoStack(process.env, personas);
  // Installed before the servers listen, so a Ctrl-C during the start still closes them.
  installShutdown(starting);
  const stack = await starting;

  const bannerPersonas: BannerPersona[] = [];
  for (const persona of personas) {
    const token = await stack.issuer.mint(persona.claims, { expiresInSeconds: TOKEN_HOURS * 3600 });
    bannerPersonas.push({ persona, token, patientCount: await patientCountAs(stack.gatewayUrl, token) });
  }
  const countOf = (type: string) => stack.dataset.resources.filter((r) => r.resourceType === type).length;
  process.stdout.write(
    formatBanner({
      gatewayUrl: stack.gatewayUrl,
      fhirBaseUrl: stack.fhir.baseUrl,
      issuerUrl: stack.issuer.issuerUrl,
      accessChecker: stack.mode.accessChecker,
      runMode: stack.mode.runMode,
      locationCount: countOf('Location'),
      patientCount: countOf('Patient'),
      ...(stack.allowedQueriesFile ? { allowedQueriesFile: stack.allowedQueriesFile } : {}),
      notes: [...(stack.mode.caveat ? [stack.mode.caveat] : []), ...stack.portNotes],
      tokenHours: TOKEN_HOURS,
      outOfScopePatientId: stack.dataset.patientsIn(stack.dataset.subtreeOf(PERSONAS.other.facility))[0],
      personas: bannerPersonas,
    }),
  );
}

function installShutdown(starting: Promise<DemoStack>): void {
  let stoppingSince: number | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // A terminal's Ctrl-C reaches both tsx's supervisor and this process, and tsx may relay it
      // again: only a signal well after the first one means "stop waiting".
      if (Date.now() - stoppingSince < REPEAT_SIGNAL_GRACE_MS) return;
      process.stderr.write(`demo: ${signal} again, exiting without waiting\n`);
      process.exit(1);
    }
    stoppingSince = Date.now();
    process.stderr.write(`demo: ${signal} received, stopping the gateway, issuer and FHIR server\n`);
    const force = setTimeout(() => {
      process.stderr.write('demo: shutdown took too long, exiting\n');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    starting
      .then((stack) => stack.close())
      .then(
        () => {
          process.stderr.write('demo: stopped\n');
          process.exit(0);
        },
        (error: unknown) => {
          // A start that failed has already closed what it opened and reported why.
          process.stderr.write(`demo: stopped: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
