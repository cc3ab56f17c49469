/**
 * MAX_HEADER_BYTES (issue 7, attack case F1): Keycloak tokens of users with many realm roles pass
 * Node's default 16 KiB header limit. The gateway's limit is configurable, large by default, and a
 * request over it gets 431 as an OperationOutcome and a warn log line naming the setting.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/server/gateway.js';
import { type LocalFhirServer, startFhirServer } from '../support/fhir-server.js';
import { bearer, type RawResponse, send } from '../support/http.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { buildOpenSrpDataset, PERSONAS } from '../support/opensrp-dataset.js';

const PATIENT = 'pat-d1-f1-v1-1';
const DEFAULT_LIMIT = 65536;

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A gateway with the OpenSRP permission checker whose log lines are kept for the test to read. */
async function startGateway(
  fhir: LocalFhirServer,
  issuer: LocalIssuer,
  env: Record<string, string> = {},
): Promise<{ url: string; gateway: Gateway; logs: string[] }> {
  const fullEnv = {
    PROXY_TO: fhir.baseUrl,
    TOKEN_ISSUER: issuer.issuerUrl,
    PROXY_PORT: '0',
    PROXY_HOST: '127.0.0.1',
    ACCESS_CHECKER: 'permission',
    RUN_MODE: 'PROD',
    ...env,
  };
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const gateway = await createGateway(loadConfig(fullEnv), { env: fullEnv, logger });
  return { url: await gateway.listen(), gateway, logs };
}

/** Realm roles the way a Keycloak admin accumulates them: many, with long composite names. */
function manyRoles(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `kc-realm-role-${String(i).padStart(4, '0')}-view`);
}

function outcomeOf(response: RawResponse): { code?: string; diagnostics?: string } {
  const body = response.json() as {
    resourceType?: string;
    issue?: { code?: string; diagnostics?: string }[];
  };
  assert.equal(body.resourceType, 'OperationOutcome', response.text);
  return body.issue?.[0] ?? {};
}

const warnings = (logs: readonly string[]) =>
  logs.map((line) => JSON.parse(line) as LogLine).filter((line) => line.level === 40);

