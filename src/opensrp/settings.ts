import { ConfigError } from '../config/config-error.js';
import type { ConfigVariable } from '../config/variables.js';

/** Settings of the OpenSRP plugins, read from the same variables as the Java plugins. */
export interface OpenSrpSettings {
  readonly tagSystems: {
    readonly location: string;
    readonly organisation: string;
    readonly careTeam: string;
    readonly relatedEntityLocation: string;
    readonly practitioner: string;
    /** Lineage tags: a Location's ancestors (maintained by the gateway on Location writes). */
    readonly lineage: string;
  };
  /** TTL of the in-process caches; 0 disables caching. */
  readonly cacheTtlSeconds: number;
  /** The skip-list of requests that are never narrowed (upstream's file format). */
  readonly skipListFile?: string;
  /** Origins allowed to call /PractitionerDetail and /LocationHierarchy from a browser. */
  readonly corsAllowOrigin: string;
  /** Also read roles from `resource_access.<client>.roles` for these clients (comma list). */
  readonly clientRoleClients: readonly string[];
  /**
   * ANDROID_CLIENT users may write app configuration: Composition, Binary, ImplementationGuide, and
   * untagged resources of the types the skip-list exempts (issue 8, W12). Off by default.
   */
  readonly androidConfigWrites: boolean;
  /**
   * ANDROID_CLIENT users may write the resources their assignment is derived from, as long as the
   * write adds nothing to their own assignment (issue 8, E1-E3). Off by default.
   */
  readonly androidAssignmentWrites: boolean;
}

export const LINEAGE_SYSTEM = 'http://smartregister.org/CodeSystem/location-lineage';
export const ADMIN_LEVEL_SYSTEM = 'https://smartregister.org/codes/administrative-level';

const DEFAULTS = {
  LOCATION_TAG_URL: 'https://smartregister.org/location-tag-id',
  ORGANISATION_TAG_URL: 'https://smartregister.org/organisation-tag-id',
  CARE_TEAM_TAG_URL: 'https://smartregister.org/care-team-tag-id',
  RELATED_ENTITY_TAG_URL: 'https://smartregister.org/related-entity-location-tag-id',
  PRACTITIONER_TAG_URL: 'https://smartregister.org/practitioner-tag-id',
  opensrp_cache_timeout_seconds: '300',
  CORS_ALLOW_ORIGIN: '*',
} as const;

export const OPENSRP_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'SYNC_FILTER_IGNORE_RESOURCES_FILE',
    required: false,
    group: 'access',
    description:
      'JSON skip-list of requests that are never narrowed by the data access checker (upstream format). ' +
      'Unset: `resources/hapi_sync_filter_ignored_queries.json` is used.',
  },
  {
    name: 'LOCATION_TAG_URL',
    default: DEFAULTS.LOCATION_TAG_URL,
    required: false,
    group: 'access',
    description: 'Tag system of the Location sync strategy.',
  },
  {
    name: 'ORGANISATION_TAG_URL',
    default: DEFAULTS.ORGANISATION_TAG_URL,
    required: false,
    group: 'access',
    description: 'Tag system of the Organization sync strategy (British spelling, as upstream).',
  },
  {
    name: 'CARE_TEAM_TAG_URL',
    default: DEFAULTS.CARE_TEAM_TAG_URL,
    required: false,
    group: 'access',
    description: 'Tag system of the CareTeam sync strategy.',
  },
  {
    name: 'RELATED_ENTITY_TAG_URL',
    default: DEFAULTS.RELATED_ENTITY_TAG_URL,
    required: false,
    group: 'access',
    description:
      'Tag system of the RelatedEntityLocation sync strategy (the lineage system is always added).',
  },
  {
    name: 'PRACTITIONER_TAG_URL',
    default: DEFAULTS.PRACTITIONER_TAG_URL,
    required: false,
    group: 'access',
    description:
      'Tag system of the Practitioner sync strategy (new: the Java plugin fails on this strategy).',
  },
  {
    name: 'opensrp_cache_timeout_seconds',
    default: DEFAULTS.opensrp_cache_timeout_seconds,
    required: false,
    group: 'ops',
    description:
      'Seconds the OpenSRP caches (app config, assignments, hierarchies) keep an entry; `0` disables them. ' +
      'The legacy `openrsp_cache_timeout_seconds` and `OPENSRP_CACHE_EXPIRY_SECONDS` are accepted too.',
  },
  {
    name: 'OPENSRP_CLIENT_ROLE_CLIENTS',
    required: false,
    group: 'access',
    description:
      'Comma list of Keycloak client ids whose client roles (`resource_access.<id>.roles`) count as well as realm roles.',
  },
  {
    name: 'OPENSRP_ANDROID_CONFIG_WRITES',
    default: 'false',
    required: false,
    group: 'access',
    description:
      'ANDROID_CLIENT users may create, change and delete app configuration (Composition, Binary, ImplementationGuide, ' +
      'and untagged resources of skip-listed types), with their roles. Off: refused (403).',
  },
  {
    name: 'OPENSRP_ANDROID_ASSIGNMENT_WRITES',
    default: 'false',
    required: false,
    group: 'access',
    description:
      'ANDROID_CLIENT users may write Practitioner, PractitionerRole, CareTeam, Organization, OrganizationAffiliation ' +
      'and Location, when the write adds nothing to their own assignment. Off: refused (403).',
  },
];

