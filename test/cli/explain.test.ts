/**
 * `fhir-gateway explain` over real HTTP: a real issuer, a real FHIR server seeded with the OpenSRP
 * dataset, ACCESS_CHECKER=permission. The upstream request it prints is compared with what a real
 * gateway with the same configuration sends for the same request, and the FHIR server must never
 * receive the explained request itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Explanation } from '../../src/cli/explain-report.js';
import { type LocalFhirServer, startFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { APP_IDS, buildOpenSrpDataset, PERSONAS } from '../support/opensrp-dataset.js';
import { type Stack, startStack } from '../support/stack.js';
import { runCli } from './cli-process.js';

const LOCATION_TAG = 'https://smartregister.org/location-tag-id';

let fhir: LocalFhirServer;
let issuer: LocalIssuer;
let gateway: Stack;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'explain-'));

before(async () => {
  fhir = await startFhirServer({ seed: buildOpenSrpDataset().resources });
  issuer = await startIssuer();
  env = {
    PROXY_TO: fhir.baseUrl,
    TOKEN_ISSUER: issuer.issuerUrl,
    ACCESS_CHECKER: 'permission',
    RUN_MODE: 'PROD',
    PROXY_HOST: '127.0.0.1',
    PROXY_PORT: '0',
    PAGING_LINK_KEY: 'explain-test-key-0123456789abcdef0123',
  };
  gateway = await startStack({ env, fhir, issuer });
});
after(async () => {
  await gateway.close();
  await fhir.close();
  await issuer.close();
  rmSync(dir, { recursive: true, force: true });
});

const worker = (roles: string[]) => ({
  sub: PERSONAS.worker.sub,
  fhir_core_app_id: APP_IDS.Location,
  realm_access: { roles: ['ANDROID_CLIENT', ...roles] },
});
const webUser = (roles: string[]) => ({
  sub: PERSONAS.worker.sub,
  fhir_core_app_id: APP_IDS.Location,
  realm_access: { roles: ['WEB_CLIENT', ...roles] },
});

/** Runs `explain --json` and returns its exit status, its explanation and what the FHIR server got. */
async function explainJson(token: string, request: string, extra: string[] = []) {
  fhir.clearRequests();
  const run = await runCli(['explain', '--json', '--token', token, ...extra, request], env);
  const received = fhir.requests.map((r) => `${r.method} ${r.url}`);
  assert.ok(run.stdout.startsWith('{'), `JSON on stdout: ${run.stdout} ${run.stderr}`);
  return { code: run.code, explanation: JSON.parse(run.stdout) as Explanation, received, stderr: run.stderr };
}

