import { relative } from 'node:path';
import { APP_IDS, PERSONAS } from '../../test/support/opensrp-dataset.js';
import type { DemoPersona } from './personas.js';

/**
 * The text the demo prints once everything listens. Besides the prose it holds lines a program can
 * parse (and a shell can paste): `GATEWAY_URL=<root url>` and one `TOKEN_<username>=<jwt>` per
 * persona; the last line is `READY_LINE`.
 */

export const READY_LINE = 'Demo ready. Press Ctrl-C to stop.';

export interface BannerPersona {
  readonly persona: DemoPersona;
  readonly token: string;
  /** What the gateway answered this persona for `Patient?_summary=count`. */
  readonly patientCount: string;
}

export interface BannerInput {
  readonly gatewayUrl: string;
  readonly fhirBaseUrl: string;
  readonly issuerUrl: string;
  readonly accessChecker: string;
  readonly runMode: string;
  readonly locationCount: number;
  readonly patientCount: number;
  readonly allowedQueriesFile?: string;
  /** Things that differ from a normal run (fallback checker, busy ports). */
  readonly notes: readonly string[];
  readonly tokenHours: number;
  /** A patient of another district, to show a read by id outside the worker's scope. */
  readonly outOfScopePatientId?: string;
  readonly personas: readonly BannerPersona[];
}

const curl = (username: string, url: string): string =>
  `  curl -s -H "Authorization: Bearer $TOKEN_${username}" '${url}'`;

/** Endpoint examples worth trying per persona, beyond the patient searches every persona gets. */
function extraExamples(username: string, gatewayUrl: string, outOfScopePatientId?: string): string[] {
  if (username === 'worker')
    return [
      ...(outOfScopePatientId
        ? [`${curl(username, `${gatewayUrl}/fhir/Patient/${outOfScopePatientId}`)}   # another district`]
        : []),
      curl(username, `${gatewayUrl}/LocationHierarchy?_id=${PERSONAS.worker.facility}`),
      curl(username, `${gatewayUrl}/PractitionerDetail?keycloak-uuid=${PERSONAS.worker.sub}`),
    ];
  if (username === 'supervisor')
    return [curl(username, `${gatewayUrl}/PractitionerDetail?keycloak-uuid=${PERSONAS.supervisor.sub}`)];
  return [];
}

function personaSection(entry: BannerPersona, gatewayUrl: string, outOfScopePatientId?: string): string[] {
  const { persona, token } = entry;
  return [
    `${persona.username}: ${persona.title}`,
    `  meant to see ${persona.sees}`,
    `  the gateway answers Patient?_summary=count with: ${entry.patientCount}`,
    `  TOKEN_${persona.username}=${token}`,
    curl(persona.username, `${gatewayUrl}/fhir/Patient?_summary=count`),
    curl(persona.username, `${gatewayUrl}/fhir/Patient?_count=5`),
    ...extraExamples(persona.username, gatewayUrl, outOfScopePatientId),
    '',
  ];
}

export function formatBanner(input: BannerInput): string {
  const rule = '-'.repeat(78);
  const allowed = input.allowedQueriesFile
    ? relative(process.cwd(), input.allowedQueriesFile) || input.allowedQueriesFile
    : '(none)';
  const usernames = input.personas.map((entry) => entry.persona.username);
  const tokenEndpoint = `${input.issuerUrl}/protocol/openid-connect/token`;
  const lines = [
    rule,
    'FHIR Gateway demo: OpenSRP',
    rule,
    `Gateway      ${input.gatewayUrl}/fhir   (ACCESS_CHECKER=${input.accessChecker}, RUN_MODE=${input.runMode})`,
    `FHIR server  ${input.fhirBaseUrl}   (${input.locationCount} Locations, ${input.patientCount} Patients; no auth, behind the gateway)`,
    `Issuer       ${input.issuerUrl}`,
    `Allowed queries file: ${allowed}`,
    ...input.notes.map((note) => `NOTE: ${note}`),
    '',
    `Paste a persona's TOKEN_ line into a shell, then its curl lines (tokens last ${input.tokenHours} h).`,
    '',
    ...input.personas.flatMap((entry) => personaSection(entry, input.gatewayUrl, input.outOfScopePatientId)),
    ...(input.allowedQueriesFile
      ? [
          'Before login the app reads its configuration without a token (allowed by the allowed queries file):',
          `  curl -s '${input.gatewayUrl}/fhir/Composition/composition-${APP_IDS.Location}'`,
          '',
        ]
      : []),
    `A fresh token (valid 5 min) from the issuer's password grant (users: ${usernames.join(', ')}; any password):`,
    `  curl -s -d grant_type=password -d username=${usernames[0] ?? 'worker'} -d password=demo '${tokenEndpoint}'`,
    '',
    `GATEWAY_URL=${input.gatewayUrl}`,
    READY_LINE,
  ];
  return `${lines.join('\n')}\n`;
}
