/**
 * A real FHIR server on loopback for integration tests and the demo: @medplum/fhir-router's
 * in-memory repository behind a small node:http wrapper that adds what the router lacks, the way
 * HAPI FHIR JPA answers it, so the gateway's security cases run end to end:
 *
 * - `/metadata`; `fullUrl` on entries; ETag, Last-Modified and (creates) Location/Content-Location.
 * - Searches (type, `POST _search`, compartment `Patient/1/Observation`, system `?_type=A,B`) with
 *   `_include` / `_revinclude` (`:iterate`, `*`, `Type:param:Target`): matches have
 *   `search.mode = match`, joined resources follow with `search.mode = include`.
 * - Paging, by the `paging` option:
 *   - `'offset'` (default; Medplum's style): `self`/`next`/`previous` links echo every
 *     request parameter (`_tag` included) with `_offset`; only searches with `_count` page.
 *   - `'hapi'`: searches page at `_count` or `pageSize` (default 20), are kept server-side, and
 *     the links are `<base>?_getpages=<uuid>&_getpagesoffset=N&_count=N&_bundletype=searchset`;
 *     following one replays the kept search (joins included) for that window. `expireSearches()`
 *     forgets them all.
 *   - `'gcp'`: the Google Cloud Healthcare API's style: forward-only `next` links that repeat
 *     every request parameter and add an opaque `_page_token`; only searches with `_count` page.
 *   In every mode `?_getpages=<unknown id>` answers 410 (HAPI-0417).
 * - `Patient/<id>/$everything` (the patient, its compartment, what they reference; paged like a
 *   search), `Composition/<id>/$document` (a `document` Bundle: the Composition, then everything it
 *   references, recursively), `$graphql` and `<Type>/<id>/$graphql` (`?query=` or a POST body,
 *   answered as `{"data": …}` JSON).
 * - XML when asked (`_format=xml`, `_format=application/fhir+xml`, `Accept: application/fhir+xml`,
 *   HAPI's precedence): every FHIR answer, errors included, as FHIR XML with
 *   `Content-Type: application/fhir+xml;charset=UTF-8`. XML request bodies still get 415.
 * - Conditional reads: `If-None-Match: W/"<version>"` or `If-Modified-Since` → 304 without a body.
 *   HEAD answers like GET without the body (404 for a missing resource).
 * - Request bodies with `Content-Encoding: gzip` are inflated (HAPI does too); `requests` records
 *   the inflated text with the headers as received.
 * - Writes: `Prefer: return=minimal` → status and headers only; `return=OperationOutcome` → an
 *   outcome instead of the resource. A conditional create (`If-None-Exist`) that matches answers 200
 *   with the existing resource and its Location.
 *
 * Every request is recorded so tests can assert on what the gateway sent upstream.
 *
 * Known differences from HAPI: an unknown search parameter matches nothing (HAPI: 400); an XML
 * request body does not make the answer XML; `$everything` marks the resources its members
 * reference as `include`; kept searches are replayed, not snapshotted, so writes between pages show.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import type { Resource } from '@medplum/fhirtypes';
import { ensureDefinitionsIndexed } from './fhir-server/definitions.js';
import { answerFhirRequest, type FhirBackend } from './fhir-server/fhir-handler.js';
import { sendOutcome } from './fhir-server/http-response.js';
import { type PagingMode, SearchStore } from './fhir-server/paging.js';
import { type RecordedRequest, readRequestBody, recordRequest } from './fhir-server/recorded-request.js';
import { problem } from './fhir-server/request-body.js';

export type { PagingMode } from './fhir-server/paging.js';
export type { RecordedRequest } from './fhir-server/recorded-request.js';
export {
  DEFAULT_SEED_TAG_SYSTEM,
  type SeedPatientsOptions,
  seedPatients,
} from './fhir-server/seed-patients.js';

export interface FhirServerOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Defaults to `/fhir`. */
  basePath?: string;
  /** Stored before the server listens; given ids are kept. */
  seed?: Resource[];
  /** How searchsets link their pages: `'offset'` (default, params echoed), `'hapi'` (`_getpages`) or `'gcp'` (`_page_token`). */
  paging?: PagingMode;
  /** HAPI paging's page size for searches without `_count`; defaults to 20 as in HAPI JPA. */
  pageSize?: number;
  /**
   * The largest request head (request line and headers) accepted, in bytes; above it Node answers
   * 431. Defaults to Node's 16 KiB; raise it for tests that send very long URLs or tokens upstream.
   */
  maxHeaderSize?: number;
}

/** Answers the request itself and returns true, or returns false to let the FHIR server answer. */
export type RequestInterceptor = (req: RecordedRequest, res: ServerResponse) => boolean | Promise<boolean>;

export interface LocalFhirServer {
  /** e.g. `http://127.0.0.1:41234/fhir`, no trailing slash. */
  baseUrl: string;
  port: number;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  clearRequests(): void;
  countRequests(predicate?: (r: RecordedRequest) => boolean): number;
  repo: MemoryRepository;
  /** Stores a resource directly, keeping its id if it has one. */
  create<T extends Resource>(resource: T): Promise<T>;
  intercept(handler: RequestInterceptor | undefined): void;
  /** Forgets every kept HAPI search, so their `_getpages` links answer 410 as expired ones do. */
  expireSearches(): void;
  close(): Promise<void>;
}

export async function startFhirServer(options: FhirServerOptions = {}): Promise<LocalFhirServer> {
  ensureDefinitionsIndexed();
  const basePath = normalizeBasePath(options.basePath ?? '/fhir');
  const repo = new MemoryRepository();
  // MemoryRepository.createResource keeps a given id (unlike an HTTP create), so seeds keep theirs.
  for (const resource of options.seed ?? []) await repo.createResource(resource);

  const requests: RecordedRequest[] = [];
  let interceptor: RequestInterceptor | undefined;
  const backend: FhirBackend = {
    repo,
    router: new FhirRouter(),
    basePath,
    baseUrl: '',
    startedAt: new Date().toISOString(),
    paging: options.paging ?? 'offset',
    pageSize: options.pageSize ?? 20,
    searches: new SearchStore(),
  };

  const server = createServer({ maxHeaderSize: options.maxHeaderSize ?? 16 * 1024 }, (req, res) => {
    handle(req, res).catch((err: unknown) => failSafely(res, err));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readRequestBody(req);
    const recorded = recordRequest(req, body ?? '');
    requests.push(recorded);
    if (interceptor && (await interceptor(recorded, res))) return;
    if (body === undefined) {
      return sendOutcome(res, 400, problem('invalid', 'The gzip request body does not inflate'));
    }
    await answerFhirRequest(backend, recorded, res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  backend.baseUrl = `http://127.0.0.1:${port}${basePath}`;

  return {
    baseUrl: backend.baseUrl,
    port,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    countRequests: (predicate) => (predicate ? requests.filter(predicate).length : requests.length),
    repo,
    create: (resource) => repo.createResource(resource),
    intercept: (handler) => {
      interceptor = handler;
    },
    expireSearches: () => backend.searches.clear(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets (and interceptors that never answer) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

function failSafely(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendOutcome(
    res,
    500,
    problem('exception', `Local FHIR server error: ${(err as Error)?.message ?? String(err)}`),
  );
}

/** `fhir/` and `/fhir` both become `/fhir`; `/` becomes the empty string (FHIR at the root). */
function normalizeBasePath(basePath: string): string {
  const trimmed = basePath.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}
