import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { BUILT_IN_CHECKERS } from '../../src/checkers/index.js';
import { chooseGatewayMode, DEMO_SHAPE } from '../../src/demo/stack.js';
import { buildOpenSrpDataset, PERSONAS } from '../support/opensrp-dataset.js';
import { bannerValue, type DemoProcess, spawnDemo } from './demo-process.js';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 8_000;
const EPHEMERAL = { DEMO_FHIR_PORT: '0', DEMO_ISSUER_PORT: '0', DEMO_GATEWAY_PORT: '0' };

async function patientTotal(gatewayUrl: string, token: string): Promise<number> {
  const response = await fetch(`${gatewayUrl}/fhir/Patient?_summary=count`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await response.json()) as { total?: unknown };
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(typeof body.total, 'number', JSON.stringify(body));
  return body.total as number;
}

/** Runs each `curl -H "Authorization: Bearer $TOKEN_x" '<url>'` line of the banner; `# another district` ones must 404. */
async function everyPrintedCurlLineAnswers(banner: string): Promise<void> {
  const lines = [...banner.matchAll(/curl -s -H "Authorization: Bearer \$TOKEN_(\w+)" '([^']+)'(.*)$/gm)];
  assert.ok(lines.length >= 8, banner);
  for (const [, username, url, rest] of lines) {
    const response = await fetch(url!, {
      headers: { authorization: `Bearer ${bannerValue(banner, `TOKEN_${username}`)}` },
      signal: AbortSignal.timeout(15_000),
    });
    const body = await response.text();
    const expected = rest?.includes('# another district') ? 404 : 200;
    assert.equal(response.status, expected, `${username} ${url}: ${body.slice(0, 300)}`);
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

describe('npm run demo', () => {
  const started: DemoProcess[] = [];
  after(() => {
    for (const demo of started) demo.kill();
  });

  test('serves every persona through the gateway and stops cleanly on SIGINT', {
    timeout: 90_000,
  }, async () => {
    const demo = spawnDemo(EPHEMERAL);
    started.push(demo);
    const banner = await demo.ready(START_TIMEOUT_MS);

    const gatewayUrl = bannerValue(banner, 'GATEWAY_URL');
    assert.match(gatewayUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const expected = chooseGatewayMode(BUILT_IN_CHECKERS);
    assert.match(
      banner,
      new RegExp(`ACCESS_CHECKER=${expected.accessChecker}, RUN_MODE=${expected.runMode}`),
    );

    const worker = await patientTotal(gatewayUrl, bannerValue(banner, 'TOKEN_worker'));
    const webAdmin = await patientTotal(gatewayUrl, bannerValue(banner, 'TOKEN_webadmin'));
    await patientTotal(gatewayUrl, bannerValue(banner, 'TOKEN_supervisor'));

    const dataset = buildOpenSrpDataset(DEMO_SHAPE);
    const everyone = dataset.patientsIn(dataset.locations.villages).length;
    assert.ok(everyone >= 200, `a demo-sized dataset, got ${everyone} patients`);
    assert.equal(webAdmin, everyone);
    if (expected.accessChecker === 'permission') {
      const workerVillages = dataset.subtreeOf(PERSONAS.worker.facility);
      assert.equal(worker, dataset.patientsIn(workerVillages).length);
      assert.ok(worker < webAdmin);
      await everyPrintedCurlLineAnswers(banner);
    } else {
      assert.equal(worker, everyone);
    }

    assert.equal(await demo.stop('SIGINT', STOP_TIMEOUT_MS), 0, demo.stderr());
  });

  test('a token from the password grant works, a busy port falls back, SIGTERM exits 0', {
    timeout: 90_000,
  }, async () => {
    const squatter = createServer();
    const busyPort = await listen(squatter);
    try {
      const demo = spawnDemo({ ...EPHEMERAL, DEMO_FHIR_PORT: String(busyPort) });
      started.push(demo);
      const banner = await demo.ready(START_TIMEOUT_MS);

      assert.match(
        banner,
        new RegExp(`NOTE: port ${busyPort} is busy, so the FHIR server listens on a free port`),
      );
      const fhirPort = /^FHIR server\s+http:\/\/127\.0\.0\.1:(\d+)\/fhir/m.exec(banner)?.[1];
      assert.ok(fhirPort && Number(fhirPort) !== busyPort, banner);

      const issuerUrl = /^Issuer\s+(\S+)/m.exec(banner)?.[1];
      assert.ok(issuerUrl, banner);
      const grant = await fetch(`${issuerUrl}/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'password', username: 'worker', password: 'demo' }),
        signal: AbortSignal.timeout(15_000),
      });
      assert.equal(grant.status, 200);
      const { access_token: token } = (await grant.json()) as { access_token: string };
      const worker = await patientTotal(bannerValue(banner, 'GATEWAY_URL'), token);
      assert.equal(
        worker,
        await patientTotal(bannerValue(banner, 'GATEWAY_URL'), bannerValue(banner, 'TOKEN_worker')),
      );

      assert.equal(await demo.stop('SIGTERM', STOP_TIMEOUT_MS), 0, demo.stderr());
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
