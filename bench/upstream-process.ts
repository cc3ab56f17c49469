/**
 * The benchmark's fast upstream, run in its own process: a node:http server that answers Patient
 * searches (GET, or POST `_search` when the gateway moved a long query into a form body) with a
 * canned searchset, `metadata`, and a 100 MB download for the streaming check. With LOOKUP_TO set,
 * every other request (the OpenSRP plugins' Composition/Practitioner/Location… lookups) is
 * forwarded to that FHIR server, so only the lookups cost real FHIR work.
 *
 * `GET /__bench/stats` (and `POST /__bench/reset`) report what the gateway sent: Patient searches,
 * how many of them carried a `_tag`, the last `_tag` size, lookups forwarded and their time.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocationIndex } from './location-index.js';
import { openSrpWorldResources, TREE_10K, TREE_1K } from './opensrp-setup.js';
import { announceReady } from './processes.js';
import { LARGE_COUNT, patientSearchset, SMALL_COUNT } from './searchset.js';
import type { UpstreamStats } from './gateways.js';

const STREAM_CHUNK = Buffer.alloc(64 * 1024, 'x');
const lookupTo = process.env.LOOKUP_TO?.replace(/\/+$/, '');
// The same world as the FHIR server's (TREE), so that Location searches can be answered from an index.
const locations = process.env.TREE
  ? new LocationIndex(openSrpWorldResources(process.env.TREE === '10k' ? TREE_10K : TREE_1K).resources)
  : undefined;

type Stats = UpstreamStats;
const freshStats = (): Stats => ({
  patientSearches: 0,
  withTag: 0,
  lastTagValues: 0,
  lastMethod: '',
  lookups: 0,
  lookupMs: 0,
  lookupsByType: {},
});
let stats = freshStats();

let base = '';
let small = Buffer.alloc(0);
let large = Buffer.alloc(0);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: Buffer | string,
  type = 'application/fhir+json',
): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function answerPatientSearch(res: ServerResponse, method: string, params: URLSearchParams): void {
  stats.patientSearches++;
  stats.lastMethod = method;
  const tag = params.get('_tag');
  if (tag !== null) {
    stats.withTag++;
    stats.lastTagValues = tag.split(',').length;
  }
  send(res, 200, params.get('_count') === String(LARGE_COUNT) ? large : small);
}

async function streamMegabytes(res: ServerResponse, megabytes: number): Promise<void> {
  const total = megabytes * 1024 * 1024;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  for (let sent = 0; sent < total; sent += STREAM_CHUNK.length) {
    if (!res.write(STREAM_CHUNK)) await new Promise((resolve) => res.once('drain', resolve));
    if (res.destroyed) return;
  }
  res.end();
}

let inFlight = 0;
let busySince = 0;

async function forwardLookup(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer) {
  if (inFlight++ === 0) busySince = performance.now();
  const type = path.split(/[/?]/)[1] || '(base)';
  stats.lookups++;
  stats.lookupsByType[type] = (stats.lookupsByType[type] ?? 0) + 1;
  try {
    const response = await fetch(`${lookupTo}${path}`, {
      method: req.method ?? 'GET',
      headers: {
        accept: 'application/fhir+json',
        ...(req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {}),
      },
      ...(body.length > 0 ? { body } : {}),
    });
    // Paging links must point back here, where the gateway believes the FHIR server is.
    const text = (await response.text()).split(lookupTo!).join(base);
    send(res, response.status, text, response.headers.get('content-type') ?? 'application/fhir+json');
  } finally {
    if (--inFlight === 0) stats.lookupMs += performance.now() - busySince;
  }
}

/** Location searches (GET, POST `_search`, and their `_getpages` links), or undefined to forward. */
function answerLocations(
  method: string,
  fhirPath: string,
  query: URLSearchParams,
  body: Buffer,
): string | undefined {
  let answer: string | undefined;
  const started = performance.now();
  if (method === 'GET' && (fhirPath === '' || fhirPath === '/') && query.has('_getpages')) {
    answer = locations!.page(query.get('_getpages')!, Number(query.get('_getpagesoffset') ?? '0'), base);
  } else if (method === 'GET' && fhirPath === '/Location' && locations!.handles(query)) {
    answer = locations!.search(query, base);
  } else if (method === 'POST' && fhirPath === '/Location/_search') {
    const form = new URLSearchParams(body.toString('utf8'));
    if (locations!.handles(form)) answer = locations!.search(form, base);
  }
  if (answer !== undefined) {
    stats.lookups++;
    stats.lookupsByType.Location = (stats.lookupsByType.Location ?? 0) + 1;
    stats.lookupMs += performance.now() - started;
  }
  return answer;
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://upstream.invalid');
  const body = await readBody(req);
  const path = url.pathname;
  if (path === '/__bench/stats') return send(res, 200, JSON.stringify(stats), 'application/json');
  if (path === '/__bench/reset') {
    stats = freshStats();
    return send(res, 204, '');
  }
  if (!path.startsWith('/fhir')) return send(res, 404, '{}');
  const fhirPath = path.slice('/fhir'.length);
  if (req.method === 'GET' && fhirPath === '/Patient')
    return answerPatientSearch(res, 'GET', url.searchParams);
  if (req.method === 'POST' && fhirPath === '/Patient/_search') {
    return answerPatientSearch(res, 'POST', new URLSearchParams(body.toString('utf8')));
  }
  if (req.method === 'GET' && fhirPath === '/Binary/bench-stream') {
    return streamMegabytes(res, Number(url.searchParams.get('mb') ?? '100'));
  }
  if (locations) {
    const answer = answerLocations(req.method ?? 'GET', fhirPath, url.searchParams, body);
    if (answer !== undefined) return send(res, 200, answer);
  }
  if (lookupTo) return forwardLookup(req, res, fhirPath + url.search, body);
  if (fhirPath === '/metadata') {
    return send(
      res,
      200,
      JSON.stringify({ resourceType: 'CapabilityStatement', status: 'active', fhirVersion: '4.0.1' }),
    );
  }
  send(
    res,
    404,
    JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] }),
  );
}

// Long id lists may travel in URLs (paging links, GET searches): allow 1 MB of headers.
const server = createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
  handle(req, res).catch((error: unknown) => {
    if (!res.headersSent) send(res, 502, JSON.stringify({ error: String(error) }), 'application/json');
    else res.destroy();
  });
});
// Keep-alive outlives the pauses between benchmark phases, so no phase pays for reconnecting.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(Number(process.env.UPSTREAM_PORT ?? '0'), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}/fhir`;
  small = Buffer.from(patientSearchset(base, SMALL_COUNT));
  large = Buffer.from(patientSearchset(base, LARGE_COUNT));
  announceReady(base, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