describe('request header limits', () => {
  let fhir: LocalFhirServer;
  let issuer: LocalIssuer;
  let gw: { url: string; gateway: Gateway; logs: string[] };

  before(async () => {
    fhir = await startFhirServer({ seed: buildOpenSrpDataset().resources });
    issuer = await startIssuer();
    gw = await startGateway(fhir, issuer);
  });
  after(async () => {
    await gw.gateway.close();
    await fhir.close();
    await issuer.close();
  });

  const webToken = (roles: readonly string[]) =>
    issuer.mint({
      sub: PERSONAS.worker.sub,
      fhir_core_app_id: 'app-location',
      realm_access: { roles: ['WEB_CLIENT', 'GET_PATIENT', ...roles] },
    });
  const read = (url: string, token: string) =>
    send(url, { path: `/fhir/Patient/${PATIENT}`, headers: bearer(token) });

  test('a ~20 KB token → 200', async () => {
    // Here the size comes from group memberships, another claim Keycloak deployments grow.
    const groups = Array.from({ length: 380 }, (_, i) => `/country/district-${i}/facility-team`);
    const token = await issuer.mint({
      sub: PERSONAS.worker.sub,
      fhir_core_app_id: 'app-location',
      realm_access: { roles: ['WEB_CLIENT', 'GET_PATIENT'] },
      groups,
    });
    assert.ok(token.length > 19_000 && token.length < 22_000, `${token.length} bytes`);
    const response = await read(gw.url, token);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json().id, PATIENT);
  });

  test('F1: a WEB_CLIENT token with ~600 realm roles is served, not refused as malformed', async () => {
    const token = await webToken(manyRoles(600));
    assert.ok(token.length > 20_000, `${token.length} bytes: over Node's default 16 KiB`);
    const response = await read(gw.url, token);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json().id, PATIENT);
  });

  test('the default is large enough for a token with a thousand realm roles', async () => {
    const token = await webToken(manyRoles(1000));
    const response = await read(gw.url, token);
    assert.equal(response.status, 200, response.text);
  });

  test('above MAX_HEADER_BYTES → 431 OperationOutcome, and a warn line naming the limit, not the header', async () => {
    gw.logs.length = 0;
    const token = await webToken(manyRoles(2200));
    assert.ok(token.length > DEFAULT_LIMIT, `${token.length} bytes`);
    const response = await read(gw.url, token);
    assert.equal(response.status, 431, response.text);
    assert.match(String(response.headers['content-type']), /^application\/fhir\+json/);
    const issue = outcomeOf(response);
    assert.equal(issue.code, 'too-long');
    assert.match(issue.diagnostics ?? '', new RegExp(`${DEFAULT_LIMIT} bytes`));

    const [warning, ...more] = warnings(gw.logs);
    assert.equal(more.length, 0);
    assert.equal(warning?.setting, 'MAX_HEADER_BYTES');
    assert.equal(warning?.limitBytes, DEFAULT_LIMIT);
    assert.match(warning?.msg ?? '', /MAX_HEADER_BYTES \(65536 bytes\)/);
    const logged = gw.logs.join('\n');
    assert.ok(
      !logged.includes(token.slice(0, 40)) && !logged.includes(token.slice(-40)),
      'no token in the logs',
    );
  });

  test('a URL over the limit is answered 431 too (the parser counts the request line with the headers)', async () => {
    gw.logs.length = 0;
    const token = await webToken([]);
    const response = await send(gw.url, {
      path: `/fhir/Patient?_id=${'x'.repeat(DEFAULT_LIMIT)}`,
      headers: bearer(token),
    });
    assert.equal(response.status, 431, response.text);
    assert.equal(outcomeOf(response).code, 'too-long');
    assert.equal(warnings(gw.logs).length, 1);
  });

  test('other malformed HTTP is still 400, logged at debug only', async () => {
    gw.logs.length = 0;
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(gw.url).port), '127.0.0.1', () => {
        socket.write('GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n');
      });
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString('utf8');
      });
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(raw, /"resourceType":"OperationOutcome"/);
    assert.deepEqual(warnings(gw.logs), []);
  });

  test('MAX_HEADER_BYTES is passed to the HTTP server: at 32768, 600 roles pass and 1,000 get 431', async () => {
    const small = await startGateway(fhir, issuer, { MAX_HEADER_BYTES: '32768' });
    try {
      const ok = await read(small.url, await webToken(manyRoles(600)));
      assert.equal(ok.status, 200, ok.text);
      const thousand = await webToken(manyRoles(1000));
      assert.ok(thousand.length > 32768, `${thousand.length} bytes`);
      const response = await read(small.url, thousand);
      assert.equal(response.status, 431, response.text);
      assert.match(outcomeOf(response).diagnostics ?? '', /32768 bytes/);
      assert.ok(warnings(small.logs).some((line) => line.limitBytes === 32768));
    } finally {
      await small.gateway.close();
    }
  });
});

describe('MAX_HEADER_BYTES is validated at start', () => {
  const env = {
    PROXY_TO: 'http://hapi:8080/fhir',
    TOKEN_ISSUER: 'https://kc/realms/x',
    ACCESS_CHECKER: 'list',
  };
  test('default 65536; a whole number from 1024 to 1048576', () => {
    assert.equal(loadConfig(env).maxHeaderBytes, DEFAULT_LIMIT);
    assert.equal(loadConfig({ ...env, MAX_HEADER_BYTES: '131072' }).maxHeaderBytes, 131072);
    for (const bad of ['64KiB', '512', '2000000', '-1', '1e5']) {
      assert.throws(() => loadConfig({ ...env, MAX_HEADER_BYTES: bad }), {
        variable: 'MAX_HEADER_BYTES',
        message: /from 1024 to 1048576/,
      });
    }
  });
});
