/**
 * BACKEND_TYPE=GCP through google-auth-library's Application Default Credentials, over real HTTP:
 * the metadata-server path at a local fake (GCE_METADATA_HOST; `Metadata-Flavor: Google` both
 * ways), token reuse and refresh near expiry (counted at the fake, controlled clock), the
 * Healthcare API's paging (`_page_token`, echoed params) rewritten and followed to the end, its
 * own error bodies, and the metadata server down → 502 and /readyz 503, then recovery.
 * The service-account key file path: gcp-key-file.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import { send } from '../support/http.js';
import { APP_IDS, buildOpenSrpDataset, PERSONAS } from '../support/opensrp-dataset.js';
import { SYNC_CHECKER, syncFactory } from '../opensrp/sync/sync-stack.js';
import {
  type BackendStack,
  eventually,
  GCP_STORE_PATH,
  leakedIn,
  metricValue,
  startBackendStack,
} from './support/backend-stack.js';
import { type MetadataServer, startMetadataServer } from './support/gcp-metadata.js';

const GCP = { BACKEND_TYPE: 'GCP' };

let metadata: MetadataServer;
before(async () => {
  metadata = await startMetadataServer();
  // google-auth-library reads its standard variables from the process environment itself.
  process.env.GCE_METADATA_HOST = metadata.host;
  process.env.CLOUDSDK_CONFIG = mkdtempSync(join(tmpdir(), 'gcloud-empty-'));
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
});
after(() => metadata.endpoint.close());

interface Page {
  link?: { relation: string; url: string }[];
  entry?: { resource: { id: string } }[];
}

/** Follows `next` links from the first page to the last; returns every page. */
async function followPages(s: BackendStack, path: string, token?: string): Promise<Page[]> {
  const pages: Page[] = [];
  let next: string | undefined = path;
  while (next !== undefined) {
    const res = await s.call(next, token === undefined ? {} : { token });
    assert.equal(res.status, 200, res.text);
    const page = res.json() as Page;
    pages.push(page);
    const url = page.link?.find((link) => link.relation === 'next')?.url;
    if (url !== undefined)
      assert.ok(url.startsWith(`${s.gatewayUrl}/fhir/`), `next link not the gateway's: ${url}`);
    next = url === undefined ? undefined : url.slice(s.gatewayUrl.length);
    assert.ok(pages.length < 50, 'paging does not end');
  }
  return pages;
}

const idsOf = (pages: Page[]) => pages.flatMap((page) => (page.entry ?? []).map((e) => e.resource.id)).sort();

describe('GCP on the metadata server', () => {
  let s: BackendStack;
  before(async () => {
    s = await startBackendStack({
      env: GCP,
      fhir: {
        basePath: GCP_STORE_PATH,
        paging: 'gcp',
        seed: Array.from({ length: 5 }, (_, i) => ({ resourceType: 'Patient' as const, id: `gcp-p${i}` })),
      },
    });
  });
  after(() => s.close());

  test('the FHIR server receives Authorization: Bearer <metadata token>, for scope cloud-platform', async () => {
    s.fhir.clearRequests();
    const res = await s.call('/fhir/Patient');
    assert.equal(res.status, 200, res.text);
    assert.equal(metadata.tokens.length, 1);
    assert.equal(metadata.scopes[0], 'https://www.googleapis.com/auth/cloud-platform');
    assert.equal(metadata.withoutFlavor, 0, 'every metadata request carried Metadata-Flavor: Google');
    assert.deepEqual(
      s.fhir.requests.map((r) => r.headers.authorization),
      [`Bearer ${metadata.tokens[0]}`],
    );
  });

  test('the token is reused across requests, and refreshed by the library near its expiry', async () => {
    for (let i = 0; i < 4; i++) assert.equal((await s.call('/fhir/Patient/gcp-p1')).status, 200);
    assert.equal(metadata.tokens.length, 1, 'no token request while the cached one is good');
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      // google-auth-library refreshes within 5 minutes of expiry.
      mock.timers.tick(3600_000 - 4 * 60_000);
      s.fhir.clearRequests();
      assert.equal((await s.call('/fhir/Patient/gcp-p1')).status, 200);
      assert.equal(metadata.tokens.length, 2);
      assert.equal(s.fhir.requests[0]?.headers.authorization, `Bearer ${metadata.tokens[1]}`);
      assert.equal((await s.call('/fhir/Patient/gcp-p2')).status, 200);
      assert.equal(metadata.tokens.length, 2);
    } finally {
      mock.timers.reset();
    }
  });

  test('_page_token links with the search params echoed are rewritten to the gateway and followed to the end', async () => {
    const pages = await followPages(s, '/fhir/Patient?_count=2&_sort=_id');
    assert.equal(pages.length, 3);
    assert.deepEqual(idsOf(pages), ['gcp-p0', 'gcp-p1', 'gcp-p2', 'gcp-p3', 'gcp-p4']);
    const next = pages[0]?.link?.find((l) => l.relation === 'next')?.url ?? '';
    assert.match(next, /[?&]_count=2(&|$)/);
    assert.match(next, /[?&]_page_token=[^&]+/);
    assert.ok(!JSON.stringify(pages).includes(s.fhir.baseUrl), 'no backend URL reaches the client');
  });

  test('a create: body relabelled application/fhir+json upstream, absolute Location rewritten to the gateway', async () => {
    s.fhir.clearRequests();
    const res = await s.call('/fhir/Patient', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Patient', active: true }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 201, res.text);
    assert.match(s.fhir.requests[0]?.headers['content-type'] ?? '', /^application\/fhir\+json/);
    assert.match(String(res.headers.location), new RegExp(`^${s.gatewayUrl}/fhir/Patient/[^/]+/_history/`));
  });

  test("Google's own error bodies become OperationOutcomes without the store's name; 403 PERMISSION_DENIED → 502", async () => {
    const store = GCP_STORE_PATH.slice(4, -'/fhir'.length);
    s.fhir.intercept((req, res) => {
      const [status, code] = req.path.endsWith('/Basic/denied')
        ? [403, 'PERMISSION_DENIED']
        : [404, 'NOT_FOUND'];
      const message = `${code === 'NOT_FOUND' ? 'resource' : "Permission 'healthcare.fhirResources.get' denied on"} ${store} (or it may not exist)`;
      res
        .writeHead(status, { 'content-type': 'application/json; charset=UTF-8' })
        .end(JSON.stringify({ error: { code: status, message, status: code } }));
      return true;
    });
    try {
      const missing = await s.call('/fhir/Basic/nowhere/_history/1');
      assert.equal(missing.status, 404);
      const outcome = missing.json() as {
        resourceType: string;
        issue: { code: string; diagnostics: string }[];
      };
      assert.equal(outcome.resourceType, 'OperationOutcome');
      assert.equal(outcome.issue[0]?.code, 'not-found');
      assert.match(outcome.issue[0]?.diagnostics ?? '', /^NOT_FOUND: resource \[FHIR store\]/);
      assert.ok(!missing.text.includes('p-test'), missing.text);

      const denied = await s.call('/fhir/Basic/denied');
      assert.equal(denied.status, 502);
      assert.match(denied.text, /backend authentication/);
      assert.ok(s.logs.some((line) => /PERMISSION_DENIED/.test(line) && /"level":40/.test(line)));
    } finally {
      s.fhir.intercept(undefined);
    }
    await eventually(
      async () => (await s.call('/fhir/Patient/gcp-p1')).status === 200,
      'recovered after the refusal',
    );
  });

  test('no log line carries a token', () => {
    assert.ok(metadata.tokens.length >= 2);
    assert.deepEqual(leakedIn(s.logs, metadata.tokens), []);
  });
});

