import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import cors from '@fastify/cors';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { GatewayContext, PluginRoute, RouteRegistrar } from '../access/contract.js';
import type { AuditTrail } from '../audit/index.js';
import { buildSmartConfiguration, smartOptionsFor } from '../auth/smart-configuration.js';
import { GatewayError } from '../fhir/errors.js';
import { gatewayBaseUrl } from './base-url.js';
import { errorBody, isClientAbort, toGatewayError } from './errors.js';
import { BackendProbe } from './health.js';
import type { GatewayMetrics } from './metrics.js';
import type { Exchange } from './pipeline/exchange.js';
import { handleFhirRequest, type PipelineDeps } from './pipeline/index.js';
import { requestIdOf } from './request-id.js';
import { contentCodings, decodeBody } from './request-encoding.js';

export interface AppOptions {
  readonly deps: PipelineDeps;
  readonly logger: PinoLogger;
  readonly bodyLimitBytes: number;
  /** MAX_HEADER_BYTES: request line plus headers; larger requests get 431. */
  readonly maxHeaderBytes: number;
  readonly trustProxy: boolean;
  readonly corsAllowOrigin: string;
  readonly pluginRoutes: readonly PluginRoute[];
  /** Set when AUDIT_EVENT_ACTIONS_CONFIG names an action: answers are shown to it, then recorded. */
  readonly audit?: AuditTrail;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const EXPOSED_HEADERS = [
  'Location',
  'Content-Location',
  'ETag',
  'Last-Modified',
  'X-Request-ID',
  'X-Progress',
  'Retry-After',
];

declare module 'fastify' {
  interface FastifyRequest {
    exchange?: Exchange;
  }
  interface FastifyContextConfig {
    /** The access log's and metrics' name for requests of a route that are not FHIR interactions. */
    interaction?: string;
  }
}

/** The http edge: routes, body handling, CORS, errors as OperationOutcomes, access logs and metrics. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { deps, logger } = options;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One id field per line: request.log binds it under the name the gateway's own lines use.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: options.bodyLimitBytes,
    trustProxy: options.trustProxy,
    genReqId: requestIdOf,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true, maxParamLength: 8192 },
    http: { maxHeaderSize: options.maxHeaderBytes },
    // Malformed HTTP: answer with an OperationOutcome and drop the connection.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy();
      const code = (error as { code?: string }).code;
      const gatewayError = clientError(code, options.maxHeaderBytes);
      const body = errorBody(gatewayError);
      socket.end(
        `HTTP/1.1 ${gatewayError.status} ${STATUS_CODES[gatewayError.status]}\r\nContent-Type: ${FHIR_JSON}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      // The error carries the raw bytes read (the token among them): log its code only.
      if (gatewayError.status === 431) {
        logger.warn(
          {
            code,
            limitBytes: options.maxHeaderBytes,
            setting: 'MAX_HEADER_BYTES',
            remoteAddress: socket.remoteAddress,
          },
          `request line and headers over MAX_HEADER_BYTES (${options.maxHeaderBytes} bytes): answered 431`,
        );
      } else logger.debug({ code }, 'malformed HTTP request');
    },
    // Router-level failures (e.g. a malformed percent-encoding) are answered like every other 400.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const gatewayError =
        error.code === 'FST_ERR_BAD_URL'
          ? new GatewayError(400, 'bad_url', 'The request URL is not validly percent-encoded')
          : toGatewayError(error);
      reply.code(gatewayError.status).type(FHIR_JSON).send(errorBody(gatewayError));
    },
  });
  app.decorateRequest('exchange', undefined);

  // Content-Encoding is undone first, so everything after (and the backend) sees the decoded bytes;
  // the body limit then counts decoded bytes, layer by layer (request-encoding.ts).
  // A callback hook, not an async one: most requests carry no Content-Encoding, and an async hook
  // costs every request a promise.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const header = request.headers['content-encoding'];
    if (header === undefined) return done(null, payload);
    delete request.headers['content-encoding'];
    try {
      const codings = declaresBody(request) ? contentCodings(header) : [];
      done(null, codings.length === 0 ? payload : decodeBody(payload, codings, options.bodyLimitBytes));
    } catch (error) {
      done(error as Error);
    }
  });

  // Bodies are kept as bytes; the FHIR parser decides what it accepts (415 there, not here).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    // Fastify checked the declared length against the wire bytes; from here on it is the decoded one.
    if (request.headers['content-length'] !== undefined && Buffer.isBuffer(body))
      request.headers['content-length'] = String(body.length);
    done(null, body);
  });

  await app.register(cors, {
    origin: options.corsAllowOrigin === '*' ? '*' : options.corsAllowOrigin.split(',').map((o) => o.trim()),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    recordRequest(deps.metrics, request, reply);
    if (options.audit && request.exchange) auditRequest(options.audit, request, reply);
  });

  app.setErrorHandler((error, request, reply) => {
    if (isClientAbort(error)) {
      request.log.debug({}, 'client went away');
      return;
    }
    const gatewayError = toGatewayError(error);
    const logFields = { code: gatewayError.code, status: gatewayError.status };
    if (gatewayError.status >= 500)
      request.log.error({ ...logFields, detail: gatewayError.detail }, gatewayError.message);
    else request.log.debug({ ...logFields, detail: gatewayError.detail }, gatewayError.message);
    const body = errorBody(gatewayError);
    request.exchange?.answerTap?.bytes(Buffer.from(body));
    reply.code(gatewayError.status).headers(gatewayError.headers).type(FHIR_JSON).send(body);
  });
  app.setNotFoundHandler((_request, reply) => {
    reply
      .code(404)
      .type(FHIR_JSON)
      .send(errorBody(new GatewayError(404, 'no_route', 'No such endpoint')));
  });

  const probe = new BackendProbe(deps.backend);
  app.get('/healthz', { config: { interaction: 'health' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { interaction: 'readiness' } }, async (_request, reply) => {
    const issuer = deps.verifier.ready();
    const backend = await probe.reachable();
    reply.code(issuer && backend ? 200 : 503);
    return { status: issuer && backend ? 'ready' : 'not ready', issuer, backend };
  });
  // No /metrics here: it is served only on METRICS_PORT (server/gateway.ts), never on the public port.

  const smartConfig = { config: { interaction: 'smart-configuration' } };
  const smartOptions = smartOptionsFor(deps.checkers);
  app.get('/fhir/.well-known/smart-configuration', smartConfig, async (_request, reply) => {
    const discovery = await deps.verifier.loadDiscovery();
    reply.type('application/json; charset=utf-8');
    return buildSmartConfiguration(discovery, smartOptions);
  });

  const fhirHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const exchange = exchangeOf(request, reply, options.trustProxy);
    request.exchange = exchange;
    const audit = options.audit;
    if (audit) {
      exchange.answerTap = audit.tap(exchange);
      // A client that goes away during the answer gets no onResponse: what it was sent is recorded here.
      reply.raw.once('close', () => {
        if (reply.raw.headersSent && !reply.raw.writableFinished) auditRequest(audit, request, reply);
      });
    }
    const result = await handleFhirRequest(deps, exchange);
    reply.code(result.status).headers(result.headers);
    return reply.send(result.body);
  };
  // Named `unparsed` only when the request failed before the parser classified it.
  const fhirRoute = { config: { interaction: 'unparsed' } };
  app.all('/fhir', fhirRoute, fhirHandler);
  app.all('/fhir/*', fhirRoute, fhirHandler);

  registerPluginRoutes(app, options.pluginRoutes, deps, options.trustProxy);
  return app;
}

/**
 * The answer to a request Node's HTTP parser refused. A header overflow is 431 (RFC 6585 §5) even
 * when it is the URL that is long: the parser counts the request line and the headers against one
 * limit and does not say which part passed it, so 414 cannot be told apart.
 */
function clientError(code: string | undefined, maxHeaderBytes: number): GatewayError {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new GatewayError(
      431,
      'headers_too_large',
      `The request line and headers are larger than the gateway accepts (${maxHeaderBytes} bytes)`,
      { issueType: 'too-long' },
    );
  }
  return new GatewayError(400, 'bad_http', 'The HTTP request is malformed');
}

