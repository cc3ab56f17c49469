import { ROLE } from '../opensrp/claims.js';
import { APP_IDS, PERSONAS } from '../../test/support/opensrp-dataset.js';

/**
 * The demo's users, as the local issuer knows them: Keycloak-shaped claims with realm roles,
 * `fhir_core_app_id` (the Location sync strategy app) and a `sub` matching the seeded
 * Practitioner identifiers.
 */
export interface DemoPersona {
  /** Username for the issuer's password grant, and the suffix of the banner's `TOKEN_<name>` line. */
  readonly username: string;
  readonly title: string;
  /** What the persona should see through the gateway, in one line. */
  readonly sees: string;
  readonly claims: Record<string, unknown>;
}

/** Configuration the Android app reads, and the reference data its registers show. */
const REFERENCE_TYPES = [
  'Composition',
  'Binary',
  'Questionnaire',
  'List',
  'Location',
  'Practitioner',
  'PractitionerRole',
  'CareTeam',
  'Organization',
  'OrganizationAffiliation',
  'Group',
];

/** What a health worker records in the field. */
const CLINICAL_TYPES = ['Patient', 'Observation', 'Encounter', 'QuestionnaireResponse', 'Task', 'Condition'];

const roles = (verb: 'GET' | 'MANAGE', types: readonly string[]): string[] =>
  types.map((type) => `${verb}_${type.toUpperCase()}`);

const fieldRoles = [...roles('GET', REFERENCE_TYPES), ...roles('MANAGE', CLINICAL_TYPES)];

function keycloakClaims(sub: string, realmRoles: readonly string[]): Record<string, unknown> {
  return {
    sub,
    realm_access: { roles: [...realmRoles] },
    fhir_core_app_id: APP_IDS.Location,
  };
}

export const WEB_ADMIN_SUB = 'kc-web-admin';

export function demoPersonas(workerVillages: number): DemoPersona[] {
  return [
    {
      username: 'worker',
      title: `health worker at ${PERSONAS.worker.facility} (ANDROID_CLIENT, Location sync strategy)`,
      sees: `only the patients of the ${workerVillages} villages under ${PERSONAS.worker.facility}`,
      claims: keycloakClaims(PERSONAS.worker.sub, [ROLE.androidClient, ...fieldRoles]),
    },
    {
      username: 'supervisor',
      title: `supervisor of ${PERSONAS.supervisor.careTeamId} (ANDROID_CLIENT + SUPERVISOR)`,
      sees: `the same villages as the worker; /PractitionerDetail lists the team's practitioners`,
      claims: keycloakClaims(PERSONAS.supervisor.sub, [ROLE.androidClient, ROLE.supervisor, ...fieldRoles]),
    },
    {
      username: 'webadmin',
      title: 'web portal administrator (WEB_CLIENT)',
      sees: 'everything: web clients are checked on roles only, never narrowed to locations',
      claims: keycloakClaims(WEB_ADMIN_SUB, [
        ROLE.webClient,
        ...roles('MANAGE', [...REFERENCE_TYPES, ...CLINICAL_TYPES]),
      ]),
    },
  ];
}

/** username -> claims, the shape startIssuer's password grant wants. */
export function issuerUsers(personas: readonly DemoPersona[]): Record<string, Record<string, unknown>> {
  return Object.fromEntries(personas.map((persona) => [persona.username, persona.claims]));
}
