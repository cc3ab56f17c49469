/**
 * The image's runtime stage, replayed outside a container (this machine has no Docker engine): the
 * Dockerfile's COPY steps (package.json, package-lock.json, dist from `npm run build`, resources) into
 * a temp directory, its `npm ci --omit=dev` there, then its entry command with its environment. That
 * is also the production start of docs/deployment.md: no dev dependency, no compiler.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { type LocalFhirServer, startFhirServer } from '../support/fhir-server.js';
import { bearer, send } from '../support/http.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { APP_IDS, buildOpenSrpDataset, PERSONAS } from '../support/opensrp-dataset.js';
import { type AppDir, layoutApp } from './app-dir.js';
import { type GatewayProcess, startGatewayProcess } from './gateway-process.js';

const dataset = buildOpenSrpDataset();

describe('the image runtime, outside a container, after `npm ci --omit=dev`', () => {
  let fhir: LocalFhirServer;
  let issuer: LocalIssuer;
  let app: AppDir;
  let gateway: GatewayProcess;
  before(async () => {
    fhir = await startFhirServer({ seed: dataset.resources });
    issuer = await startIssuer({ realm: 'opensrp' });
    app = layoutApp('production');
    // What docs/deployment.md gives the container, with the addresses of this machine's servers.
    gateway = await startGatewayProcess(app, {
      PROXY_TO: fhir.baseUrl,
      TOKEN_ISSUER: issuer.issuerUrl,
      ACCESS_CHECKER: 'permission',
      ALLOWED_QUERIES_FILE: 'resources/opensrp_allowed_queries.json',
    });
  });
  after(async () => {
    await gateway?.stop();
    app?.remove();
    await fhir?.close();
    await issuer?.close();
  });

  test('holds no dev dependency and no sources: compiler, tsx and test tools are absent', () => {
    for (const dev of ['typescript', 'tsx', '@biomejs/biome', 'fast-check', 'yaml']) {
      assert.equal(existsSync(join(app.dir, 'node_modules', dev)), false, `${dev} is a dev dependency`);
    }
    assert.equal(existsSync(join(app.dir, 'src')), false);
    assert.ok(existsSync(join(app.dir, 'node_modules', 'fastify')), 'production dependencies are installed');
  });

  test('the HEALTHCHECK command, run with the same environment, exits 0', () => {
    const [command, ...args] = app.stage.healthcheck!.command;
    const probe = spawnSync(command!, args, { cwd: app.dir, env: gateway.env, encoding: 'utf8' });
    assert.equal(probe.status, 0, `${probe.stdout}${probe.stderr}`);
  });

  test('readiness: the issuer keys are loaded and the FHIR server answers', async () => {
    // The keys load in the background after start (a loaded CI machine may not be there yet):
    // readiness is what a probe polls, so poll it, a bounded number of times.
    let response = await send(gateway.url, { path: '/readyz' });
    for (let attempt = 0; attempt < 100 && response.status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      response = await send(gateway.url, { path: '/readyz' });
    }
    assert.equal(response.status, 200, response.text);
  });

  test('the relative ALLOWED_QUERIES_FILE resolves from the working directory: the pre-login config read', async () => {
    const response = await send(gateway.url, { path: `/fhir/Composition?identifier=${APP_IDS.Location}` });
    assert.equal(response.status, 200, response.text);
    assert.equal((response.json() as unknown as Bundle).entry?.length, 1);
  });

  test('an Android worker’s sync search is narrowed to their assignment', async () => {
    const token = await issuer.mint({
      sub: PERSONAS.worker.sub,
      fhir_core_app_id: APP_IDS.Location,
      realm_access: { roles: ['ANDROID_CLIENT', 'GET_PATIENT'] },
    });
    const response = await send(gateway.url, { path: '/fhir/Patient?_count=100', headers: bearer(token) });
    assert.equal(response.status, 200, response.text);
    const ids = ((response.json() as unknown as Bundle<Patient>).entry ?? []).map((e) => e.resource!.id!);
    assert.deepEqual(ids.sort(), dataset.patientsIn(dataset.subtreeOf(PERSONAS.worker.facility)).sort());
  });

  test('`docker run <image> check-config` validates the same environment and exits 0', () => {
    const [command, ...args] = app.command;
    const run = spawnSync(command!, [...args, 'check-config'], {
      cwd: app.dir,
      env: gateway.env,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  });
});
