import {
  AzureAuthorityHosts,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type TokenCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import type { AzureSettings } from './settings.js';
import type { CredentialSource } from './source.js';
import { TokenCache } from './token-cache.js';

const TOKEN_TIMEOUT_MS = 10_000;

/**
 * `BACKEND_TYPE=AZURE`: Azure Health Data Services through @azure/identity, choosing the
 * credential the way DefaultAzureCredential's deployed-service part does (client secret, then
 * certificate, then workload identity, then managed identity), without its developer-tool
 * fallbacks (Azure CLI, PowerShell), which would spawn processes on a server.
 */
export function azureSource(settings: AzureSettings): CredentialSource {
  const credential = credentialOf(settings);
  const scopes = [...settings.scopes];
  const cache = new TokenCache(async () => {
    const token = await credential.getToken(scopes, { abortSignal: AbortSignal.timeout(TOKEN_TIMEOUT_MS) });
    if (!token) throw new Error('@azure/identity returned no access token');
    return {
      token: token.token,
      expiresAt: token.expiresOnTimestamp,
      ...(token.refreshAfterTimestamp ? { refreshAt: token.refreshAfterTimestamp } : {}),
    };
  });
  return {
    authorization: async () => `Bearer ${await cache.get()}`,
    invalidate: () => cache.invalidate(),
    secrets: [settings.clientSecret, settings.certificatePassword].filter(
      (s): s is string => s !== undefined,
    ),
  };
}

/** Which credential the settings describe (config validation made each branch complete). */
export function azureCredentialKind(
  settings: AzureSettings,
): 'client-secret' | 'client-certificate' | 'workload-identity' | 'managed-identity' {
  if (settings.clientSecret !== undefined) return 'client-secret';
  if (settings.certificatePath !== undefined) return 'client-certificate';
  if (settings.federatedTokenFile !== undefined) return 'workload-identity';
  return 'managed-identity';
}

function credentialOf(settings: AzureSettings): TokenCredential {
  const authority = {
    ...(settings.authorityHost ? { authorityHost: settings.authorityHost } : {}),
    // Microsoft Entra's instance discovery knows only its public clouds; any other authority
    // (Azure Stack, a sovereign or private one) is used as configured.
    disableInstanceDiscovery:
      settings.authorityHost !== undefined && !isKnownAuthority(settings.authorityHost),
  };
  const tenantId = settings.tenantId ?? '';
  const clientId = settings.clientId ?? '';
  switch (azureCredentialKind(settings)) {
    case 'client-secret':
      return new ClientSecretCredential(tenantId, clientId, settings.clientSecret ?? '', authority);
    case 'client-certificate':
      return new ClientCertificateCredential(
        tenantId,
        clientId,
        {
          certificatePath: settings.certificatePath ?? '',
          ...(settings.certificatePassword ? { certificatePassword: settings.certificatePassword } : {}),
        },
        authority,
      );
    case 'workload-identity':
      return new WorkloadIdentityCredential({
        tenantId,
        clientId,
        tokenFilePath: settings.federatedTokenFile ?? '',
        ...authority,
      });
    case 'managed-identity':
      return settings.clientId
        ? new ManagedIdentityCredential({ clientId: settings.clientId })
        : new ManagedIdentityCredential();
  }
}

function isKnownAuthority(host: string): boolean {
  const known = Object.values(AzureAuthorityHosts).map((h) => new URL(h).host);
  return known.includes(new URL(host).host);
}
