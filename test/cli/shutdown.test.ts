/**
 * SIGTERM drains: a request in flight finishes and the process exits 0; one still in flight when
 * SHUTDOWN_GRACE_MS runs out is cut, after a log line saying so (issue 9: that exit was silent).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { startIssuer } from '../support/issuer.js';
import { startGatewayProcess } from './cli-process.js';

/** A gateway process with a request held at the FHIR server until `release()`. */
async function withHeldRequest(
  env: Record<string, string>,
  body: (held: {
    kill(): void;
    release(): void;
    answer: Promise<unknown>;
    exit: Promise<number | null>;
    output(): string;
  }) => Promise<void>,
): Promise<void> {
  const fhir = await startFhirServer();
  const issuer = await startIssuer();
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  fhir.intercept(async (req) => {
    if (req.url.includes('held')) await held;
    return false;
  });
  const gateway = await startGatewayProcess({
    PROXY_TO: fhir.baseUrl,
    TOKEN_ISSUER: issuer.issuerUrl,
    ACCESS_CHECKER: 'permissive',
    RUN_MODE: 'DEV',
    ...env,
  }).catch(async (error: unknown) => {
    await fhir.close();
    await issuer.close();
    throw error;
  });
  try {
    const exit = once(gateway.child, 'exit').then(([code]) => code as number | null);
    const answer = send(gateway.url, {
      path: '/fhir/Patient?name=held',
      headers: bearer(await issuer.mint({})),
    });
    answer.catch(() => undefined);
    while (!fhir.requests.some((r) => r.url.includes('held'))) await sleep(20);
    await body({ kill: () => gateway.child.kill('SIGTERM'), release, answer, exit, output: gateway.output });
  } finally {
    release();
    gateway.child.kill('SIGKILL');
    await fhir.close();
    await issuer.close();
  }
}

test('SIGTERM lets an in-flight request finish, then exits 0', () =>
  withHeldRequest({}, async ({ kill, release, answer, exit }) => {
    kill();
    await sleep(200);
    release();
    const res = (await answer) as { status: number };
    assert.equal(res.status, 200, 'the in-flight request completed');
    assert.equal(await exit, 0);
  }));

test('a forced exit after the shutdown grace logs a line, then exits 1', () =>
  withHeldRequest({ SHUTDOWN_GRACE_MS: '200' }, async ({ kill, exit, output }) => {
    kill();
    assert.equal(await exit, 1);
    const lines = output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string; graceMs?: number });
    const last = lines.at(-1);
    assert.equal(last?.level, 50, output());
    assert.match(last?.msg ?? '', /requests still in flight after the shutdown grace/);
    assert.equal(last?.graceMs, 200);
  }));
