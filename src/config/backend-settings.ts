/**
 * BACKEND_TYPE and the settings it needs → one BackendCredentialSettings, checked at start: a type
 * missing a setting, or given one it does not use, stops the gateway with the variable's name.
 */
import { accessSync, constants } from 'node:fs';
import {
  type BackendCredentialSettings,
  type BackendType,
  GCP_DEFAULT_SCOPE,
  azureDefaultScope,
  isLoopbackUrl,
} from '../backend/credentials/settings.js';
import { algorithmOf } from '../backend/credentials/oauth2.js';
import { ConfigError } from './config-error.js';

export interface BackendValues {
  readonly PROXY_TO: string;
  readonly RUN_MODE: 'PROD' | 'DEV';
  readonly BACKEND_TYPE: BackendType;
  readonly BACKEND_SCOPE?: string[] | undefined;
  readonly BACKEND_TOKEN_URL?: string | undefined;
  readonly BACKEND_ISSUER?: string | undefined;
  readonly BACKEND_CLIENT_ID?: string | undefined;
  readonly BACKEND_CLIENT_SECRET?: string | undefined;
  readonly BACKEND_CLIENT_PRIVATE_KEY?: string | undefined;
  readonly BACKEND_CLIENT_KEY_ID?: string | undefined;
  readonly BACKEND_AUDIENCE?: string | undefined;
  readonly BACKEND_USERNAME?: string | undefined;
  readonly BACKEND_PASSWORD?: string | undefined;
  readonly BACKEND_BEARER_TOKEN?: string | undefined;
  readonly GOOGLE_APPLICATION_CREDENTIALS?: string | undefined;
  readonly AZURE_TENANT_ID?: string | undefined;
  readonly AZURE_CLIENT_ID?: string | undefined;
  readonly AZURE_CLIENT_SECRET?: string | undefined;
  readonly AZURE_CLIENT_CERTIFICATE_PATH?: string | undefined;
  readonly AZURE_CLIENT_CERTIFICATE_PASSWORD?: string | undefined;
  readonly AZURE_AUTHORITY_HOST?: string | undefined;
  readonly AZURE_FEDERATED_TOKEN_FILE?: string | undefined;
}

type BackendSettingName = keyof BackendValues & `BACKEND_${string}`;

/** The BACKEND_* settings each type reads; setting another one is a mistake worth stopping for. */
const USED: Readonly<Record<BackendType, readonly BackendSettingName[]>> = {
  HAPI: [],
  GCP: ['BACKEND_SCOPE'],
  AZURE: ['BACKEND_SCOPE'],
  OAUTH2: [
    'BACKEND_SCOPE',
    'BACKEND_TOKEN_URL',
    'BACKEND_ISSUER',
    'BACKEND_CLIENT_ID',
    'BACKEND_CLIENT_SECRET',
    'BACKEND_CLIENT_PRIVATE_KEY',
    'BACKEND_CLIENT_KEY_ID',
    'BACKEND_AUDIENCE',
  ],
  BASIC: ['BACKEND_USERNAME', 'BACKEND_PASSWORD'],
  BEARER: ['BACKEND_BEARER_TOKEN'],
};

const ALL_SETTINGS = [...new Set(Object.values(USED).flat())];

export function backendSettings(v: BackendValues): BackendCredentialSettings {
  const type = v.BACKEND_TYPE;
  for (const name of ALL_SETTINGS) {
    if (v[name] !== undefined && !USED[type].includes(name)) {
      throw new ConfigError(name, `is set, but BACKEND_TYPE=${type} does not use it`);
    }
  }
  const devMode = v.RUN_MODE === 'DEV';
  switch (type) {
    case 'HAPI':
      return { type };
    case 'GCP': {
      requireHttps('PROXY_TO', v.PROXY_TO, devMode);
      const keyFile = v.GOOGLE_APPLICATION_CREDENTIALS;
      if (keyFile !== undefined) readable('GOOGLE_APPLICATION_CREDENTIALS', keyFile);
      const projectId = /\/projects\/([^/]+)\//.exec(new URL(v.PROXY_TO).pathname)?.[1];
      return {
        type,
        scopes: scopesOr(v.BACKEND_SCOPE, [GCP_DEFAULT_SCOPE]),
        ...(keyFile === undefined ? {} : { keyFile }),
        ...(projectId === undefined ? {} : { projectId: decodeURIComponent(projectId) }),
      };
    }
    case 'AZURE':
      return azureSettings(v, devMode);
    case 'OAUTH2':
      return oauth2Settings(v, devMode);
    case 'BASIC':
      return {
        type,
        username: required('BACKEND_USERNAME', v.BACKEND_USERNAME, type),
        password: required('BACKEND_PASSWORD', v.BACKEND_PASSWORD, type),
      };
    case 'BEARER':
      return { type, token: required('BACKEND_BEARER_TOKEN', v.BACKEND_BEARER_TOKEN, type) };
  }
}

