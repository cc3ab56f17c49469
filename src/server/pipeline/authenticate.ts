import type { VerifiedToken } from '../../access/contract.js';
import type { TokenVerifier } from '../../auth/token-verifier.js';
import type { Exchange } from './exchange.js';

/** Stage 3 (401, or 503 while the issuer's keys cannot be loaded): verify the bearer token. */
export function authenticate(verifier: TokenVerifier, exchange: Exchange): Promise<VerifiedToken> {
  return verifier.verify(exchange.headers.authorization);
}
