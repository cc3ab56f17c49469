/**
 * `check-config --online` against a real local issuer and FHIR server, and the warning `start`
 * logs when TOKEN_ISSUER differs from the issuer named by discovery (issue 9: a trailing slash
 * loaded fine, reported ready, then refused every token).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { createGateway } from '../../src/server/gateway.js';
import { createLogger } from '../../src/server/logger.js';
import { type LocalFhirServer, startFhirServer } from '../support/fhir-server.js';
import { freePort } from '../support/free-port.js';
import { bearer, send } from '../support/http.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { runCli } from './cli-process.js';

let fhir: LocalFhirServer;
let issuer: LocalIssuer;
let env: Record<string, string>;
before(async () => {
  fhir = await startFhirServer();
  issuer = await startIssuer();
  env = {
    PROXY_TO: fhir.baseUrl,
    TOKEN_ISSUER: issuer.issuerUrl,
    ACCESS_CHECKER: 'permissive',
    RUN_MODE: 'DEV',
    PROXY_HOST: '127.0.0.1',
    PROXY_PORT: '0',
  };
});
after(async () => {
  await fhir.close();
  await issuer.close();
});

describe('check-config --online', () => {
  test('issuer and FHIR server answer: exit 0, every check ok', async () => {
    const run = await runCli(['check-config', '--online'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ok {4}TOKEN_ISSUER discovery: /m);
    assert.match(run.stdout, /^ok {4}TOKEN_ISSUER issuer: matches$/m);
    assert.match(
      run.stdout,
      /^ok {4}TOKEN_ISSUER keys: jwks from http:\/\/127\.0\.0\.1:\d+\/realms\/test\//m,
    );
    assert.match(
      run.stdout,
      /^ok {4}PROXY_TO metadata: GET .*\/metadata: CapabilityStatement, FHIR 4\.0\.1$/m,
    );
    assert.ok(!run.stderr.includes('online check failed'), run.stderr);
  });

  test('without --online nothing is fetched', async () => {
    const before = issuer.requestCount();
    fhir.clearRequests();
    const run = await runCli(['check-config'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(issuer.requestCount(), before);
    assert.deepEqual(fhir.requests, []);
  });

  test('TOKEN_ISSUER with a trailing slash: the mismatch is reported, exit 2', async () => {
    const run = await runCli(['check-config', '--online'], {
      ...env,
      RUN_MODE: 'PROD',
      ACCESS_CHECKER: 'permission',
      TOKEN_ISSUER: `${issuer.issuerUrl}/`,
    });
    assert.equal(run.code, 2, run.stdout);
    assert.match(run.stdout, /^ok {4}TOKEN_ISSUER discovery/m, 'discovery itself loads');
    assert.match(run.stdout, /^FAIL {2}TOKEN_ISSUER issuer: .*\(they differ by a trailing slash\)/m);
    assert.match(
      run.stderr,
      /^fhir-gateway: online check failed: TOKEN_ISSUER issuer: the discovery document names the issuer "http:\/\/127\.0\.0\.1:\d+\/realms\/test", not "http:\/\/127\.0\.0\.1:\d+\/realms\/test\/"/m,
    );
  });

  test('with RUN_MODE=DEV (any issuer accepted) the mismatch is noted, not a failure', async () => {
    const run = await runCli(['check-config', '--online'], { ...env, TOKEN_ISSUER: `${issuer.issuerUrl}/` });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ok {4}TOKEN_ISSUER issuer: ignored with RUN_MODE=DEV: .*trailing slash/m);
  });

  test('an unreachable FHIR server is reported, exit 2', async () => {
    const port = await freePort(); // nothing listens there
    const run = await runCli(['check-config', '--online'], {
      ...env,
      PROXY_TO: `http://127.0.0.1:${port}/fhir`,
    });
    assert.equal(run.code, 2, run.stdout);
    assert.match(run.stdout, /^ok {4}TOKEN_ISSUER keys/m);
    assert.match(
      run.stderr,
      /online check failed: PROXY_TO metadata: GET http:\/\/127\.0\.0\.1:\d+\/fhir\/metadata: .*ECONNREFUSED/,
    );
  });

  test('an issuer that is down is reported, exit 2', async () => {
    issuer.setMode('down');
    try {
      const run = await runCli(['check-config', '--online'], env);
      assert.equal(run.code, 2, run.stdout);
      assert.match(run.stderr, /online check failed: TOKEN_ISSUER discovery: .* answered 503/);
      assert.match(run.stdout, /^ok {4}PROXY_TO metadata/m, 'the FHIR server is still checked');
    } finally {
      issuer.setMode('jwks');
    }
  });
});

describe('start with a TOKEN_ISSUER the issuer does not name', () => {
  test('logs a warning naming the difference once the issuer is loaded', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const startEnv = {
      ...env,
      RUN_MODE: 'PROD',
      ACCESS_CHECKER: 'permission',
      TOKEN_ISSUER: `${issuer.issuerUrl}/`,
    };
    const gateway = await createGateway(loadConfig(startEnv), { env: startEnv, logger });
    try {
      const url = await gateway.listen();
      await gateway.verifier.loadDiscovery();
      const warning = lines.find((line) => String(line.msg).startsWith('TOKEN_ISSUER:'));
      assert.ok(warning, JSON.stringify(lines));
      assert.match(String(warning.msg), /differ by a trailing slash/);
      // What the warning predicts: a token of that issuer is refused.
      const res = await send(url, { path: '/fhir/Patient', headers: bearer(await issuer.mint({})) });
      assert.equal(res.status, 401);
    } finally {
      await gateway.close();
    }
  });

  test('no such warning when they match', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const gateway = await createGateway(loadConfig(env), { env, logger });
    try {
      await gateway.listen();
      await gateway.verifier.loadDiscovery();
      assert.ok(!lines.some((line) => String(line.msg).startsWith('TOKEN_ISSUER:')), JSON.stringify(lines));
    } finally {
      await gateway.close();
    }
  });
});