/** What the real gateway sent upstream for the same request (its last backend request). */
async function forwardedByGateway(token: string, method: string, path: string, body?: string) {
  fhir.clearRequests();
  const headers = bearer(token, body === undefined ? {} : { 'content-type': 'application/fhir+json' });
  const res = await send(gateway.gatewayUrl, {
    method,
    path,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  assert.ok(res.status < 300, `the gateway answered ${res.status}: ${res.text}`);
  const last = fhir.requests.at(-1);
  assert.ok(last, 'the gateway forwarded something');
  return { url: `${new URL(fhir.baseUrl).origin}${last.url}`, method: last.method, body: last.body };
}

describe('explain', () => {
  test('granted: a web user with GET_PATIENT, the request goes up unchanged', async () => {
    const token = await issuer.mint(webUser(['GET_PATIENT']));
    const { code, explanation, received } = await explainJson(token, 'GET /fhir/Patient?name=x');
    assert.equal(code, 0);
    assert.equal(explanation.decision, 'granted');
    assert.equal(explanation.grantedBy, 'checker');
    assert.match(explanation.reason, /ACCESS_CHECKER=permission granted it/);
    assert.equal(explanation.token.verified, true);
    assert.equal(explanation.token.subject, PERSONAS.worker.sub);
    assert.equal(explanation.mutation, undefined);
    assert.deepEqual(
      { method: explanation.upstream?.method, url: explanation.upstream?.url },
      { method: 'GET', url: `${fhir.baseUrl}/Patient?name=x` },
    );
    assert.ok(!received.some((line) => line.includes('/Patient')), `not forwarded: ${received.join(', ')}`);
    const sent = await forwardedByGateway(token, 'GET', '/fhir/Patient?name=x');
    assert.equal(sent.url, explanation.upstream?.url, 'the gateway sends exactly that');
  });

  test('denied, with the reason: a web user without the role', async () => {
    const token = await issuer.mint(webUser(['GET_OBSERVATION']));
    const { code, explanation } = await explainJson(token, 'GET /fhir/Patient?name=x');
    assert.equal(code, 3);
    assert.equal(explanation.decision, 'denied');
    assert.equal(explanation.stage, 'authorize');
    assert.equal(explanation.status, 403);
    assert.match(explanation.reason, /GET_PATIENT/);
    assert.equal(explanation.upstream, undefined);
    const res = await send(gateway.gatewayUrl, { path: '/fhir/Patient?name=x', headers: bearer(token) });
    assert.equal(res.status, 403);
    assert.ok(
      res.text.includes(JSON.stringify(explanation.reason).slice(1, -1)),
      'the same reason as the 403',
    );
  });

  test("narrowed: a health worker's search goes up with the facility's village tags", async () => {
    const token = await issuer.mint(worker(['GET_PATIENT']));
    const { code, explanation, received } = await explainJson(token, 'GET /fhir/Patient?name=x');
    assert.equal(code, 0, JSON.stringify(explanation));
    assert.equal(explanation.decision, 'granted');
    const tag = explanation.mutation?.addParams?.find((param) => param.name === '_tag');
    assert.ok(tag, JSON.stringify(explanation.mutation));
    assert.ok(
      tag.value.split(',').every((value) => value.startsWith(`${LOCATION_TAG}|`)),
      tag.value,
    );
    assert.ok(tag.value.includes(`${PERSONAS.worker.facility}`), tag.value);
    assert.ok(received.length > 0, 'the assignment was looked up on the FHIR server');
    assert.ok(!received.some((line) => line.startsWith('GET /fhir/Patient')), received.join(', '));
    const sent = await forwardedByGateway(token, 'GET', '/fhir/Patient?name=x');
    assert.equal(explanation.upstream?.url, sent.url, 'the exact upstream URL, _tag included');
    const facility = PERSONAS.worker.facility;
    const villages = [facility, `${facility}-v1`, `${facility}-v2`, `${facility}-v3`];
    const tags = villages.map((id) => `${LOCATION_TAG}|${id}`).join(',');
    assert.equal(explanation.upstream?.url, `${fhir.baseUrl}/Patient?name=x&_tag=${tags}`);
  });

  test('a narrowed search too long for a URL: the form body that would go up', async () => {
    const token = await issuer.mint(worker(['GET_PATIENT']));
    const run = await runCli(['explain', '--json', '--token', token, 'GET /fhir/Patient?name=x'], {
      ...env,
      MAX_UPSTREAM_URL_LENGTH: '100',
    });
    assert.equal(run.code, 0, run.stderr);
    const upstream = (JSON.parse(run.stdout) as Explanation).upstream;
    assert.equal(upstream?.method, 'POST');
    assert.equal(upstream?.url, `${fhir.baseUrl}/Patient/_search`);
    assert.equal(upstream?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.match(
      upstream?.body ?? '',
      /^name=x&_tag=https:\/\/smartregister\.org\/location-tag-id\|loc-d1-f1,/,
    );
  });

  test('a file of bare claims: the same decision, and it says the signature was not checked', async () => {
    const claims = join(dir, 'claims.json');
    writeFileSync(claims, JSON.stringify(worker(['GET_PATIENT'])));
    const { code, explanation } = await explainJson(claims, 'GET /fhir/Patient?name=x');
    assert.equal(code, 0);
    assert.equal(explanation.token.verified, false);
    assert.equal(explanation.token.source, claims);
    assert.match(explanation.token.note, /signature.*NOT checked/);
    const token = await issuer.mint(worker(['GET_PATIENT']));
    const fromJwt = await explainJson(token, 'GET /fhir/Patient?name=x');
    assert.equal(explanation.upstream?.url, fromJwt.explanation.upstream?.url);
  });

  test('a token the issuer did not sign is refused at authenticate', async () => {
    const { code, explanation } = await explainJson(
      await issuer.mintHostile('bad-signature'),
      'GET /fhir/Patient',
    );
    assert.equal(code, 3);
    assert.equal(explanation.stage, 'authenticate');
    assert.equal(explanation.status, 401);
    assert.equal(explanation.token.verified, false);
  });

  test('a POST with a body file: the body that would go up', async () => {
    const body = join(dir, 'patient.json');
    const patient = { resourceType: 'Patient', id: 'explain-1', name: [{ family: 'Explained' }] };
    writeFileSync(body, JSON.stringify(patient));
    const token = await issuer.mint(webUser(['PUT_PATIENT']));
    const { code, explanation, received } = await explainJson(token, 'PUT /fhir/Patient/explain-1', [
      '--body',
      body,
    ]);
    assert.equal(code, 0, JSON.stringify(explanation));
    assert.equal(explanation.upstream?.method, 'PUT');
    assert.equal(explanation.upstream?.url, `${fhir.baseUrl}/Patient/explain-1`);
    assert.deepEqual(JSON.parse(explanation.upstream?.body ?? ''), patient);
    assert.equal(explanation.upstream?.headers['content-type'], 'application/fhir+json');
    assert.ok(!received.some((line) => line.startsWith('PUT')), 'nothing was written');
  });

  test('the text form names the decision, the mutation and the upstream request', async () => {
    const token = await issuer.mint(worker(['GET_PATIENT']));
    const run = await runCli(['explain', '--token', token, 'GET /fhir/Patient?name=x'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^request {3}GET \/fhir\/Patient\?name=x$/m);
    assert.match(run.stdout, /^decision {2}GRANTED \(checker\)$/m);
    assert.match(run.stdout, /^mutation {2}add _tag=https:\/\/smartregister\.org\/location-tag-id\|/m);
    assert.match(
      run.stdout,
      new RegExp(`^upstream  GET ${fhir.baseUrl.replace(/[.]/g, '\\.')}/Patient\\?name=x&_tag=`, 'm'),
    );
    assert.match(run.stdout, /^answer {4}/m);
  });

  test('bad input exits 2: no /fhir path, unreadable token', async () => {
    const token = await issuer.mint(webUser(['GET_PATIENT']));
    const notFhir = await runCli(['explain', '--token', token, 'GET /LocationHierarchy'], env);
    assert.equal(notFhir.code, 2);
    assert.match(notFhir.stderr, /explain covers the FHIR API below \/fhir/);
    const noToken = await runCli(['explain', '--token', join(dir, 'absent'), 'GET /fhir/Patient'], env);
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /is neither a file nor a JWT/);
  });
});
