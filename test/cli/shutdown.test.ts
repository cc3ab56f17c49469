import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { startIssuer } from '../support/issuer.js';

test('SIGTERM lets an in-flight request finish, then exits 0', async () => {
  const fhir = await startFhirServer();
  const issuer = await startIssuer();
  let releaseSlow: () => void = () => {};
  fhir.intercept(async (req) => {
    if (req.url.includes('slow')) await new Promise<void>((resolve) => (releaseSlow = resolve));
    return false;
  });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      PROXY_TO: fhir.baseUrl,
      TOKEN_ISSUER: issuer.issuerUrl,
      ACCESS_CHECKER: 'permissive',
      RUN_MODE: 'DEV',
      PROXY_PORT: '0',
      PROXY_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    let url: string | undefined;
    for (let i = 0; i < 200 && !url; i++) {
      url = /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1];
      if (!url) await sleep(50);
    }
    assert.ok(url, `the gateway logged its URL: ${output}`);
    const token = await issuer.mint({});
    const pending = send(url, { path: '/fhir/Patient?name=slow', headers: bearer(token) });
    for (let i = 0; i < 100 && !fhir.requests.some((r) => r.url.includes('slow')); i++) await sleep(20);
    child.kill('SIGTERM');
    await sleep(200);
    releaseSlow();
    const res = await pending;
    assert.equal(res.status, 200, 'the in-flight request completed');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
    await fhir.close();
    await issuer.close();
  }
});
