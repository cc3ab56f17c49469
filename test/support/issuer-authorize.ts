/**
 * The authorization-code flow with PKCE (RFC 6749 §4.1, RFC 7636 S256) for the local issuer, so a
 * real SMART client can run a standalone launch against it: the authorize endpoint approves the
 * configured user at once (no login page) and redirects back with a one-time code, which the token
 * endpoint exchanges once, checking the redirect URI, the client and the code verifier.
 */
import { createHash, randomUUID } from 'node:crypto';

interface PendingCode {
  readonly username: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly challenge: string;
}

export type Redeemed = { readonly username: string; readonly scope: string } | { readonly error: string };

export class AuthorizationCodes {
  private readonly pending = new Map<string, PendingCode>();

  /** The redirect for an authorize request, or an error when it cannot be approved. */
  authorize(query: URLSearchParams, username: string): { location: string } | { error: string } {
    const redirectUri = query.get('redirect_uri') ?? '';
    const clientId = query.get('client_id') ?? '';
    const challenge = query.get('code_challenge') ?? '';
    if (query.get('response_type') !== 'code' || !/^https?:\/\//.test(redirectUri) || clientId === '') {
      return { error: 'invalid_request' };
    }
    if (query.get('code_challenge_method') !== 'S256' || challenge === '')
      return { error: 'invalid_request' };
    const code = randomUUID();
    this.pending.set(code, { username, clientId, redirectUri, scope: query.get('scope') ?? '', challenge });
    const location = new URL(redirectUri);
    location.searchParams.set('code', code);
    const state = query.get('state');
    if (state !== null) location.searchParams.set('state', state);
    return { location: location.href };
  }

  /** Exchanges a code once (grant_type=authorization_code). */
  redeem(form: URLSearchParams): Redeemed {
    const code = form.get('code') ?? '';
    const pending = this.pending.get(code);
    this.pending.delete(code);
    if (pending === undefined) return { error: 'invalid_grant' };
    const verifier = form.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const clientId = form.get('client_id') ?? pending.clientId;
    if (
      form.get('redirect_uri') !== pending.redirectUri ||
      clientId !== pending.clientId ||
      challenge !== pending.challenge
    ) {
      return { error: 'invalid_grant' };
    }
    return { username: pending.username, scope: pending.scope };
  }
}