function exchangeOf(request: FastifyRequest, reply: FastifyReply, trustProxy: boolean): Exchange {
  if ((request.method === 'GET' || request.method === 'HEAD') && declaresBody(request)) {
    // fastify leaves GET bodies unread; the connection cannot be reused after such a request.
    reply.header('connection', 'close');
    throw new GatewayError(400, 'unexpected_body', `A ${request.method} request must not have a body`);
  }
  // An EventEmitter is undici's cheap alternative to an AbortSignal (an AbortController costs
  // several microseconds per request, measurable on the pass-through path).
  const aborted = new EventEmitter();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) aborted.emit('abort');
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? (value[0] ?? '') : value;
  }
  const url = request.raw.url ?? '/fhir';
  return {
    requestId: request.id,
    method: request.method,
    target: url.slice('/fhir'.length),
    headers,
    ...(Buffer.isBuffer(request.body) ? { body: request.body } : {}),
    baseUrl: gatewayBaseUrl(request, trustProxy),
    remoteAddress: request.socket.remoteAddress ?? request.ip,
    signal: aborted,
  };
}

function declaresBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

function recordRequest(metrics: GatewayMetrics, request: FastifyRequest, reply: FastifyReply): void {
  const exchange = request.exchange;
  const interaction =
    exchange?.fhir?.interaction ??
    request.routeOptions.config.interaction ??
    (request.routeOptions.url ? 'gateway' : 'unrouted');
  const labels = { interaction, status: String(reply.statusCode) };
  metrics.requests.inc(labels);
  metrics.duration.observe(labels, reply.elapsedTime / 1000);
  // Info logs name the interaction and type only: paths and queries can carry patient identifiers.
  // Probes come every few seconds from the orchestrator: debug, or they drown the requests.
  const probe = interaction === 'health' || interaction === 'readiness';
  request.log[probe ? 'debug' : 'info'](
    {
      method: request.method,
      interaction,
      resourceType: exchange?.fhir?.resourceType,
      grantedBy: exchange?.grantedBy,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    },
    'request',
  );
  request.log.debug({ url: request.raw.url }, 'request target');
}

