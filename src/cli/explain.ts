/**
 * `fhir-gateway explain`: one request through the pipeline's deciding stages (parse, allowed
 * queries, authenticate, authorize, mutate, negotiate: `decide` in server/pipeline/index.ts),
 * with the checkers' lookups answered by the live FHIR server, and the request `forward` would
 * send computed by `upstreamRequest`, but not sent.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { VerifiedToken } from '../access/contract.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { Environment, GatewayConfig } from '../config/index.js';
import { GatewayError } from '../fhir/errors.js';
import type { Exchange } from '../server/pipeline/exchange.js';
import { upstreamRequest } from '../server/pipeline/forward.js';
import { decide, type PipelineDeps } from '../server/pipeline/index.js';
import type { Command } from './args.js';
import { UsageError } from './args.js';
import type { CommandIo } from './check-config.js';
import { parseHeaders, parseRequestLine, readTokenInput, type TokenInput } from './explain-input.js';
import { type Explanation, formatExplanation, stageOf, upstreamOf } from './explain-report.js';
import { EXIT_CONFIG, EXIT_FAILURE, prepareForCommand } from './prepare.js';

/** Exit status of a request the gateway would refuse. */
export const EXIT_DENIED = 3;

type ExplainCommand = Extract<Command, { name: 'explain' }>;

export async function explain(env: Environment, command: ExplainCommand, io: CommandIo): Promise<number> {
  const prepared = await prepareForCommand(env, io.err, 'explain');
  if (typeof prepared === 'number') return prepared;
  const { config, gateway } = prepared;
  try {
    const explanation = await explainRequest(config, gateway.deps, command);
    io.out(command.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
    if (explanation.decision === 'granted') return 0;
    return explanation.decision === 'denied' ? EXIT_DENIED : EXIT_FAILURE;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`fhir-gateway: ${error.message}\n`);
    return EXIT_CONFIG;
  } finally {
    await gateway.close();
  }
}

async function explainRequest(
  config: GatewayConfig,
  gatewayDeps: PipelineDeps,
  command: ExplainCommand,
): Promise<Explanation> {
  const line = parseRequestLine(command.request);
  const token = readTokenInput(command.token, config.tokenIssuer, Math.floor(Date.now() / 1000));
  const headers = parseHeaders(command.headers);
  const body = command.bodyFile === undefined ? undefined : readBody(command.bodyFile);
  if (body !== undefined) headers['content-type'] ??= command.contentType ?? 'application/fhir+json';
  else if (command.contentType !== undefined) headers['content-type'] = command.contentType;
  if (token.kind === 'jwt') headers.authorization = `Bearer ${token.jwt}`;

  const deps = token.kind === 'claims' ? withClaims(gatewayDeps, token) : gatewayDeps;
  const host = config.proxyHost === '0.0.0.0' || config.proxyHost === '::' ? 'localhost' : config.proxyHost;
  const exchange: Exchange = {
    requestId: 'explain',
    method: line.method,
    target: line.target,
    headers,
    ...(body === undefined ? {} : { body }),
    baseUrl: `http://${host}:${config.proxyPort}/fhir`,
    remoteAddress: '127.0.0.1',
    signal: new EventEmitter(),
  };
  const request = { method: line.method, path: `/fhir${line.target}` };
  try {
    const decided = await decide(deps, exchange);
    const decision = exchange.decision;
    return {
      request,
      token: tokenReport(token, exchange.token),
      decision: 'granted',
      grantedBy: exchange.grantedBy ?? 'checker',
      reason: grantReason(exchange.grantedBy, config),
      ...(decision?.mutation ? { mutation: decision.mutation } : {}),
      upstream: upstreamOf(
        deps.backend.baseUrl,
        upstreamRequest(deps.backend.baseUrl, exchange, decided.mutated, deps.forwardOptions),
      ),
      answer: {
        checked: decided.checked,
        postProcessed: decision?.postProcess !== undefined,
      },
    };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return {
      request,
      token: tokenReport(token, exchange.token),
      decision: error.status >= 500 ? 'error' : 'denied',
      stage: stageOf(exchange),
      status: error.status,
      code: error.code,
      reason: error.message,
      ...(error.detail ? { detail: error.detail } : {}),
    };
  }
}

function readBody(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`--body ${path}: ${(error as Error).message}`);
  }
}

/** The gateway's deps with a verifier that takes the file's claims as they are. */
function withClaims(deps: PipelineDeps, token: Extract<TokenInput, { kind: 'claims' }>): PipelineDeps {
  const verifier: TokenVerifier = { ...deps.verifier, verify: async () => token.token };
  return { ...deps, verifier };
}

function tokenReport(input: TokenInput, verified: VerifiedToken | undefined): Explanation['token'] {
  const source = input.kind === 'claims' ? input.file : (input.file ?? 'argument');
  const who = verified
    ? { issuer: verified.issuer, ...(verified.subject === undefined ? {} : { subject: verified.subject }) }
    : {};
  if (input.kind === 'claims') {
    const note = 'bare claims: the signature, issuer, lifetime and token type were NOT checked';
    return { verified: false, source, note, ...who };
  }
  if (verified)
    return { verified: true, source, note: 'verified as the gateway verifies bearer tokens', ...who };
  return {
    verified: false,
    source,
    note: 'not verified (the request was decided without it, or refused first)',
  };
}

function grantReason(grantedBy: string | undefined, config: GatewayConfig): string {
  switch (grantedBy) {
    case 'capabilities':
      return 'GET metadata is answered to anyone, with the CapabilityStatement amended';
    case 'unauthenticated-allowed-query':
      return `matches an entry of ALLOWED_QUERIES_FILE (${config.allowedQueriesFile}) that needs no token`;
    case 'allowed-query':
      return `matches an entry of ALLOWED_QUERIES_FILE (${config.allowedQueriesFile}); no checker runs`;
    default:
      return `every checker of ACCESS_CHECKER=${config.accessCheckers.join(',')} granted it`;
  }
}
