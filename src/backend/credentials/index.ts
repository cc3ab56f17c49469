import { BackendAuth, type AuthEvents } from './backend-auth.js';
import type { BackendCredentialSettings } from './settings.js';
import type { CredentialSource } from './source.js';
import { basicSource, bearerSource } from './static.js';

export { type AuthEvents, type AuthFailureKind, BackendAuth } from './backend-auth.js';
export * from './settings.js';

/**
 * The credentials of a BACKEND_TYPE; undefined for HAPI, which sends none. The cloud client
 * libraries are loaded only for their type: together they hold megabytes of heap that every
 * garbage collection of a HAPI gateway would otherwise walk.
 */
export async function createBackendAuth(
  settings: BackendCredentialSettings,
  events?: AuthEvents,
): Promise<BackendAuth | undefined> {
  const source = await sourceOf(settings);
  return source && new BackendAuth(settings.type, source, events);
}

async function sourceOf(settings: BackendCredentialSettings): Promise<CredentialSource | undefined> {
  switch (settings.type) {
    case 'HAPI':
      return undefined;
    case 'GCP':
      return (await import('./gcp.js')).gcpSource(settings);
    case 'AZURE':
      return (await import('./azure.js')).azureSource(settings);
    case 'OAUTH2':
      return (await import('./oauth2.js')).oauth2Source(settings);
    case 'BASIC':
      return basicSource(settings.username, settings.password);
    case 'BEARER':
      return bearerSource(settings.token);
  }
}