/** After the answer went out: the audit trail records the exchange. */
function auditRequest(audit: AuditTrail, request: FastifyRequest, reply: FastifyReply): void {
  const header = (name: string) => {
    const value = reply.getHeader(name);
    return typeof value === 'string' ? value : undefined;
  };
  const location = header('location') ?? header('content-location');
  const etag = header('etag');
  audit.record({
    exchange: request.exchange!,
    status: reply.statusCode,
    ...(location !== undefined ? { location } : {}),
    ...(etag !== undefined ? { etag } : {}),
    clientAddress: request.ip,
    elapsedMs: reply.elapsedTime,
  });
}

function registerPluginRoutes(
  app: FastifyInstance,
  routes: readonly PluginRoute[],
  deps: PipelineDeps,
  trustProxy: boolean,
): void {
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.path,
      config: { interaction: route.path.replace(/^\/+/, '') },
      handler: async (request, reply) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) {
          if (typeof value === 'string') headers[name] = value;
        }
        const token =
          route.authenticated === false ? undefined : await deps.verifier.verify(headers.authorization);
        const url = new URL(request.raw.url ?? '/', 'http://gateway.invalid');
        const result = await route.handler({
          path: url.pathname,
          query: [...url.searchParams].map(([name, value]) => ({ name, value })),
          headers,
          ...(token ? { token } : {}),
          baseUrl: gatewayBaseUrl(request, trustProxy),
        });
        reply.code(result.status).type(FHIR_JSON);
        if (result.headers) reply.headers(result.headers);
        return result.serialized ?? JSON.stringify(result.body);
      },
    });
  }
}

/** Collects plugin routes from the checker factories. */
export function collectPluginRoutes(deps: PipelineDeps, ctx: GatewayContext): PluginRoute[] {
  const routes: PluginRoute[] = [];
  const registrar: RouteRegistrar = { route: (route) => routes.push(route) };
  for (const factory of deps.checkers) factory.routes?.(registrar, ctx);
  return routes;
}
