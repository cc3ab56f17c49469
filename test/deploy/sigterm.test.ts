/**
 * docs/deployment.md, "Supervisors and signals": the gateway started as documented (`npm run build`,
 * then `node dist/main.js`, the image's entry command) is itself the process a supervisor signals.
 * SIGTERM stops new connections, lets the request in flight finish, and exits 0.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LocalFhirServer, startFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { type AppDir, layoutApp } from './app-dir.js';
import { startGatewayProcess } from './gateway-process.js';

/** Holds the FHIR server's answer to searches whose URL contains `marker` until the returned call. */
function holdSearches(fhir: LocalFhirServer, marker: string): () => void {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  fhir.intercept(async (req) => {
    if (req.url.includes(marker)) await held;
    return false;
  });
  return () => release();
}

describe('signals to `node dist/main.js`', () => {
  let fhir: LocalFhirServer;
  let issuer: LocalIssuer;
  let app: AppDir;
  before(async () => {
    fhir = await startFhirServer();
    issuer = await startIssuer();
    app = layoutApp('link');
  });
  after(async () => {
    app.remove();
    await fhir.close();
    await issuer.close();
  });

  const env = () => ({
    PROXY_TO: fhir.baseUrl,
    TOKEN_ISSUER: issuer.issuerUrl,
    ACCESS_CHECKER: 'permissive',
    RUN_MODE: 'DEV',
    PROXY_HOST: '127.0.0.1',
  });

  test('the entry command is node itself, running the compiled gateway', () => {
    assert.deepEqual(app.command, ['node', 'dist/main.js']);
  });

  test('SIGTERM drains the request in flight (slow backend), refuses new connections, exits 0', async () => {
    const release = holdSearches(fhir, 'name=slow');
    // A grace no loaded CI machine reaches: the drain must end because the request did.
    const gateway = await startGatewayProcess(app, { ...env(), SHUTDOWN_GRACE_MS: '60000' });
    try {
      const token = await issuer.mint({});
      // `Connection: close`: the exit then waits on the request alone, not on an idle keep-alive socket.
      const inFlight = send(gateway.url, {
        path: '/fhir/Patient?name=slow',
        headers: bearer(token, { connection: 'close' }),
      });
      while (!fhir.requests.some((r) => r.url.includes('name=slow'))) await sleep(20);

      gateway.child.kill('SIGTERM');
      // Once it stops listening, a new connection is refused while the held request is still open.
      let refused = false;
      for (let i = 0; i < 200 && !refused; i++) {
        refused = await send(gateway.url, { path: '/healthz' }).then(
          () => false,
          (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
        );
        if (!refused) await sleep(25);
      }
      assert.ok(refused, `new connections are refused during the drain:\n${gateway.output()}`);
      assert.equal(gateway.child.exitCode, null, 'still running while a request is in flight');

      release();
      const response = await inFlight;
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json().resourceType, 'Bundle');
      const { code, signal } = await gateway.exited;
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, gateway.output());
    } finally {
      release();
      fhir.intercept(undefined);
      await gateway.stop();
    }
  });

  test('SIGTERM with the in-flight request on a keep-alive connection: answered, the idle connection closed, exits 0', async () => {
    const release = holdSearches(fhir, 'name=kept');
    // A grace far longer than the drain: holding the idle connection open would end in exit 1.
    const gateway = await startGatewayProcess(app, { ...env(), SHUTDOWN_GRACE_MS: '60000' });
    try {
      const token = await issuer.mint({});
      const { port } = new URL(gateway.url);
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
      });
      const closedByServer = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(
        `GET /fhir/Patient?name=kept HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n` +
          `Authorization: Bearer ${token}\r\n\r\n`,
      );
      while (!fhir.requests.some((r) => r.url.includes('name=kept'))) await sleep(20);

      gateway.child.kill('SIGTERM');
      await sleep(100);
      release();
      await closedByServer;
      assert.match(received, /^HTTP\/1\.1 200 /, received.slice(0, 200));
      const { code, signal } = await gateway.exited;
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, gateway.output());
    } finally {
      release();
      fhir.intercept(undefined);
      await gateway.stop();
    }
  });

  test('SIGINT with nothing in flight exits 0', async () => {
    const gateway = await startGatewayProcess(app, env());
    try {
      gateway.child.kill('SIGINT');
      const { code, signal } = await gateway.exited;
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, gateway.output());
    } finally {
      await gateway.stop();
    }
  });
});