function wholeSeconds(name: string, raw: string): number {
  if (!/^\d{1,9}$/.test(raw.trim()))
    throw new ConfigError(name, `must be a whole number of seconds, got '${raw}'`);
  return Number(raw.trim());
}

function flag(name: string, raw: string | undefined): boolean {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ConfigError(name, `must be true, false, 1 or 0, got '${raw}'`);
}

function url(name: string, raw: string | undefined, fallback: string): string {
  const value = raw?.trim() || fallback;
  try {
    new URL(value);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got '${value}'`);
  }
  return value;
}

/** Reads and validates the OpenSRP variables; throws ConfigError naming the variable. */
export function readOpenSrpSettings(env: Readonly<Record<string, string | undefined>>): OpenSrpSettings {
  // Upstream's name, its legacy misspelling, and the name its README gives.
  const ttlName = [
    'opensrp_cache_timeout_seconds',
    'openrsp_cache_timeout_seconds',
    'OPENSRP_CACHE_EXPIRY_SECONDS',
  ].find((name) => env[name]?.trim());
  const skipListFile = env.SYNC_FILTER_IGNORE_RESOURCES_FILE?.trim();
  return {
    tagSystems: {
      location: url('LOCATION_TAG_URL', env.LOCATION_TAG_URL, DEFAULTS.LOCATION_TAG_URL),
      organisation: url('ORGANISATION_TAG_URL', env.ORGANISATION_TAG_URL, DEFAULTS.ORGANISATION_TAG_URL),
      careTeam: url('CARE_TEAM_TAG_URL', env.CARE_TEAM_TAG_URL, DEFAULTS.CARE_TEAM_TAG_URL),
      relatedEntityLocation: url(
        'RELATED_ENTITY_TAG_URL',
        env.RELATED_ENTITY_TAG_URL,
        DEFAULTS.RELATED_ENTITY_TAG_URL,
      ),
      practitioner: url('PRACTITIONER_TAG_URL', env.PRACTITIONER_TAG_URL, DEFAULTS.PRACTITIONER_TAG_URL),
      lineage: LINEAGE_SYSTEM,
    },
    cacheTtlSeconds: ttlName
      ? wholeSeconds(ttlName, env[ttlName]!)
      : Number(DEFAULTS.opensrp_cache_timeout_seconds),
    ...(skipListFile ? { skipListFile } : {}),
    corsAllowOrigin: env.CORS_ALLOW_ORIGIN?.trim() || DEFAULTS.CORS_ALLOW_ORIGIN,
    clientRoleClients: (env.OPENSRP_CLIENT_ROLE_CLIENTS ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== ''),
    androidConfigWrites: flag('OPENSRP_ANDROID_CONFIG_WRITES', env.OPENSRP_ANDROID_CONFIG_WRITES),
    androidAssignmentWrites: flag('OPENSRP_ANDROID_ASSIGNMENT_WRITES', env.OPENSRP_ANDROID_ASSIGNMENT_WRITES),
  };
}
