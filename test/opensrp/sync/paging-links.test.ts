/**
 * Links the gateway hands to clients never carry the params the gateway added itself: servers that
 * echo a search's params into its paging links (GCP, the local server) would otherwise hand an
 * Android user their whole `_tag` narrowing, tens of KB for a large assignment (issue 7).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Location, Patient } from '@medplum/fhirtypes';
import { bearer, send } from '../../support/http.js';
import { TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import { assignedTo, type SyncStack, searchesOf, startSyncStack, tagValuesOf } from './sync-stack.js';

const VILLAGES = 1000;
const PATIENTS = 23;

describe('paging links of a user assigned 1,000 locations', () => {
  let s: SyncStack;
  let token: string;
  before(async () => {
    const villages = Array.from({ length: VILLAGES }, (_, i) => `pl-village-${i + 1}`);
    const locations: Location[] = villages.map((id) => ({
      resourceType: 'Location',
      id,
      partOf: { reference: 'Location/pl-facility' },
    }));
    const patients: Patient[] = Array.from({ length: PATIENTS }, (_, i) => ({
      resourceType: 'Patient',
      id: `pl-patient-${i + 1}`,
      gender: i % 2 === 0 ? 'female' : 'male',
      meta: { tag: [{ system: TAG_SYSTEMS.location, code: villages[(i * 37) % VILLAGES]! }] },
    }));
    const outside: Patient = {
      resourceType: 'Patient',
      id: 'pl-outside',
      meta: { tag: [{ system: TAG_SYSTEMS.location, code: 'loc-d2-f1' }] },
    };
    s = await startSyncStack({
      seed: [
        ...assignedTo('paging', 'pl-facility'),
        { resourceType: 'Location', id: 'pl-facility' },
        ...locations,
        ...patients,
        outside,
      ],
    });
    token = await s.token({ sub: 'kc-paging' });
  });
  after(() => s.close());

  /** Follows `next` from `first` to the end; returns the ids seen and every link handed out. */
  async function follow(first: string): Promise<{ ids: string[]; links: string[]; pages: number }> {
    const ids: string[] = [];
    const links: string[] = [];
    let url: string | undefined = first;
    let pages = 0;
    while (url !== undefined) {
      assert.ok(url.startsWith(s.stack.fhirBase), `a link to the gateway: ${url.slice(0, 120)}`);
      const target = new URL(url);
      s.fhir.clearRequests();
      const response = await send(s.stack.gatewayUrl, {
        path: `${target.pathname}${target.search}`,
        headers: bearer(token),
      });
      assert.equal(response.status, 200, response.text.slice(0, 500));
      // Every page is narrowed again upstream.
      const searches = searchesOf(s.received(), 'Patient');
      assert.equal(searches.length, 1);
      assert.equal(tagValuesOf(searches[0]!).filter((v) => v.split(',').length > VILLAGES).length, 1);
      const bundle = response.json() as unknown as Bundle<Patient>;
      for (const entry of bundle.entry ?? []) ids.push(entry.resource!.id!);
      for (const link of bundle.link ?? []) links.push(link.url);
      url = bundle.link?.find((l) => l.relation === 'next')?.url;
      pages++;
      assert.ok(pages <= PATIENTS, 'paging ends');
    }
    return { ids, links, pages };
  }

  test('follows every next link to the end; no link carries an injected _tag', async () => {
    const { ids, links, pages } = await follow(`${s.stack.fhirBase}/Patient?_count=5`);
    assert.equal(pages, Math.ceil(PATIENTS / 5));
    assert.deepEqual(
      ids.sort(),
      Array.from({ length: PATIENTS }, (_, i) => `pl-patient-${i + 1}`).sort(),
    );
    assert.ok(links.length >= pages);
    for (const link of links) {
      assert.equal(new URL(link).searchParams.has('_tag'), false, link.slice(0, 200));
      assert.ok(link.length < 500, `a short link: ${link.length} characters`);
    }
  });

  test("the client's own params, _tag included, stay in the links", async () => {
    const ownTag = `${TAG_SYSTEMS.location}|pl-village-1`;
    const first = `${s.stack.fhirBase}/Patient?gender=female&_count=2&_tag=${encodeURIComponent(ownTag)}`;
    const response = await send(s.stack.gatewayUrl, {
      path: new URL(first).pathname + new URL(first).search,
      headers: bearer(token),
    });
    assert.equal(response.status, 200, response.text.slice(0, 500));
    const self = (response.json() as unknown as Bundle).link?.find((l) => l.relation === 'self')?.url;
    assert.ok(self, 'a self link');
    const params = new URL(self).searchParams;
    assert.equal(params.get('gender'), 'female');
    assert.deepEqual(params.getAll('_tag'), [ownTag]);
  });

  test('the Location header of a write is rewritten the same way (no injected params)', async () => {
    // A plain create: nothing injected, the Location points at the gateway.
    const response = await s.call(token, 'Patient', {
      method: 'POST',
      body: {
        resourceType: 'Patient',
        meta: { tag: [{ system: TAG_SYSTEMS.location, code: 'pl-village-1' }] },
      },
    });
    assert.equal(response.status, 201, response.text);
    assert.ok(String(response.headers.location).startsWith(`${s.stack.fhirBase}/Patient/`));
  });
});