describe('GCP with OpenSRP narrowing: echoed injected params are stripped, continuations narrowed again', () => {
  const dataset = buildOpenSrpDataset();
  let s: BackendStack;
  before(async () => {
    s = await startBackendStack({
      env: { ...GCP, ACCESS_CHECKER: SYNC_CHECKER, RUN_MODE: 'PROD' },
      fhir: { basePath: GCP_STORE_PATH, paging: 'gcp', seed: dataset.resources },
      extraCheckers: [syncFactory()],
    });
  });
  after(() => s.close());

  test("a worker's Patient sync pages through exactly the facility's patients", async () => {
    const token = await s.issuer.mint({
      sub: PERSONAS.worker.sub,
      fhir_core_app_id: APP_IDS.Location,
      realm_access: { roles: ['ANDROID_CLIENT'] },
    });
    s.fhir.clearRequests();
    const expected = dataset.patientsIn(dataset.subtreeOf(PERSONAS.worker.facility)).sort();
    const pages = await followPages(s, '/fhir/Patient?_count=2', token);
    assert.ok(expected.length > 4);
    assert.equal(pages.length, Math.ceil(expected.length / 2));
    assert.deepEqual(idsOf(pages), expected);
    const links = JSON.stringify(pages.map((p) => p.link));
    assert.ok(!links.includes('_tag'), 'the narrowing the gateway added is not handed to the client');
    const continuations = s.fhir.requests.filter((r) => r.query.has('_page_token'));
    assert.equal(continuations.length, pages.length - 1);
    for (const request of continuations) {
      assert.ok(request.query.has('_tag'), `continuation not narrowed: ${request.url}`);
      assert.equal(request.headers.authorization, `Bearer ${metadata.tokens.at(-1)}`);
    }
  });
});

describe('GCP with the metadata server down at start', () => {
  let s: BackendStack;
  before(async () => {
    await metadata.endpoint.down();
    s = await startBackendStack({ env: GCP, fhir: { basePath: GCP_STORE_PATH } });
  });
  after(async () => {
    await s.close();
    await metadata.endpoint.up();
  });

  test('→ 502 naming backend authentication, /readyz 503, a metric and a warn line; recovery when it is back', async () => {
    const res = await s.call('/fhir/Patient');
    assert.equal(res.status, 502);
    assert.match(res.text, /could not authenticate to the FHIR server \(backend authentication failed\)/);
    assert.equal(s.fhir.requests.length, 0);
    assert.equal((await send(s.gatewayUrl, { path: '/readyz' })).status, 503);
    assert.ok(
      metricValue(
        await s.metrics(),
        'fhir_gateway_backend_auth_failures_total',
        'backend_type="GCP",kind="token"',
      ) >= 1,
    );
    assert.ok(s.logs.some((line) => /"level":40/.test(line) && /backend authentication failed/.test(line)));

    const before = metadata.tokens.length;
    await metadata.endpoint.up();
    await eventually(async () => (await s.call('/fhir/Patient')).status === 200, 'a request succeeds');
    assert.equal((await send(s.gatewayUrl, { path: '/readyz' })).status, 200);
    assert.equal(metadata.tokens.length, before + 1);
    assert.equal(s.fhir.requests.at(-1)?.headers.authorization, `Bearer ${metadata.tokens.at(-1)}`);
    assert.deepEqual(leakedIn(s.logs, metadata.tokens), []);
  });
});
