/**
 * Who made a request, for the AuditEvent's user and client agents, from the verified token's
 * claims (or the decision's `auditAgent`). Never the token, and no claim but these: the subject
 * and issuer, the user name, the client id and the JWT ID.
 */
import type { GrantedDecision, Reference, VerifiedToken } from '../access/contract.js';
import { JTI_PREFIX } from './codes.js';
import type { Principal } from './event.js';

/** The agent of a request that carried no verified token (metadata, unauthenticated allowed queries, 401s). */
export const ANONYMOUS = 'anonymous';

const ANONYMOUS_PRINCIPAL: Principal = {
  user: { who: { display: ANONYMOUS } },
  client: { display: ANONYMOUS },
};

/** Claim values longer than this are not recorded: a claim is a name or an id, not a document. */
const MAX_CLAIM_LENGTH = 256;

function claim(token: VerifiedToken, name: string): string | undefined {
  const value = token.claims[name];
  return typeof value === 'string' && value !== '' && value.length <= MAX_CLAIM_LENGTH ? value : undefined;
}

/** Verified tokens are cached (auth/claims-cache.ts): one principal per token object, built once. */
const principals = new WeakMap<VerifiedToken, Principal>();

/**
 * The principal, or undefined when the decision's `auditAgent` answers undefined (the plugin
 * contract's way to turn audit off for a request).
 */
export function principalOf(
  token: VerifiedToken | undefined,
  decision: GrantedDecision | undefined,
): Principal | undefined {
  let agent: Reference | undefined;
  if (decision?.auditAgent !== undefined) {
    agent = decision.auditAgent();
    if (agent === undefined) return undefined;
  }
  if (token === undefined)
    return agent ? { ...ANONYMOUS_PRINCIPAL, user: { who: agent } } : ANONYMOUS_PRINCIPAL;
  if (agent !== undefined) return principalFrom(token, agent);
  let principal = principals.get(token);
  if (principal === undefined) {
    principal = principalFrom(token, undefined);
    principals.set(token, principal);
  }
  return principal;
}

function principalFrom(token: VerifiedToken, agent: Reference | undefined): Principal {
  const subject = claim(token, 'sub');
  const name = claim(token, 'preferred_username') ?? claim(token, 'name');
  const clientId = claim(token, 'azp') ?? claim(token, 'client_id');
  const jti = claim(token, 'jti');
  const who: Reference = agent ?? {
    ...(subject !== undefined ? { identifier: { system: token.issuer, value: subject } } : {}),
    display: name ?? subject ?? 'unknown user',
  };
  return {
    user: {
      who,
      ...(name !== undefined ? { name } : {}),
      ...(jti !== undefined ? { policy: [`${JTI_PREFIX}${jti}`] } : {}),
    },
    client: clientId !== undefined ? { identifier: { value: clientId } } : { display: 'unknown client' },
  };
}
