import { azureSource } from './azure.js';
import { BackendAuth, type AuthEvents } from './backend-auth.js';
import { gcpSource } from './gcp.js';
import { oauth2Source } from './oauth2.js';
import type { BackendCredentialSettings } from './settings.js';
import type { CredentialSource } from './source.js';
import { basicSource, bearerSource } from './static.js';

export { type AuthEvents, type AuthFailureKind, BackendAuth } from './backend-auth.js';
export * from './settings.js';

/** The credentials of a BACKEND_TYPE; undefined for HAPI, which sends none. */
export function createBackendAuth(
  settings: BackendCredentialSettings,
  events?: AuthEvents,
): BackendAuth | undefined {
  const source = sourceOf(settings);
  return source && new BackendAuth(settings.type, source, events);
}

function sourceOf(settings: BackendCredentialSettings): CredentialSource | undefined {
  switch (settings.type) {
    case 'HAPI':
      return undefined;
    case 'GCP':
      return gcpSource(settings);
    case 'AZURE':
      return azureSource(settings);
    case 'OAUTH2':
      return oauth2Source(settings);
    case 'BASIC':
      return basicSource(settings.username, settings.password);
    case 'BEARER':
      return bearerSource(settings.token);
  }
}
