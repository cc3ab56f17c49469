/**
 * A real SMART client library (fhirclient, Node adapter) completes a standalone launch: it reads
 * the gateway's `.well-known/smart-configuration`, sends the user agent to the local issuer's
 * authorize endpoint (PKCE S256, approved at once for one user), exchanges the code for a token
 * that names the patient, and reads that patient's data through the gateway, which holds it to
 * the `patient` checker. The test plays the browser: it follows the redirects by hand.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startFhirServer } from '../support/fhir-server.js';
import { startIssuer } from '../support/issuer.js';
import { startStack } from '../support/stack.js';
import { PATIENT_AUTHORIZED, PATIENT_NON_AUTHORIZED, seedData } from '../checkers/checker-kit.js';

/**
 * fhirclient's Node entry, loaded without its type declarations: they pull the DOM library into the
 * whole program's types (Node's fetch then refuses Buffer bodies elsewhere). The part used here:
 */
interface SmartClient {
  readonly patient: { readonly id: string | null; read(): Promise<unknown> };
  request(url: string): Promise<unknown>;
}
type Smart = (
  req: IncomingMessage,
  res: ServerResponse,
  storage: ReturnType<typeof memoryStorage>,
) => { authorize(options: Record<string, unknown>): Promise<unknown>; ready(): Promise<SmartClient> };
const smart = createRequire(import.meta.url)('fhirclient') as Smart;

/** fhirclient's storage, kept in memory (a web app would use its session). */
function memoryStorage() {
  const values = new Map<string, unknown>();
  return {
    get: async (key: string) => values.get(key),
    set: async (key: string, value: unknown) => {
      values.set(key, value);
      return value;
    },
    unset: async (key: string) => values.delete(key),
  };
}

test("fhirclient: standalone launch against the local issuer, then the patient's data through the gateway", async () => {
  const issuer = await startIssuer({
    users: { alice: { patient_id: PATIENT_AUTHORIZED } },
    authorizeAs: 'alice',
  });
  const fhir = await startFhirServer({ seed: seedData() });
  const stack = await startStack({ env: { ACCESS_CHECKER: 'patient', RUN_MODE: 'PROD' }, fhir, issuer });
  const storage = memoryStorage();
  let results: Record<string, unknown> | undefined;
  const app = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://app.invalid').pathname;
    if (path === '/launch') {
      smart(req, res, storage)
        .authorize({
          iss: stack.fhirBase,
          clientId: 'growth-chart',
          scope: 'launch/patient openid patient/Patient.rs patient/Observation.rs',
          redirectUri: '/callback',
          pkceMode: 'required',
        })
        .catch((error: Error) => {
          res.writeHead(500);
          res.end(error.message);
        });
      return;
    }
    smart(req, res, storage)
      .ready()
      .then(async (client: SmartClient) => {
        const patient = await client.patient.read();
        const observations = await client.request(`Observation?subject=Patient/${client.patient.id}`);
        let other: unknown;
        try {
          await client.request(`Patient/${PATIENT_NON_AUTHORIZED}`);
        } catch (error) {
          other = (error as { status?: number }).status;
        }
        results = { patientId: client.patient.id, patient, observations, other };
        res.writeHead(200);
        res.end('ok');
      })
      .catch((error: Error) => {
        res.writeHead(500);
        res.end(error.message);
      });
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  try {
    // The browser: the app's launch → the issuer's authorize endpoint → back to the app's callback.
    const launch = await fetch(`${appUrl}/launch`, { redirect: 'manual' });
    assert.equal(launch.status, 302, await launch.text());
    const authorize = new URL(launch.headers.get('location')!);
    assert.equal(
      `${authorize.origin}${authorize.pathname}`,
      `${issuer.issuerUrl}/protocol/openid-connect/auth`,
    );
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorize.searchParams.get('aud'), stack.fhirBase);
    const approved = await fetch(authorize, { redirect: 'manual' });
    assert.equal(approved.status, 302);
    const callback = await fetch(approved.headers.get('location')!, { redirect: 'manual' });
    assert.equal(callback.status, 200, await callback.text());

    assert.ok(results, 'the app ran its reads');
    assert.equal(results.patientId, PATIENT_AUTHORIZED);
    assert.equal((results.patient as { id: string }).id, PATIENT_AUTHORIZED);
    const bundle = results.observations as { entry?: { resource: { id: string } }[] };
    const ids = (bundle.entry ?? []).map((entry) => entry.resource.id);
    assert.ok(ids.includes('obs-auth-lab'));
    assert.ok(!ids.includes('obs-other-only'));
    assert.equal(results.other, 403, 'another patient stays out of reach');
  } finally {
    await new Promise((resolve) => app.close(resolve));
    await stack.close();
    await fhir.close();
    await issuer.close();
  }
});
