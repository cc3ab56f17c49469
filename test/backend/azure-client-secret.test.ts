/**
 * BACKEND_TYPE=AZURE with a client secret (ClientSecretCredential through MSAL), against a local
 * HTTPS stand-in for a Microsoft Entra authority (AZURE_AUTHORITY_HOST): @azure/identity refuses
 * plain-http authorities, so the fake serves TLS with a certificate from a test CA
 * (fixtures/tls, made with openssl, valid to 2126; the CA key was discarded) and the gateway runs
 * in its own process with NODE_EXTRA_CA_CERTS, which Node reads only at start.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFhirServer, type LocalFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { leakedIn } from './support/backend-stack.js';
import { type FakeEndpoint, sendJson, startFake } from './support/fake-endpoint.js';

const TLS = fileURLToPath(new URL('./fixtures/tls/', import.meta.url));
const TENANT = '72f988bf-0000-4000-8000-000000000001';
const CLIENT_ID = 'b1c2d3e4-0000-4000-8000-000000000002';
const CLIENT_SECRET = `azure-secret-${crypto.randomUUID()}`;

describe('AZURE with a client secret at an HTTPS authority', () => {
  const issued: string[] = [];
  const tokenRequests: URLSearchParams[] = [];
  let authority: FakeEndpoint;
  let fhir: LocalFhirServer;
  let issuer: LocalIssuer;
  let child: ChildProcess;
  let gatewayUrl: string;
  const output: string[] = [];

  before(async () => {
    authority = await startFake(
      (req, res) => {
        const origin = authority.origin;
        if (req.method === 'GET' && req.url === `/${TENANT}/v2.0/.well-known/openid-configuration`) {
          return sendJson(res, 200, {
            issuer: `${origin}/${TENANT}/v2.0`,
            authorization_endpoint: `${origin}/${TENANT}/oauth2/v2.0/authorize`,
            token_endpoint: `${origin}/${TENANT}/oauth2/v2.0/token`,
            end_session_endpoint: `${origin}/${TENANT}/oauth2/v2.0/logout`,
            jwks_uri: `${origin}/${TENANT}/discovery/v2.0/keys`,
          });
        }
        if (req.method === 'POST' && req.url.startsWith(`/${TENANT}/oauth2/v2.0/token`)) {
          const form = new URLSearchParams(req.body);
          tokenRequests.push(form);
          if (form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== CLIENT_SECRET) {
            return sendJson(res, 401, {
              error: 'invalid_client',
              error_description: 'AADSTS7000215: Invalid client secret.',
            });
          }
          const token = `eyJ0eXAi.entra-${issued.length + 1}-${crypto.randomUUID()}`;
          issued.push(token);
          return sendJson(res, 200, {
            token_type: 'Bearer',
            expires_in: 3599,
            ext_expires_in: 3599,
            access_token: token,
          });
        }
        sendJson(res, 404, { error: 'not_found' });
      },
      {
        tls: {
          key: readFileSync(join(TLS, 'server-key.pem'), 'utf8'),
          cert: readFileSync(join(TLS, 'server.pem'), 'utf8'),
        },
      },
    );
    fhir = await startFhirServer();
    issuer = await startIssuer();
    const secretFile = join(mkdtempSync(join(tmpdir(), 'azure-secret-')), 'secret');
    writeFileSync(secretFile, CLIENT_SECRET);
    child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./support/gateway-process.ts', import.meta.url))],
      {
        env: {
          PATH: process.env.PATH ?? '',
          NODE_EXTRA_CA_CERTS: join(TLS, 'ca.pem'),
          PROXY_TO: fhir.baseUrl,
          TOKEN_ISSUER: issuer.issuerUrl,
          PROXY_HOST: '127.0.0.1',
          PROXY_PORT: '0',
          ACCESS_CHECKER: 'permissive',
          RUN_MODE: 'DEV',
          LOG_LEVEL: 'trace',
          BACKEND_TYPE: 'AZURE',
          AZURE_TENANT_ID: TENANT,
          AZURE_CLIENT_ID: CLIENT_ID,
          AZURE_CLIENT_SECRET_FILE: secretFile,
          AZURE_AUTHORITY_HOST: authority.origin,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    gatewayUrl = await new Promise<string>((resolve, reject) => {
      let pending = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output.push(chunk.toString());
        pending += chunk.toString();
        const match = /\{"listening":"([^"]+)"\}/.exec(pending);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`gateway exited (${code}): ${output.join('')}`)));
    });
  });
  after(async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await fhir.close();
    await issuer.close();
    await authority.close();
  });

  test('the secret read from AZURE_CLIENT_SECRET_FILE buys a token for the PROXY_TO origin; it reaches the FHIR server, reused', async () => {
    const token = await issuer.mint({ sub: 'azure-test' });
    for (let i = 0; i < 3; i++) {
      const res = await send(gatewayUrl, { path: '/fhir/Patient', headers: bearer(token) });
      assert.equal(res.status, 200, res.text);
    }
    assert.equal(issued.length, 1);
    assert.equal(tokenRequests[0]?.get('grant_type'), 'client_credentials');
    assert.match(
      tokenRequests[0]?.get('scope') ?? '',
      new RegExp(`${new URL(fhir.baseUrl).origin}/\\.default`),
    );
    assert.deepEqual(
      fhir.requests.map((r) => r.headers.authorization),
      Array(3).fill(`Bearer ${issued[0]}`),
    );
  });

  test('no output line of the gateway process carries the secret or the token', () => {
    const lines = output.join('').split('\n');
    assert.ok(lines.length > 3);
    assert.deepEqual(leakedIn(lines, [CLIENT_SECRET, ...issued]), []);
  });
});