function azureSettings(v: BackendValues, devMode: boolean): BackendCredentialSettings {
  requireHttps('PROXY_TO', v.PROXY_TO, devMode);
  if (v.AZURE_AUTHORITY_HOST !== undefined && new URL(v.AZURE_AUTHORITY_HOST).protocol !== 'https:') {
    throw new ConfigError('AZURE_AUTHORITY_HOST', 'must be an https URL');
  }
  const secret = v.AZURE_CLIENT_SECRET;
  const certificate = v.AZURE_CLIENT_CERTIFICATE_PATH;
  if (secret !== undefined && certificate !== undefined) {
    throw new ConfigError('AZURE_CLIENT_SECRET', 'and AZURE_CLIENT_CERTIFICATE_PATH are both set; set one');
  }
  if (certificate !== undefined) readable('AZURE_CLIENT_CERTIFICATE_PATH', certificate);
  if (secret !== undefined || certificate !== undefined || v.AZURE_FEDERATED_TOKEN_FILE !== undefined) {
    const why = 'with a client secret, certificate or federated token';
    required('AZURE_TENANT_ID', v.AZURE_TENANT_ID, why);
    required('AZURE_CLIENT_ID', v.AZURE_CLIENT_ID, why);
  }
  const optional = {
    tenantId: v.AZURE_TENANT_ID,
    clientId: v.AZURE_CLIENT_ID,
    clientSecret: secret,
    certificatePath: certificate,
    certificatePassword: v.AZURE_CLIENT_CERTIFICATE_PASSWORD,
    authorityHost: v.AZURE_AUTHORITY_HOST,
    federatedTokenFile: v.AZURE_FEDERATED_TOKEN_FILE,
  };
  return {
    type: 'AZURE',
    scopes: scopesOr(v.BACKEND_SCOPE, [azureDefaultScope(v.PROXY_TO)]),
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  };
}

function oauth2Settings(v: BackendValues, devMode: boolean): BackendCredentialSettings {
  const [endpointName, endpoint] = exactlyOne(
    ['BACKEND_TOKEN_URL', v.BACKEND_TOKEN_URL],
    ['BACKEND_ISSUER', v.BACKEND_ISSUER],
  );
  const allowHttp = requireHttps(endpointName, endpoint, devMode);
  const clientId = required('BACKEND_CLIENT_ID', v.BACKEND_CLIENT_ID, 'OAUTH2');
  const [secretName, secret] = exactlyOne(
    ['BACKEND_CLIENT_SECRET', v.BACKEND_CLIENT_SECRET],
    ['BACKEND_CLIENT_PRIVATE_KEY', v.BACKEND_CLIENT_PRIVATE_KEY],
  );
  if (secretName === 'BACKEND_CLIENT_PRIVATE_KEY') {
    try {
      algorithmOf(secret);
    } catch (error) {
      // The key's own text never goes into the message.
      const reason =
        error instanceof Error && /^unsupported (key type|EC curve)/.test(error.message)
          ? error.message
          : 'is not a PEM private key';
      throw new ConfigError(secretName, reason);
    }
  } else if (v.BACKEND_CLIENT_KEY_ID !== undefined) {
    throw new ConfigError('BACKEND_CLIENT_KEY_ID', 'is set, but only BACKEND_CLIENT_PRIVATE_KEY uses it');
  }
  return {
    type: 'OAUTH2',
    ...(endpointName === 'BACKEND_ISSUER' ? { issuer: endpoint } : { tokenUrl: endpoint }),
    clientId,
    ...(secretName === 'BACKEND_CLIENT_SECRET' ? { clientSecret: secret } : { privateKey: secret }),
    ...(v.BACKEND_CLIENT_KEY_ID === undefined ? {} : { keyId: v.BACKEND_CLIENT_KEY_ID }),
    ...(v.BACKEND_SCOPE === undefined ? {} : { scope: v.BACKEND_SCOPE.join(' ') }),
    ...(v.BACKEND_AUDIENCE === undefined ? {} : { audience: v.BACKEND_AUDIENCE }),
    allowHttp,
  };
}

/** https, or plain http to a loopback host or in DEV mode; returns whether it is plain http. */
function requireHttps(name: string, raw: string, devMode: boolean): boolean {
  const url = new URL(raw);
  if (url.protocol === 'https:') return false;
  if (isLoopbackUrl(url) || devMode) return true;
  throw new ConfigError(
    name,
    `must be https: the gateway sends credentials or gets tokens there (plain http only for a loopback host or with RUN_MODE=DEV), got ${JSON.stringify(raw)}`,
  );
}

function required(name: string, value: string | undefined, why: string): string {
  if (value === undefined)
    throw new ConfigError(name, `is required ${/^with/.test(why) ? why : `with BACKEND_TYPE=${why}`}`);
  return value;
}

function exactlyOne(
  a: readonly [string, string | undefined],
  b: readonly [string, string | undefined],
): [string, string] {
  if (a[1] !== undefined && b[1] !== undefined)
    throw new ConfigError(a[0], `and ${b[0]} are both set; set one`);
  if (a[1] !== undefined) return [a[0], a[1]];
  if (b[1] !== undefined) return [b[0], b[1]];
  throw new ConfigError(a[0], `or ${b[0]} is required with BACKEND_TYPE=OAUTH2`);
}

function scopesOr(given: string[] | undefined, fallback: string[]): string[] {
  return given !== undefined && given.length > 0 ? given : fallback;
}

function readable(name: string, path: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new ConfigError(
      name,
      `cannot read ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}
