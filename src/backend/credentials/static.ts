import type { CredentialSource } from './source.js';

/** `BACKEND_TYPE=BASIC`: HTTP Basic (RFC 7617) with a fixed user and password. */
export function basicSource(username: string, password: string): CredentialSource {
  const value = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  return { authorization: () => Promise.resolve(value), secrets: [password, value] };
}

/** `BACKEND_TYPE=BEARER`: one fixed token (RFC 6750), e.g. a long-lived API key. */
export function bearerSource(token: string): CredentialSource {
  const value = `Bearer ${token}`;
  return { authorization: () => Promise.resolve(value), secrets: [token] };
}
