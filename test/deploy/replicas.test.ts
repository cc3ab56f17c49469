/**
 * docs/deployment.md#replicas: two gateway processes (`node dist/main.js`, the same environment and
 * PAGING_LINK_KEY) behind Debian's nginx as a round-robin load balancer, in front of one FHIR server
 * that pages as HAPI does (`_getpages` links, kept server-side). An Android user syncs every page of
 * every type and uploads a transaction; the requests land on both replicas, and a paging link signed
 * by one replica is followed on the other. A replica with another key refuses those links: the key
 * must be shared.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { type LocalFhirServer, startFhirServer } from '../support/fhir-server.js';
import { bearer, type RawResponse, send } from '../support/http.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { APP_IDS, buildOpenSrpDataset, PERSONAS, TAG_SYSTEMS } from '../support/opensrp-dataset.js';
import { type AppDir, layoutApp } from './app-dir.js';
import { type GatewayProcess, startGatewayProcess } from './gateway-process.js';
import { type LoadBalancer, type Served, startLoadBalancer } from './load-balancer.js';

// 12 villages under the worker's facility, 3 patients (and observations) each: 36 of each type in scope.
const dataset = buildOpenSrpDataset({
  districts: 2,
  facilitiesPerDistrict: 2,
  villagesPerFacility: 12,
  patientsPerVillage: 3,
});
const scope = dataset.subtreeOf(PERSONAS.worker.facility);
const patientsInScope = dataset.patientsIn(scope);
const village = scope[1]!;
const ROLES = [
  'ANDROID_CLIENT',
  'GET_PATIENT',
  'GET_OBSERVATION',
  'PUT_PATIENT',
  'PUT_OBSERVATION',
  'GET_PRACTITIONER',
  'GET_LOCATION',
];
const PAGE = 5;

describe('two replicas behind nginx, round robin', () => {
  let fhir: LocalFhirServer;
  let issuer: LocalIssuer;
  let app: AppDir;
  let replicas: GatewayProcess[] = [];
  let lb: LoadBalancer;
  let token: string;
  const key = randomBytes(32).toString('base64');
  const env = (pagingKey: string) => ({
    PROXY_TO: fhir.baseUrl,
    TOKEN_ISSUER: issuer.issuerUrl,
    ACCESS_CHECKER: 'permission',
    ALLOWED_QUERIES_FILE: 'resources/opensrp_allowed_queries.json',
    PAGING_LINK_KEY: pagingKey,
    TRUST_PROXY: 'true',
    PROXY_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });

  before(async () => {
    fhir = await startFhirServer({ seed: dataset.resources, paging: 'hapi' });
    issuer = await startIssuer({ realm: 'opensrp' });
    app = layoutApp('link');
    replicas = await Promise.all([startGatewayProcess(app, env(key)), startGatewayProcess(app, env(key))]);
    lb = await startLoadBalancer(replicas.map((r) => r.port));
    token = await issuer.mint({
      sub: PERSONAS.worker.sub,
      fhir_core_app_id: APP_IDS.Location,
      realm_access: { roles: ROLES },
    });
  });
  after(async () => {
    await lb?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    app?.remove();
    await fhir?.close();
    await issuer?.close();
  });

  const replicaOf = (served: Served) => replicas.findIndex((r) => served.upstream === `127.0.0.1:${r.port}`);

  /** GET through the load balancer, with the worker's token. */
  function get(pathAndQuery: string): Promise<RawResponse> {
    return send(lb.url, { path: pathAndQuery, headers: bearer(token) });
  }

  /** Follows `next` from the first page to the last; every link must point at the load balancer. */
  async function syncAll(type: string): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let target: string | undefined = `/fhir/${type}?_count=${PAGE}`;
    let pages = 0;
    while (target !== undefined) {
      const response = await get(target);
      assert.equal(response.status, 200, `${target}: ${response.text.slice(0, 400)}`);
      const bundle = response.json() as unknown as Bundle;
      for (const entry of bundle.entry ?? []) ids.push(entry.resource!.id!);
      const next = bundle.link?.find((l) => l.relation === 'next')?.url;
      if (next !== undefined)
        assert.ok(next.startsWith(`${lb.url}/fhir`), `a link to the load balancer: ${next}`);
      target = next === undefined ? undefined : next.slice(lb.url.length);
      pages++;
      assert.ok(pages <= 100, 'paging ends');
    }
    return { ids, pages };
  }

  test('an Android sync follows every page of every type across both replicas', async () => {
    const mark = (await lb.served()).length;
    const details = await get(`/PractitionerDetail?keycloak-uuid=${PERSONAS.worker.sub}`);
    assert.equal(details.status, 200, details.text.slice(0, 400));

    const patients = await syncAll('Patient');
    assert.equal(patients.pages, Math.ceil(patientsInScope.length / PAGE));
    assert.deepEqual(patients.ids.sort(), [...patientsInScope].sort());
    const observations = await syncAll('Observation');
    assert.deepEqual(
      observations.ids.sort(),
      patientsInScope.map((p) => `obs-${p.slice(4)}`).sort(),
      'the observations of the worker’s patients, and no other',
    );

    const sent = 1 + patients.pages + observations.pages;
    const served = (await lb.served(mark + sent)).slice(mark);
    assert.ok(served.every((s) => s.status === 200));
    const continuations = served.flatMap((s, i) =>
      s.uri.includes('_getpages=') ? [{ s, before: served[i - 1]! }] : [],
    );
    assert.ok(continuations.length >= patients.pages - 1 + observations.pages - 1);
    const crossed = continuations.filter(({ s, before }) => replicaOf(s) !== replicaOf(before));
    assert.ok(crossed.length > 0, 'a link handed out by one replica was followed on the other');
    assert.deepEqual(
      new Set(continuations.map(({ s }) => replicaOf(s))),
      new Set([0, 1]),
      'both replicas served continuation pages',
    );
  });

  test('uploads (transactions) go through both replicas, and either serves what the other wrote', async () => {
    const mark = (await lb.served()).length;
    const uploaded: Resource[] = [];
    for (let i = 0; i < 2; i++) {
      const { patient, observation } = registration();
      const response = await send(lb.url, {
        method: 'POST',
        path: '/fhir/',
        headers: bearer(token, { 'content-type': 'application/fhir+json' }),
        body: JSON.stringify({
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [patient, observation].map((resource) => ({
            resource,
            request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
          })),
        }),
      });
      assert.equal(response.status, 200, response.text.slice(0, 400));
      const entries = (response.json() as unknown as Bundle).entry ?? [];
      assert.equal(entries.length, 2);
      for (const entry of entries) assert.match(entry.response?.status ?? '', /^20[01]\b/, 'created');
      uploaded.push(patient, observation);
    }
    const posts = (await lb.served(mark + 2)).slice(mark).filter((s) => s.method === 'POST');
    assert.deepEqual(new Set(posts.map(replicaOf)), new Set([0, 1]), 'each replica took one upload');

    for (const resource of uploaded) {
      for (let i = 0; i < 2; i++) {
        const read = await get(`/fhir/${resource.resourceType}/${resource.id}`);
        assert.equal(read.status, 200, read.text.slice(0, 400));
      }
    }
    const synced = await syncAll('Patient');
    for (const resource of uploaded.filter((r) => r.resourceType === 'Patient')) {
      assert.ok(synced.ids.includes(resource.id!), `${resource.id} is in the next sync`);
    }
  });

  test('a replica with another PAGING_LINK_KEY refuses the links the others hand out', async () => {
    const first = await get(`/fhir/Patient?_count=${PAGE}`);
    const next = (first.json() as unknown as Bundle).link?.find((l) => l.relation === 'next')?.url;
    assert.ok(next, 'a next link');
    const path = next.slice(lb.url.length);
    const outsider = await startGatewayProcess(app, env(randomBytes(32).toString('base64')));
    try {
      const refused = await send(outsider.url, { path, headers: bearer(token) });
      assert.equal(refused.status, 403, refused.text.slice(0, 400));
      assert.match(refused.text, /paging link/i);
      const accepted = await send(replicas[0]!.url, { path, headers: bearer(token) });
      assert.equal(accepted.status, 200, 'the same link is good on a replica with the shared key');
    } finally {
      await outsider.stop();
    }
  });
});

/** A Patient and an Observation as the app creates them for the worker's village. */
function registration(): { patient: Patient; observation: Observation } {
  const tags = [
    { system: TAG_SYSTEMS.location, code: village },
    { system: TAG_SYSTEMS.organisation, code: PERSONAS.worker.organizationId },
    { system: TAG_SYSTEMS.careTeam, code: PERSONAS.worker.careTeamId },
  ];
  const patient: Patient = {
    resourceType: 'Patient',
    id: randomUUID(),
    meta: { tag: tags },
    gender: 'female',
  };
  const observation: Observation = {
    resourceType: 'Observation',
    id: randomUUID(),
    meta: { tag: tags },
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
    subject: { reference: `Patient/${patient.id}` },
    valueQuantity: { value: 58, unit: 'kg' },
  };
  return { patient, observation };
}
