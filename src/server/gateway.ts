import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { loadAllowedQueries } from '../access/allowed-queries-file.js';
import type { AccessCheckerFactory, GatewayContext } from '../access/contract.js';
import { resolveCheckers } from '../access/registry.js';
import { AuditTrail } from '../audit/index.js';
import { createTokenVerifier, type TokenVerifier } from '../auth/token-verifier.js';
import { Backend } from '../backend/backend.js';
import { createBackendAuth } from '../backend/credentials/index.js';
import { BackendFhirClient } from '../backend/fhir-client.js';
import { BUILT_IN_CHECKERS } from '../checkers/index.js';
import { configWarnings, type GatewayConfig } from '../config/index.js';
import { buildApp, collectPluginRoutes } from './app.js';
import { createLogger } from './logger.js';
import { GatewayMetrics } from './metrics.js';
import type { PipelineDeps } from './pipeline/index.js';
import { PagingLinks } from './paging-links.js';

export interface GatewayOptions {
  /** Checkers ACCESS_CHECKER may name, in addition to the built-in ones. */
  extraCheckers?: readonly AccessCheckerFactory[];
  logger?: PinoLogger;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface Gateway {
  readonly app: FastifyInstance;
  readonly verifier: TokenVerifier;
  readonly backend: Backend;
  readonly context: GatewayContext;
  /** What the FHIR pipeline runs with (`fhir-gateway explain` runs its deciding stages alone). */
  readonly deps: PipelineDeps;
  /** Starts listening; resolves with the gateway's URL (e.g. `http://127.0.0.1:8080`). */
  listen(): Promise<string>;
  /** Stops accepting requests, lets in-flight ones finish, and releases every resource. */
  close(): Promise<void>;
}

/** Wires one gateway from a validated configuration. Throws ConfigError for bad files or checker names. */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const devMode = config.runMode === 'DEV';
  for (const warning of configWarnings(options.env ?? process.env)) logger.warn({}, warning);

  const checkers = resolveCheckers(
    config.accessCheckers,
    [...BUILT_IN_CHECKERS, ...(options.extraCheckers ?? [])],
    devMode,
  );
  const allowedQueries = config.allowedQueriesFile
    ? loadAllowedQueries(config.allowedQueriesFile)
    : undefined;
  for (const warning of allowedQueries?.warnings() ?? [])
    logger.warn({ file: config.allowedQueriesFile }, warning);

  const metrics = new GatewayMetrics();
  const backend = new Backend({
    baseUrl: config.proxyTo,
    connectTimeoutMs: config.backendConnectTimeoutMs,
    timeoutMs: config.backendTimeoutMs,
    type: config.backendType,
    auth: await createBackendAuth(
      config.backendCredentials,
      backendAuthEvents(config.backendType, metrics, logger),
    ),
  });
  const verifier = createTokenVerifier({
    issuer: config.tokenIssuer,
    wellKnownEndpoint: config.wellKnownEndpoint,
    ...(config.tokenAudience ? { audience: config.tokenAudience } : {}),
    algorithms: config.tokenAlgorithms,
    clockSkewSeconds: config.tokenClockSkewSeconds,
    acceptedTypes: config.tokenAcceptedTypes,
    jwksCooldownMs: config.tokenJwksCooldownSeconds * 1000,
    devMode,
    logger,
  });
  const context: GatewayContext = {
    fhirClient: new BackendFhirClient(backend),
    env: options.env ?? process.env,
    devMode,
    logger,
  };
  try {
    for (const factory of checkers) await factory.init?.(context);
  } catch (error) {
    await backend.close();
    throw error;
  }

  if (config.pagingLinkKey === undefined && !devMode) {
    logger.warn(
      {},
      'PAGING_LINK_KEY is unset: paging links are signed with a random key and work only on this replica until it restarts',
    );
  }
  const audit = config.audit
    ? new AuditTrail(config.audit, {
        backend,
        registry: metrics.registry,
        logger,
        connectTimeoutMs: config.backendConnectTimeoutMs,
        timeoutMs: config.backendTimeoutMs,
      })
    : undefined;
  const deps: PipelineDeps = {
    backend,
    verifier,
    ...(allowedQueries ? { allowedQueries } : {}),
    checkers,
    context,
    metrics,
    tokenIssuer: config.tokenIssuer,
    parseLimits: { bundleMaxEntries: config.bundleMaxEntries },
    pagingLinks: new PagingLinks(config.pagingLinkKey),
    forwardOptions: { maxUpstreamUrlLength: config.maxUpstreamUrlLength, trustProxy: config.trustProxy },
  };
  const app = await buildApp({
    deps,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    maxHeaderBytes: config.maxHeaderBytes,
    trustProxy: config.trustProxy,
    corsAllowOrigin: config.corsAllowOrigin,
    pluginRoutes: collectPluginRoutes(deps, context),
    ...(audit ? { audit } : {}),
  });

  let metricsServer: Server | undefined;
  return {
    app,
    verifier,
    backend,
    context,
    deps,
    async listen() {
      verifier.start();
      await app.listen({ port: config.proxyPort, host: config.proxyHost });
      if (config.metricsPort !== undefined)
        metricsServer = await serveMetrics(metrics, config.metricsPort, config.proxyHost);
      const address = app.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
    },
    async close() {
      const auditDeadline = Date.now() + auditFlushBudgetMs(config.shutdownGraceMs);
      // A keep-alive connection whose last answer went out during the drain would hold the process
      // until the grace runs out: connections are closed as soon as they fall idle.
      const sweep = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      // The drained requests' events too: written within the shutdown grace, before the backend closes.
      await audit?.close(auditDeadline);
      await new Promise<void>((resolve) =>
        metricsServer ? metricsServer.close(() => resolve()) : resolve(),
      );
      verifier.close();
      await backend.close();
    },
  };
}

/**
 * How long after close() starts the audit queues may still write: the shutdown grace, less a
 * margin (a tenth, at most 1 s) so that the process exits before SIGTERM's forced exit.
 */
function auditFlushBudgetMs(graceMs: number): number {
  return graceMs - Math.min(1000, graceMs / 10);
}

/** How often a draining gateway closes the connections that have fallen idle. */
const IDLE_SWEEP_MS = 50;

/** Credential failures: a warn line (no secret, no token) and the metrics; recovery: an info line. */
function backendAuthEvents(type: string, metrics: GatewayMetrics, logger: PinoLogger) {
  const labels = { backend_type: type };
  metrics.backendAuthUp.set(labels, 1);
  return {
    failed(kind: 'token' | 'refused', reason: string) {
      metrics.backendAuthFailures.inc({ ...labels, kind });
      metrics.backendAuthUp.set(labels, 0);
      logger.warn(
        { backendType: type, kind, reason },
        kind === 'token'
          ? 'backend authentication failed: no credential for the FHIR server; requests get 502 until it recovers'
          : 'backend authentication failed: the FHIR server refused the credential; requests get 502 until it recovers',
      );
    },
    recovered() {
      metrics.backendAuthUp.set(labels, 1);
      logger.info({ backendType: type }, 'backend authentication recovered');
    },
  };
}

function serveMetrics(metrics: GatewayMetrics, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}
