/**
 * The FHIR request pipeline, top to bottom. Each stage owns its failure status:
 *
 *   parse            400 / 405 / 413 / 415
 *   capabilities     GET metadata: no token, CapabilityStatement amended
 *   allowed queries  unauthenticated entries, before the token
 *   authenticate     401 (503 while the issuer's keys cannot be loaded); a paging link is
 *                    opened for the user it was issued to (403 otherwise)
 *   allowed queries  authenticated entries
 *   authorize        403 (or the status a checker chose)
 *   mutate           apply the decision's query mutation
 *   negotiate        406: answers the gateway must read are asked for as JSON, whole
 *   forward          502 / 504
 *   respond          stream with base-URL rewriting, or buffer, post-process and check every
 *                    resource against the decision's `visible` (404 / entries removed)
 */
import type { AccessCheckerFactory, GatewayContext } from '../../access/contract.js';
import type { AllowedQueries } from '../../access/allowed-queries.js';
import type { TokenVerifier } from '../../auth/token-verifier.js';
import type { Backend } from '../../backend/backend.js';
import { capabilityDecision } from '../capability-statement.js';
import { injectedParams, withoutParams } from '../injected-params.js';
import { composeTails, continuesSearch, type PagingLinks } from '../paging-links.js';
import type { GatewayMetrics } from '../metrics.js';
import { matchesAllowedQuery } from './allowed-queries.js';
import { authenticate } from './authenticate.js';
import { authorize } from './authorize.js';
import type { Exchange } from './exchange.js';
import { type ForwardOptions, forward } from './forward.js';
import { mutate } from './mutate.js';
import type { FhirRequest } from '../../fhir/request.js';
import { mustReadAnswer, negotiate } from './negotiate.js';
import { answerNeedsCheck } from './answer-check.js';
import { type ParseLimits, parse } from './parse.js';
import { type Reply, respond } from './respond.js';

export interface PipelineDeps {
  readonly backend: Backend;
  readonly verifier: TokenVerifier;
  readonly allowedQueries?: AllowedQueries;
  readonly checkers: readonly AccessCheckerFactory[];
  readonly context: GatewayContext;
  readonly metrics: GatewayMetrics;
  readonly tokenIssuer: string;
  readonly forwardOptions: ForwardOptions;
  readonly parseLimits: ParseLimits;
  readonly pagingLinks: PagingLinks;
}

/** A request decided by the stages before `forward`: what the client asked, and what goes upstream. */
export interface Decided {
  /** The parsed request (a paging link opened as the search it continues). */
  readonly req: FhirRequest;
  /** After the decision's mutation and negotiation: what `forward` sends. */
  readonly mutated: FhirRequest;
  /** The answer is buffered and checked against the decision's `visible`. */
  readonly checked: boolean;
}

/**
 * Parse to negotiate: authenticates, authorizes and narrows the request without sending it. Throws
 * the GatewayError of the stage that refuses. `fhir-gateway explain` stops here.
 */
export async function decide(deps: PipelineDeps, exchange: Exchange): Promise<Decided> {
  let req = parse(exchange, deps.parseLimits);
  exchange.fhir = req;

  if (req.interaction === 'capabilities') {
    exchange.decision = capabilityDecision(deps.tokenIssuer, () =>
      deps.verifier.loadDiscovery().catch(() => undefined),
    );
    exchange.grantedBy = 'capabilities';
  } else if (!continuesSearch(req) && matchesAllowedQuery(deps.allowedQueries, req, false)) {
    exchange.grantedBy = 'unauthenticated-allowed-query';
  } else {
    exchange.token = await authenticate(deps.verifier, exchange);
    const continuation = continuesSearch(req);
    if (continuation) {
      // A continuation is authorized as a search of its type, by the user it was issued to.
      req = deps.pagingLinks.open(req, exchange.token);
      exchange.fhir = req;
    }
    if (!continuation && matchesAllowedQuery(deps.allowedQueries, req, true)) {
      exchange.grantedBy = 'allowed-query';
    } else {
      try {
        exchange.decision = await authorize(deps.checkers, deps.context, req, exchange.token);
      } catch (error) {
        deps.metrics.decisions.inc({ outcome: 'denied', by: 'checker' });
        throw error;
      }
      exchange.grantedBy = 'checker';
    }
  }
  deps.metrics.decisions.inc({ outcome: 'granted', by: exchange.grantedBy });

  const checked = answerNeedsCheck(req, exchange.decision);
  const mutated = negotiate(
    mutate(req, exchange.decision?.mutation),
    mustReadAnswer(exchange.decision, checked),
    checked,
  );
  return { req, mutated, checked };
}

export async function handleFhirRequest(deps: PipelineDeps, exchange: Exchange): Promise<Reply> {
  const { req, mutated, checked } = await decide(deps, exchange);
  const started = process.hrtime.bigint();
  const upstream = await forward(deps.backend, exchange, mutated, deps.forwardOptions);
  deps.metrics.upstreamDuration.observe(
    { status: String(upstream.status) },
    Number(process.hrtime.bigint() - started) / 1e9,
  );
  // Links handed on never carry the params a decision added, and paging links are bound to the caller.
  const links = composeTails(
    withoutParams(injectedParams(req.query, exchange.decision?.mutation)),
    deps.pagingLinks.signer(exchange.token, req.resourceType),
  );
  return respond(exchange, mutated, exchange.decision, upstream, {
    backendBaseUrl: deps.backend.baseUrl,
    links,
    checked,
  });
}
