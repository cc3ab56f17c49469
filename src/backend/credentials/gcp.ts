import { type AuthClient, GoogleAuth, gcpMetadata, type gaxios } from 'google-auth-library';
import type { GcpSettings } from './settings.js';
import type { CredentialSource } from './source.js';

export interface GcpSourceOptions {
  /**
   * The HTTP client the library's credential clients use (`AuthClientOptions.transporter`).
   * Unset in production; tests point it at a local fake of Google's fixed token endpoint.
   */
  readonly transporter?: gaxios.Gaxios;
}

/**
 * `BACKEND_TYPE=GCP`: Application Default Credentials through google-auth-library, as the Java
 * gateway does: the key file named by GOOGLE_APPLICATION_CREDENTIALS (service account, user or
 * external account), gcloud's user credentials, or the metadata server (GCE, GKE workload
 * identity, Cloud Run; GCE_METADATA_HOST overrides its address). The library caches the token and
 * refreshes it before expiry; the gateway asks it for every request and never fetches itself.
 */
export function gcpSource(settings: GcpSettings, options: GcpSourceOptions = {}): CredentialSource {
  let client: Promise<AuthClient> | undefined;
  let resolved: AuthClient | undefined;
  const clientOf = () => {
    client ??= new GoogleAuth({
      scopes: [...settings.scopes],
      ...(settings.keyFile ? { keyFilename: settings.keyFile } : {}),
      ...(settings.projectId ? { projectId: settings.projectId } : {}),
      ...(options.transporter ? { clientOptions: { transporter: options.transporter } } : {}),
    })
      .getClient()
      .then(
        (found) => {
          resolved = found;
          return found;
        },
        (error: unknown) => {
          // The library remembers "no metadata server" for the life of the process; a metadata
          // server that was down at the first try must be looked for again.
          client = undefined;
          gcpMetadata.resetIsAvailableCache();
          throw error;
        },
      );
    return client;
  };
  return {
    async authorization() {
      const { token } = await (await clientOf()).getAccessToken();
      if (!token) throw new Error('google-auth-library returned no access token');
      return `Bearer ${token}`;
    },
    invalidate() {
      // An expiry in the past makes the library fetch a new token on the next request.
      if (resolved) resolved.credentials = { ...resolved.credentials, expiry_date: 1 };
    },
    secrets: [],
  };
}
