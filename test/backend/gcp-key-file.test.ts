/**
 * BACKEND_TYPE=GCP with a service-account key file (GOOGLE_APPLICATION_CREDENTIALS), loaded and
 * signed by google-auth-library itself. The library sends the token request to Google's fixed
 * endpoint (https://oauth2.googleapis.com/token), which a test cannot serve; its documented
 * `transporter` option (a gaxios instance) is pointed at a local fake of that endpoint, which
 * checks the signed assertion with the key's public half. What stays unexercised: the TLS hop to
 * Google and Google's own checks of the assertion.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gaxios } from 'google-auth-library';
import { importSPKI, jwtVerify } from 'jose';
import { Backend } from '../../src/backend/backend.js';
import { BackendAuth } from '../../src/backend/credentials/backend-auth.js';
import { gcpSource } from '../../src/backend/credentials/gcp.js';
import { BackendFhirClient } from '../../src/backend/fhir-client.js';
import { loadConfig } from '../../src/config/load-config.js';
import { type LocalFhirServer, startFhirServer } from '../support/fhir-server.js';
import { type FakeEndpoint, sendJson, startFake } from './support/fake-endpoint.js';
import { GCP_STORE_PATH } from './support/backend-stack.js';

const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const CLIENT_EMAIL = 'fhir-gateway@p-test.iam.gserviceaccount.com';

describe('GCP with a service-account key file', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = join(mkdtempSync(join(tmpdir(), 'gcp-key-')), 'sa.json');
  writeFileSync(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      project_id: 'p-test',
      private_key_id: 'key-1',
      private_key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      client_email: CLIENT_EMAIL,
      client_id: '1234567890',
      token_uri: GOOGLE_TOKEN_URL,
    }),
  );
  const issued: string[] = [];
  const assertions: Record<string, unknown>[] = [];
  let google: FakeEndpoint;
  let fhir: LocalFhirServer;
  let backend: Backend;

  before(async () => {
    const verifyKey = await importSPKI(publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'RS256');
    google = await startFake(async (req, res) => {
      const form = new URLSearchParams(req.body);
      if (req.url !== '/token' || form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        return sendJson(res, 400, { error: 'unsupported_grant_type' });
      }
      try {
        const { payload } = await jwtVerify(form.get('assertion') ?? '', verifyKey, {
          audience: GOOGLE_TOKEN_URL,
        });
        assertions.push(payload);
      } catch {
        return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
      }
      const token = `ya29.sa-${issued.length + 1}`;
      issued.push(token);
      sendJson(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    });
    fhir = await startFhirServer({ basePath: GCP_STORE_PATH });
    // The gateway's own settings path: the key file is named by GOOGLE_APPLICATION_CREDENTIALS.
    const config = loadConfig({
      PROXY_TO: fhir.baseUrl,
      TOKEN_ISSUER: 'https://issuer.example.org',
      ACCESS_CHECKER: 'permissive',
      BACKEND_TYPE: 'GCP',
      GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    });
    assert.equal(config.backendCredentials.type, 'GCP');
    const transporter = new gaxios.Gaxios();
    transporter.interceptors.request.add({
      resolved: async (options) => {
        if (options.url.href === GOOGLE_TOKEN_URL) options.url = new URL('/token', google.origin);
        return options;
      },
    });
    const settings = config.backendCredentials as Extract<typeof config.backendCredentials, { type: 'GCP' }>;
    backend = new Backend({
      baseUrl: config.proxyTo,
      connectTimeoutMs: 2000,
      timeoutMs: 5000,
      type: 'GCP',
      auth: new BackendAuth('GCP', gcpSource(settings, { transporter })),
    });
  });
  after(async () => {
    await backend.close();
    await fhir.close();
    await google.close();
  });

  test('the library signs an assertion with the key; its token reaches the FHIR server, reused across requests', async () => {
    const client = new BackendFhirClient(backend);
    for (let i = 0; i < 3; i++) assert.equal((await client.get('/Patient')).status, 200);
    assert.deepEqual(issued, ['ya29.sa-1']);
    assert.equal(assertions[0]?.iss, CLIENT_EMAIL);
    assert.equal(assertions[0]?.scope, 'https://www.googleapis.com/auth/cloud-platform');
    assert.deepEqual(
      fhir.requests.map((r) => r.headers.authorization),
      ['Bearer ya29.sa-1', 'Bearer ya29.sa-1', 'Bearer ya29.sa-1'],
    );
  });
});
