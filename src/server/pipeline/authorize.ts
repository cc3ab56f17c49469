import { composeCheckers } from '../../access/compose.js';
import type {
  AccessCheckerFactory,
  GatewayContext,
  GrantedDecision,
  VerifiedToken,
} from '../../access/contract.js';
import { GatewayError } from '../../fhir/errors.js';
import type { FhirRequest } from '../../fhir/request.js';

/** Stage 5 (403, or the status a checker chose): every configured checker must grant. */
export async function authorize(
  factories: readonly AccessCheckerFactory[],
  ctx: GatewayContext,
  req: FhirRequest,
  token: VerifiedToken,
): Promise<GrantedDecision> {
  const checkers = await Promise.all(factories.map((factory) => factory.create(token, ctx)));
  const decision = await composeCheckers(checkers, { missingWins: true }).checkAccess(req);
  if (decision.canAccess) return decision;
  const status = decision.status ?? 403;
  const code = status === 404 ? 'not_found' : status === 412 ? 'precondition_failed' : 'access_denied';
  throw new GatewayError(status, code, decision.reason);
}
