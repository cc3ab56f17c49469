/**
 * A request still in flight when SHUTDOWN_GRACE_MS runs out: the gateway exits 1, and says why in
 * one log line first (issue 9: the forced exit was silent).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { startIssuer } from '../support/issuer.js';

test('a forced exit after the shutdown grace logs a line, then exits 1', async () => {
  const fhir = await startFhirServer();
  const issuer = await startIssuer();
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  fhir.intercept(async (req) => {
    if (req.url.includes('stuck')) await held;
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
      SHUTDOWN_GRACE_MS: '200',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    let url: string | undefined;
    while (!url && child.exitCode === null) {
      url = /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1];
      if (!url) await sleep(50);
    }
    assert.ok(url, `the gateway logged its URL: ${output}`);
    const pending = send(url, {
      path: '/fhir/Patient?name=stuck',
      headers: bearer(await issuer.mint({})),
    }).catch((error: unknown) => error);
    while (!fhir.requests.some((r) => r.url.includes('stuck'))) await sleep(20);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 1);
    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string; graceMs?: number });
    const last = lines.at(-1);
    assert.equal(last?.level, 50, output);
    assert.match(last?.msg ?? '', /requests still in flight after the shutdown grace/);
    assert.equal(last?.graceMs, 200);
    await pending;
  } finally {
    release();
    child.kill('SIGKILL');
    await fhir.close();
    await issuer.close();
  }
});
